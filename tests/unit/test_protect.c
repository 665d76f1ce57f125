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
	RUN(no_protect_turns_it_all_off);
	{
		/* the only files the tests create */
		const char *made[] = { "test.sh", "check.py" };
		for (size_t i = 0; i < 2; i++) {
			char *p = xasprintf("%s/%s", tree, made[i]);
			unlink(p);
			free(p);
		}
		rmdir(tree);
	}
	return unit_done();
}
