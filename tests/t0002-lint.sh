#!/bin/sh
# The house rules in files: `make lint` (layering, sizes, clang-format,
# banned functions, clang-tidy) passes on the tree, and the layering check
# fails, naming the file, when a lower folder includes a higher one.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$TEST_DIR/.." && pwd)

test_expect_success 'make lint passes from the repository root' '
	(cd "$ROOT" && make -s lint) >lint.out 2>&1 || { cat lint.out; false; } &&
	grep -qx "lint: clean" lint.out
'

test_expect_success 'a base/ file including cli/ui.h fails the layering check' '
	cp -R "$ROOT/src" src &&
	python3 "$ROOT/tools/layers.py" src >before.out &&
	printf "#include \"cli/ui.h\"\n" >>src/base/buf.c &&
	! python3 "$ROOT/tools/layers.py" src >after.out &&
	grep -q "^src/base/buf.c:[0-9]*: base/ includes \"cli/ui.h\", a folder above it" after.out &&
	test "$(grep -c . after.out)" = 2
'

test_done
