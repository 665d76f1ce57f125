/* Unit tests for cmdscan: which files a gate command executes. */
#include "unit.h"
#include "tree/cmdscan.h"
#include "base/buf.h"

/* Each case: a gate command and the executed paths, "|"-joined in order. */
static const struct {
	const char *cmd, *want;
} cases[] = {
	/* scripts run by an interpreter or as a program */
	{"sh test.sh", "test.sh"},
	{"bash ci.sh", "ci.sh"},
	{"bash -e -o pipefail ci.sh --fast", "ci.sh"},
	{"python3 check.py", "check.py"},
	{"python3.11 -W error -B check.py arg.py", "check.py"},
	{"python3 -Werror check.py", "check.py"},
	{"node run.js", "run.js"},
	{"node --require ./hook.js run.js", "run.js"},
	{"make -f test.mk", "test.mk"},
	{"make -C sub --file=x.mk all", "sub/x.mk"},
	{"make -ftest.mk", "test.mk"},
	{"./run-tests", "run-tests"},
	{"ci/check --all", "ci/check"},
	{"perl t.pl", "t.pl"},
	{"ruby -Ilib t.rb", "t.rb"},
	{"awk -f prog.awk data.txt", "prog.awk"},
	{". ./env.sh && ./go", "env.sh|go"},
	{"source lib.sh", "lib.sh"},
	{"sh <test.sh", "test.sh"},
	{"python3 - <check.py", "check.py"},
	/* compilers' inputs, files only read, arguments not run */
	{"cc -Wall -o t main.c && ./t", "t"},
	{"gcc main.c -o t; ./t", "t"},
	{"grep -q 'def add' calc.py && python3 -B -c 'import calc'", ""},
	{"n=$(wc -l <f); test \"$n\" -gt 3", ""},
	{"python3 -m pytest -q tests/test_calc.py", ""},
	{"node -e 'require(\"./x.js\")'", ""},
	{"make test", ""},
	{"cat calc.py | grep add", ""},
	{"diff -u expected.txt out.txt", ""},
	/* wrappers, nesting, cd */
	{"timeout 60 sh test.sh", "test.sh"},
	{"env A=1 B=2 python3 check.py", "check.py"},
	{"FOO=1 ./t.sh", "t.sh"},
	{"nice -n 5 time ./bench", "bench"},
	{"sh -c 'sh inner.sh'", "inner.sh"},
	{"bash -ec \"cd sub && ./x\"", "sub/x"},
	{"out=$(sh gen.sh) && echo $out", "gen.sh"},
	{"cd sub && sh test.sh", "sub/test.sh"},
	{"cd $D && sh test.sh", ""},
	{"if ./check.sh; then echo ok; fi", "check.sh"},
	{"! ./fails.sh", "fails.sh"},
	{"for f in a b; do echo $f; done", ""},
	/* never guessed, never outside */
	{"sh $SCRIPT", ""},
	{"sh \"$DIR/test.sh\"", ""},
	{"sh ../up.sh", ""},
	{"/usr/bin/env python3 /abs/check.py", ""},
	{"sh tests/*.sh", ""},
	{"sh 'odd name.sh'", "odd name.sh"},
	{"sh test.sh # sh comment.sh", "test.sh"},
	{"cat <<EOF | sh\nsh not-run.sh\nEOF\nsh after.sh", "after.sh"},
	{"sh ./a.sh; sh a.sh", "a.sh"},
};

TEST(table)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strlist got = {NULL, 0};
		struct buf b = BUF_INIT;
		cmdscan_executed(cases[i].cmd, &got);
		for (size_t k = 0; k < got.n; k++)
			buf_addf(&b, "%s%s", k ? "|" : "", got.v[k]);
		if (strcmp(b.s ? b.s : "", cases[i].want)) {
			fprintf(stderr, "case %zu `%s`: got \"%s\", expected \"%s\"\n", i,
				cases[i].cmd, b.s ? b.s : "", cases[i].want);
			unit_cur_failed = 1;
		}
		buf_release(&b);
		strlist_clear(&got);
	}
}

TEST(unterminated_input_is_safe)
{
	const char *bad[] = {"sh 'open", "echo $(sh x.sh", "sh \"a",  "`",	   "$(",
			     "<",	 "sh \\",	   "make -f", "python3 -W"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct strlist got = {NULL, 0};
		cmdscan_executed(bad[i], &got);
		strlist_clear(&got);
	}
	CHECK(1);
}

int main(void)
{
	RUN(table);
	RUN(unterminated_input_is_safe);
	return unit_done();
}
