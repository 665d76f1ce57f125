#!/bin/sh
# The fuzz harnesses' corpora replayed (fuzz/fuzz.h): every seed and every
# crash input once found (fuzz/corpus/NAME) goes through its parser again,
# under ASan and UBSan in `make check`.  Each harness runs exactly as many
# inputs as its corpus holds, and a harness that crashes fails its case.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$TEST_DIR/.." && pwd)
FUZZ_DIR=${FUZZ_DIR:-$ROOT/build/fuzz}

test_expect_success 'every harness has a driver and a non-empty corpus' '
	for src in "$ROOT"/fuzz/fuzz_*.c; do
		n=$(basename "$src" .c) &&
		test -x "$FUZZ_DIR/$n" &&
		test -n "$(ls "$ROOT/fuzz/corpus/${n#fuzz_}")" || { echo "missing: $n"; return 1; }
	done
'

for src in "$ROOT"/fuzz/fuzz_*.c; do
	n=$(basename "$src" .c)
	name=${n#fuzz_}
	test_expect_success "corpus $name replays without a crash" '
		want=$(ls "$ROOT/fuzz/corpus/$name" | wc -l) &&
		"$FUZZ_DIR/$n" "$ROOT/fuzz/corpus/$name" >out 2>err || { cat err; false; } &&
		test "$(cat out)" = "$want inputs"
	'
done

test_expect_success 'a crashing input fails the replay (the check can fail)' '
	cat >crash.c <<-\EOC &&
	#include <stdint.h>
	#include <stdlib.h>
	int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
	{
		if (n > 0 && d[0] == 0x21)
			abort();
		return 0;
	}
	EOC
	cc -I"$ROOT/fuzz" -o crash crash.c "$ROOT/fuzz/driver.c" &&
	printf "a" >ok.in && printf "!" >bad.in &&
	./crash ok.in >out && test "$(cat out)" = "1 inputs" &&
	! ./crash ok.in bad.in >out 2>&1
'

test_done
