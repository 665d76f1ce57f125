/* Unit tests for protect: default globs, gate scripts, --protect, off. */
#include "unit.h"
#include "tree/protect.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tree[] = "/tmp/loopgate-protect-XXXXXX";

static void touch(const char *rel)
{
	char *p = xasprintf("%s/%s", tree, rel);
	FILE *f = fopen(p, "w");
	if (f)
		fclose(f);
	free(p);
}

TEST(defaults_cover_tests_and_ci)
{
	CHECK(protect_is_test_path("tests/test_a.py"));
	CHECK(protect_is_test_path("tests"));	/* the dir itself: symlink swaps */
	CHECK(protect_is_test_path("test/unit/x.c"));
	CHECK(protect_is_test_path("spec/a_spec.rb"));
	CHECK(protect_is_test_path("pkg/calc_test.go"));
	CHECK(protect_is_test_path("src/test_calc.py"));
	CHECK(protect_is_test_path("calc_test.py"));
	CHECK(protect_is_test_path("web/app.test.ts"));
	CHECK(protect_is_test_path("web/app.spec.js"));
	CHECK(protect_is_test_path(".github/workflows/ci.yml"));
	CHECK(protect_is_test_path(".ci/run"));
	CHECK(!protect_is_test_path("calc.py"));
	CHECK(!protect_is_test_path("src/testing.c"));
	CHECK(!protect_is_test_path("contest/a.py"));
	CHECK(!protect_is_test_path("latest/x.py"));
}

TEST(gate_scripts_and_user_globs)
{
	struct config c;
	struct protect p = PROTECT_INIT;
	config_init(&c);
	touch("test.sh");
	touch("check.py");
	strlist_push(&c.gates, "sh test.sh && python3 ./check.py --fast");
	strlist_push(&c.gates, "make lint");
	strlist_push(&c.protect, "golden/*.txt");
	protect_init(&p, &c, tree);
	CHECK(protect_match(&p, "test.sh"));
	CHECK(protect_match(&p, "check.py"));
	CHECK(!protect_match(&p, "make"));	/* not a file in the tree */
	CHECK(protect_match(&p, "golden/out.txt"));
	CHECK(!protect_match(&p, "golden/sub/out.txt"));
	CHECK(protect_match(&p, "tests/x.py"));
	CHECK(!protect_match(&p, "calc.py"));
	protect_release(&p);
	config_release(&c);
}

TEST(compiler_inputs_and_read_files_are_not_protected)
{
	struct config c;
	struct protect p = PROTECT_INIT;
	config_init(&c);
	touch("main.c");
	touch("calc.py");
	touch("test.sh");
	strlist_push(&c.gates, "cc -Wall -o t main.c && ./t");
	strlist_push(&c.gates, "grep -q add calc.py && n=$(wc -l <calc.py)");
	protect_init(&p, &c, tree);
	CHECK(!protect_match(&p, "main.c"));
	CHECK(!protect_match(&p, "calc.py"));
	CHECK(!protect_match(&p, "t")); /* a build product, not in the tree */
	protect_release(&p);
	config_release(&c);
}

TEST(unprotect_lifts_defaults_not_user_globs)
{
	struct config c;
	struct protect p = PROTECT_INIT;
	const char *rule = NULL;
	config_init(&c);
	touch("test.sh");
	strlist_push(&c.gates, "sh test.sh");
	strlist_push(&c.protect, "golden/*.txt");
	strlist_push(&c.unprotect, "tests/test_new.py");
	strlist_push(&c.unprotect, "test.sh");
	strlist_push(&c.unprotect, "golden/*");
	protect_init(&p, &c, tree);
	CHECK(!protect_match(&p, "tests/test_new.py"));
	CHECK(protect_match(&p, "tests/test_old.py"));
	CHECK(!protect_match(&p, "test.sh"));
	CHECK(protect_match(&p, "golden/a.txt"));
	CHECK_INT(protect_reason(&p, "golden/a.txt", &rule), PROTECT_USER);
	CHECK_STR(rule, "golden/*.txt");
	CHECK_INT(protect_reason(&p, "tests/x.py", &rule), PROTECT_DEFAULT);
	CHECK_STR(rule, "tests/**");
	protect_release(&p);
	strlist_clear(&c.unprotect);
	protect_init(&p, &c, tree);
	CHECK_INT(protect_reason(&p, "test.sh", &rule), PROTECT_GATE);
	CHECK_STR(rule, "test.sh");
	protect_release(&p);
	config_release(&c);
}

TEST(no_protect_turns_it_all_off)
{
	struct config c;
	struct protect p = PROTECT_INIT;
	config_init(&c);
	c.no_protect = 1;
	strlist_push(&c.protect, "*.py");
	protect_init(&p, &c, tree);
	CHECK(!protect_match(&p, "tests/x.py"));
	CHECK(!protect_match(&p, "a.py"));
	protect_release(&p);
	config_release(&c);
}

int main(void)
{
	if (!mkdtemp(tree))
		return 1;
	RUN(defaults_cover_tests_and_ci);
	RUN(gate_scripts_and_user_globs);
	RUN(compiler_inputs_and_read_files_are_not_protected);
	RUN(unprotect_lifts_defaults_not_user_globs);
	RUN(no_protect_turns_it_all_off);
	{
		/* the only files the tests create */
		const char *made[] = {"test.sh", "check.py", "main.c", "calc.py"};
		for (size_t i = 0; i < 4; i++) {
			char *p = xasprintf("%s/%s", tree, made[i]);
			unlink(p);
			free(p);
		}
		rmdir(tree);
	}
	return unit_done();
}
