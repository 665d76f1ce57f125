/* Unit tests for plant: the mutation rules and which lines are eligible. */
#include "unit.h"
#include "judge/plant.h"

#include <stdlib.h>

/* The mutated line for s in a file named path, or NULL when none applies. */
static char *mutate(const char *path, const char *s)
{
	struct buf after = BUF_INIT;
	char *desc = NULL, *ret = NULL;
	if (plant_mutate_line(s, strlen(s), plant_source_lang(path), &after, &desc))
		ret = buf_detach(&after, NULL);
	free(desc);
	buf_release(&after);
	return ret;
}

#define CHECK_MUT(path, in, out) do { char *m_ = mutate(path, in); \
	CHECK_STR(m_, out); free(m_); } while (0)
#define CHECK_NO_MUT(path, in) do { char *m_ = mutate(path, in); \
	CHECK(m_ == NULL); free(m_); } while (0)

TEST(source_extensions)
{
	CHECK(plant_source_lang("calc.py") & PLANT_HASH);
	CHECK(plant_source_lang("src/a.c") & PLANT_SLASH);
	CHECK(plant_source_lang("x.swift"));
	CHECK(plant_source_lang("a.php") == (PLANT_HASH | PLANT_SLASH));
	CHECK(!plant_source_lang("README.md"));
	CHECK(!plant_source_lang("Makefile"));
	CHECK(!plant_source_lang("dir.c/notes"));
}

TEST(mutations_in_order)
{
	CHECK_MUT("a.py", "    return a + b", "    return a - b");
	CHECK_MUT("a.py", "    return a - b + c", "    return a - b - c");
	/* one mutation per line: the first rule that applies wins */
	CHECK_MUT("a.c", "ok = a - 1 == b;", "ok = a + 1 == b;");
	CHECK_MUT("a.c", "ok = a == b && i < 2;", "ok = a != b && i < 2;");
	CHECK_MUT("a.c", "ok = i < 2 && true;", "ok = i >= 2 && true;");
	CHECK_MUT("a.py", "ok = True and 3", "ok = False and 3");
	CHECK_MUT("a.c", "\treturn x - 1;", "\treturn x + 1;");
	CHECK_MUT("a.c", "if (a==b) return;", "if (a!=b) return;");
	CHECK_MUT("a.js", "if (a === b) f();", "if (a !== b) f();");
	CHECK_MUT("a.c", "for (i = 0; i < n; i++)", "for (i = 0; i >= n; i++)");
	CHECK_MUT("a.py", "    return True", "    return False");
	CHECK_MUT("a.js", "  ok = false;", "  ok = true;");
	CHECK_MUT("a.c", "int x[8];", "int x[9];");
	CHECK_MUT("a.go", "n := 199", "n := 200");
	CHECK_MUT("a.py", "x = 9", "x = 10");
}

TEST(what_is_left_alone)
{
	CHECK_NO_MUT("a.py", "def add(a, b):");
	CHECK_NO_MUT("a.c", "x = 1.5;");		/* a float */
	CHECK_NO_MUT("a.c", "x = 0x1F;");		/* hex */
	CHECK_NO_MUT("a.c", "utf8(s);");		/* digits in a name */
	CHECK_NO_MUT("a.c", "Vec<T> v;");		/* not ' < ' */
	CHECK_NO_MUT("a.c", "a !== b;");		/* '==' inside '!==' */
	CHECK_NO_MUT("a.py", "s = \"a + b == 3\"");	/* inside quotes */
	CHECK_NO_MUT("a.py", "f(x)  # a + b");	/* trailing comment */
	CHECK_NO_MUT("a.c", "f(x); // a + b");
	CHECK_NO_MUT("a.py", "Trueish = other");	/* not a whole word */
	CHECK_MUT("a.py", "s = 'x' + y", "s = 'x' - y");	/* code after quotes */
	CHECK_MUT("a.sh", "echo $# + 1", "echo $# - 1");	/* $# is no comment */
}

/* The sites of a whole file's content. */
static size_t sites_of(const char *path, const char *text, struct plant_site *s,
		       size_t max)
{
	size_t n = 0;
	plant_content_sites(path, text, strlen(text), s, max, &n);
	return n;
}

TEST(eligible_lines)
{
	struct plant_site s[5];
	size_t n = sites_of("calc.py",
		"# a + b\n"
		"\"\"\"Docs.\n"
		"x = 1 + 2\n"
		"\"\"\"\n"
		"\n"
		"def add(a, b):\n"
		"    return a + b\r\n"
		"y = 3\n", s, 5);
	CHECK_INT(n, 2);
	CHECK_INT(s[0].line, 7);
	CHECK_STR(s[0].before, "return a + b");
	CHECK_STR(s[0].after, "return a - b");
	CHECK_STR(s[0].mutation, "' + ' -> ' - '");
	CHECK_STR(s[0].file, "calc.py");
	/* the whole file, with only that line changed (CRLF kept) */
	CHECK_CONTAINS(s[0].content.s, "    return a - b\r\ny = 3\n");
	CHECK_CONTAINS(s[0].content.s, "x = 1 + 2\n");
	CHECK_INT(s[1].line, 8);
	plant_sites_release(s, n);

	n = sites_of("a.c",
		"/* a + b\n"
		" * 1 + 2\n"
		"   still 3 */\n"
		"#define N 4\n"
		"int f(int a) { return a + 1; } /* open\n"
		"   5 + 5 */\n"
		"// 6 + 6\n"
		"int g = 7;\n", s, 5);
	CHECK_INT(n, 2);
	CHECK_INT(s[0].line, 5);
	CHECK_STR(s[0].after, "int f(int a) { return a - 1; } /* open");
	CHECK_INT(s[1].line, 8);
	plant_sites_release(s, n);

	/* max is respected */
	n = sites_of("a.py", "a = 1\nb = 2\nc = 3\n", s, 2);
	CHECK_INT(n, 2);
	plant_sites_release(s, n);
}

int main(void)
{
	RUN(source_extensions);
	RUN(mutations_in_order);
	RUN(what_is_left_alone);
	RUN(eligible_lines);
	return unit_done();
}
