/* Unit tests for src/edits.c: parsing replies, applying edits, path safety. */
#include "unit.h"
#include "actor/edits.h"

#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpl[] = "/tmp/loopgate-edits.XXXXXX";
static char *top;		/* holds tree/ and outside/ */
static char tree[512], outside[512];

static void put(const char *dir, const char *rel, const char *content)
{
	char *p = xasprintf("%s/%s", dir, rel);
	FILE *f = fopen(p, "wb");
	if (!f) {
		perror(p);
		exit(2);
	}
	fwrite(content, 1, strlen(content), f);
	fclose(f);
	free(p);
}

/* The file's content, or "(missing)"; the result is static. */
static const char *get(const char *dir, const char *rel)
{
	static struct buf b = BUF_INIT;
	char *p = xasprintf("%s/%s", dir, rel);
	buf_reset(&b);
	if (buf_read_file(&b, p) < 0)
		buf_sets(&b, "(missing)");
	free(p);
	return b.s;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *w)
{
	(void)st; (void)flag; (void)w;
	return remove(p);
}

/* A fresh tree/ and outside/ for each test. */
static void fresh(void)
{
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (mkdir(top, 0700) < 0 || mkdir(tree, 0755) < 0 ||
	    mkdir(outside, 0755) < 0) {
		perror("mkdir");
		exit(2);
	}
	put(tree, "../outside/secret", "untouched\n");
}

/* Parses reply, applies it to the tree, returns the list (caller releases). */
static struct edit_list run(const char *reply, struct buf *problems)
{
	struct edit_list l = EDIT_LIST_INIT;
	edits_parse(reply, strlen(reply), &l, problems);
	edits_apply(tree, &l);
	return l;
}

/* ---- parsing ---- */

TEST(parse_fenced_with_language_tag)
{
	const char *r = "Sure, here is the fix.\n\n"
		"src/a.c\n"
		"```c\n"
		"<<<<<<< SEARCH\n"
		"int x = 1;\n"
		"=======\n"
		"int x = 2;\n"
		">>>>>>> REPLACE\n"
		"```\n"
		"That should do it.\n";
	struct edit_list l = EDIT_LIST_INIT;
	struct buf pb = BUF_INIT;
	CHECK_INT(edits_parse(r, strlen(r), &l, &pb), 1);
	CHECK_INT(l.n, 1);
	CHECK_INT(l.v[0].kind, EDIT_REPLACE);
	CHECK_STR(l.v[0].path, "src/a.c");
	CHECK_STR(l.v[0].search, "int x = 1;\n");
	CHECK_STR(l.v[0].replace, "int x = 2;\n");
	CHECK_INT(l.v[0].reply_line, 5);
	CHECK_INT(l.v[0].status, EDIT_PENDING);
	CHECK_STR(pb.s, "");
	edit_list_release(&l);
	buf_release(&pb);
}

TEST(parse_fence_around_path_and_decorated_paths)
{
	const char *r = "```\n"
		"`src/b.c`\n"
		"<<<<<<< SEARCH\n"
		"a\n"
		"=======\n"
		">>>>>>> REPLACE\n"
		"```\n"
		"**src/c.py**\n"
		"```python\n"
		"<<<<<<< SEARCH\n"
		"=======\n"
		"print(1)\n"
		">>>>>>> REPLACE\n"
		"```\n"
		"### lib/d.go\n"
		"<<<<<<< SEARCH\n"
		"x\n"
		"=======\n"
		"y\n"
		">>>>>>> REPLACE\n"
		"Now edit `e/f.rs`:\n"
		"<<<<<<< SEARCH\n"
		"=======\n"
		"fn main() {}\n"
		">>>>>>> REPLACE\n";
	struct edit_list l = EDIT_LIST_INIT;
	struct buf pb = BUF_INIT;
	CHECK_INT(edits_parse(r, strlen(r), &l, &pb), 4);
	CHECK_STR(l.v[0].path, "src/b.c");
	CHECK_STR(l.v[0].search, "a\n");
	CHECK_STR(l.v[0].replace, "");
	CHECK_STR(l.v[1].path, "src/c.py");
	CHECK_STR(l.v[1].search, "");
	CHECK_STR(l.v[1].replace, "print(1)\n");
	CHECK_STR(l.v[2].path, "lib/d.go");
	CHECK_STR(l.v[3].path, "e/f.rs");
	CHECK_STR(pb.s, "");
	edit_list_release(&l);
	buf_release(&pb);
}

TEST(parse_crlf_and_miscounted_markers)
{
	const char *r = "src/a.c\r\n"
		"<<<<<< SEARCH  \r\n"
		"one  \r\n"
		"two\r\n"
		"=========\r\n"
		"three\r\n"
		">>>>> REPLACE\t\r\n"
		"\r\n"
		"<<<<<<<<< FILE   new.txt  \r\n"
		"hello\r\n"
		">>>>>>>> END\r\n";
	struct edit_list l = EDIT_LIST_INIT;
	struct buf pb = BUF_INIT;
	CHECK_INT(edits_parse(r, strlen(r), &l, &pb), 2);
	CHECK_STR(l.v[0].path, "src/a.c");
	/* CR gone, other trailing whitespace of content kept */
	CHECK_STR(l.v[0].search, "one  \ntwo\n");
	CHECK_STR(l.v[0].replace, "three\n");
	CHECK_INT(l.v[1].kind, EDIT_WHOLE);
	CHECK_STR(l.v[1].path, "new.txt");
	CHECK_STR(l.v[1].replace, "hello\n");
	CHECK_INT(l.v[1].reply_line, 9);
	CHECK_STR(pb.s, "");
	edit_list_release(&l);
	buf_release(&pb);
}

TEST(parse_ten_markers_is_content_and_four_is_not_marker)
{
	const char *r = "a.c\n"
		"<<<<<<< SEARCH\n"
		"<<<<<<<<<< SEARCH\n"
		"====\n"
		"=======\n"
		"==========\n"
		">>>>>>> REPLACE\n";
	struct edit_list l = EDIT_LIST_INIT;
	CHECK_INT(edits_parse(r, strlen(r), &l, NULL), 1);
	CHECK_STR(l.v[0].search, "<<<<<<<<<< SEARCH\n====\n");
	CHECK_STR(l.v[0].replace, "==========\n");
	edit_list_release(&l);
}

TEST(parse_multiple_blocks_same_file_path_reused)
{
	const char *r = "src/a.c\n"
		"<<<<<<< SEARCH\n"
		"a\n"
		"=======\n"
		"b\n"
		">>>>>>> REPLACE\n"
		"<<<<<<< SEARCH\n"
		"c\n"
		"=======\n"
		"d\n"
		">>>>>>> REPLACE\n";
	struct edit_list l = EDIT_LIST_INIT;
	struct buf pb = BUF_INIT;
	CHECK_INT(edits_parse(r, strlen(r), &l, &pb), 2);
	CHECK_STR(l.v[0].path, "src/a.c");
	CHECK_STR(l.v[1].path, "src/a.c");
	CHECK_STR(l.v[1].search, "c\n");
	CHECK_INT(l.v[1].reply_line, 7);
	CHECK_STR(pb.s, "");
	edit_list_release(&l);
	buf_release(&pb);
}

TEST(parse_malformed_blocks_exact_problems)
{
	const char *r = "<<<<<<< SEARCH\n"		/* 1: no path */
		"x\n"
		"=======\n"
		"y\n"
		">>>>>>> REPLACE\n"
		"Here is the fix:\n"			/* 6 */
		"<<<<<<< SEARCH\n"			/* 7: prose */
		"x\n"
		"=======\n"
		">>>>>>> REPLACE\n"
		"src/a.c\n"				/* 11 */
		"<<<<<<< SEARCH\n"			/* 12: no ======= */
		"x\n"
		">>>>>>> REPLACE\n"
		"src/ok.c\n"				/* 15 */
		"<<<<<<< SEARCH\n"			/* 16: fine */
		"p\n"
		"=======\n"
		"q\n"
		">>>>>>> REPLACE\n"
		"src/b.c\n"				/* 21 */
		"<<<<<<< SEARCH\n"			/* 22: never closed */
		"x\n"
		"=======\n"
		"y\n"
		"<<<<<<< FILE\n"			/* 26: no path */
		"z\n"
		">>>>>>> END\n"
		"<<<<<<< FILE src/c.c\n"		/* 29: unterminated */
		"w\n";
	struct edit_list l = EDIT_LIST_INIT;
	struct buf pb = BUF_INIT;
	CHECK_INT(edits_parse(r, strlen(r), &l, &pb), 1);
	CHECK_STR(l.v[0].path, "src/ok.c");
	CHECK_STR(pb.s,
		"reply line 1: SEARCH block has no path line before it\n"
		"reply line 7: SEARCH block has no path line (the line before "
		"it, \"Here is the fix:\", is not a path)\n"
		"reply line 12: SEARCH block for src/a.c has no ======= line\n"
		"reply line 22: SEARCH block for src/b.c is not terminated (no "
		">>>>>>> REPLACE line)\n"
		"reply line 26: FILE block has no path\n"
		"reply line 29: FILE block for src/c.c is not terminated (no "
		">>>>>>> END line)\n");
	edit_list_release(&l);
	buf_release(&pb);
}

TEST(parse_single_word_path_lines)
{
	const char *r = "Makefile\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n"
		"Next:\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n"
		"**src/a.c**:\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n";
	struct edit_list l = EDIT_LIST_INIT;
	struct buf pb = BUF_INIT;
	CHECK_INT(edits_parse(r, strlen(r), &l, &pb), 2);
	CHECK_STR(l.v[0].path, "Makefile");
	CHECK_STR(l.v[1].path, "src/a.c");
	CHECK_STR(pb.s, "reply line 8: SEARCH block has no path line (the line "
		  "before it, \"Next:\", is not a path)\n");
	edit_list_release(&l);
	buf_release(&pb);
}

TEST(parse_whole_file_keeps_marker_like_lines)
{
	const char *r = "<<<<<<< FILE docs/conflict.md\n"
		"```\n"
		"<<<<<<< SEARCH\n"
		"=======\n"
		">>>>>>> REPLACE\n"
		"```\n"
		">>>>>>> END\n"
		"trailing prose\n";
	struct edit_list l = EDIT_LIST_INIT;
	struct buf pb = BUF_INIT;
	CHECK_INT(edits_parse(r, strlen(r), &l, &pb), 1);
	CHECK_INT(l.v[0].kind, EDIT_WHOLE);
	CHECK_STR(l.v[0].path, "docs/conflict.md");
	CHECK_STR(l.v[0].replace, "```\n<<<<<<< SEARCH\n=======\n"
		  ">>>>>>> REPLACE\n```\n");
	CHECK_STR(pb.s, "");
	edit_list_release(&l);
	buf_release(&pb);
}

TEST(parse_text_without_blocks)
{
	const char *r = "I looked at the code; nothing to change.\n=======\n";
	struct edit_list l = EDIT_LIST_INIT;
	struct buf pb = BUF_INIT;
	CHECK_INT(edits_parse(r, strlen(r), &l, &pb), 0);
	CHECK_INT(l.n, 0);
	CHECK_STR(pb.s, "");
	buf_release(&pb);
}

/* ---- applying ---- */

TEST(apply_exact_keeps_other_bytes)
{
	struct edit_list l;
	struct buf fb = BUF_INIT;
	fresh();
	put(tree, "a.c", "x\r\nint a;\nint b;\nz");
	l = run("a.c\n<<<<<<< SEARCH\nint b;\n=======\nlong b;\nlong c;\n"
		">>>>>>> REPLACE\n", NULL);
	CHECK_INT(l.v[0].status, EDIT_APPLIED);
	CHECK_INT(l.v[0].file_line, 3);
	CHECK_STR(get(tree, "a.c"), "x\r\nint a;\nlong b;\nlong c;\nz");
	edits_feedback(&l, &fb);
	CHECK_STR(fb.s, "applied: a.c (search/replace, line 3)\n");
	edit_list_release(&l);
	buf_release(&fb);
}

TEST(apply_exact_requires_line_start)
{
	struct edit_list l;
	fresh();
	put(tree, "a.c", "foo(b);\nb);\n");
	l = run("a.c\n<<<<<<< SEARCH\nb);\n=======\nc);\n>>>>>>> REPLACE\n", NULL);
	CHECK_INT(l.v[0].status, EDIT_APPLIED);
	CHECK_STR(get(tree, "a.c"), "foo(b);\nc);\n");
	edit_list_release(&l);
}

TEST(apply_whitespace_tolerant)
{
	struct edit_list l;
	fresh();
	put(tree, "a.c", "int a;   \n\tfoo();  \nend\n");
	put(tree, "w.c", "a\r\nb\r\nc\r\n");
	put(tree, "n.c", "a\nlast");
	l = run("a.c\n<<<<<<< SEARCH\nint a;\n\tfoo();\n=======\nint a;\n\tbar();\n"
		">>>>>>> REPLACE\n"
		"w.c\n<<<<<<< SEARCH\nb\n=======\nB\nB2\n>>>>>>> REPLACE\n"
		"n.c\n<<<<<<< SEARCH\nlast\n=======\nLAST\n>>>>>>> REPLACE\n", NULL);
	CHECK_INT(l.v[0].status, EDIT_APPLIED);
	CHECK_STR(get(tree, "a.c"), "int a;\n\tbar();\nend\n");
	CHECK_INT(l.v[1].status, EDIT_APPLIED);
	CHECK_INT(l.v[1].file_line, 2);
	CHECK_STR(get(tree, "w.c"), "a\r\nB\r\nB2\r\nc\r\n");
	CHECK_INT(l.v[2].status, EDIT_APPLIED);
	CHECK_STR(get(tree, "n.c"), "a\nLAST");
	edit_list_release(&l);
}

TEST(apply_in_order_later_sees_earlier)
{
	struct edit_list l;
	fresh();
	put(tree, "a.c", "one\ntwo\n");
	l = run("a.c\n<<<<<<< SEARCH\none\n=======\nuno\n>>>>>>> REPLACE\n"
		"a.c\n<<<<<<< SEARCH\nuno\ntwo\n=======\nuno\ndos\n>>>>>>> REPLACE\n",
		NULL);
	CHECK_INT(l.v[0].status, EDIT_APPLIED);
	CHECK_INT(l.v[1].status, EDIT_APPLIED);
	CHECK_STR(get(tree, "a.c"), "uno\ndos\n");
	edit_list_release(&l);
}

TEST(apply_no_match_shows_nearest_lines)
{
	struct edit_list l;
	struct buf fb = BUF_INIT;
	fresh();
	put(tree, "m.c", "l1\nl2\nl3\nl4\nint f(void)\n{\n\treturn 1;\n}\n"
	    "l9\nl10\nl11\nl12\nl13\nl14\n");
	l = run("m.c\n<<<<<<< SEARCH\nint f(void)\n{\n\treturn 2;\n}\n=======\n"
		"x\n>>>>>>> REPLACE\n", NULL);
	CHECK_INT(l.v[0].status, EDIT_NO_MATCH);
	CHECK_STR(l.v[0].message,
		"the SEARCH text is not in m.c, not even ignoring trailing "
		"whitespace; the most similar lines of the file are 2-11:\n"
		" 2 | l2\n 3 | l3\n 4 | l4\n 5 | int f(void)\n 6 | {\n"
		" 7 | \treturn 1;\n 8 | }\n 9 | l9\n10 | l10\n11 | l11\n"
		"SEARCH line 3 differs from file line 7; the SEARCH line is:\n"
		"\treturn 2;");
	CHECK_STR(get(tree, "m.c"), "l1\nl2\nl3\nl4\nint f(void)\n{\n\treturn 1;"
		  "\n}\nl9\nl10\nl11\nl12\nl13\nl14\n");
	edits_feedback(&l, &fb);
	CHECK_CONTAINS(fb.s, "not applied: m.c (search/replace, reply line 2): "
		       "no match: the SEARCH text is not in m.c");
	CHECK_CONTAINS(fb.s, " 7 | \treturn 1;\n");
	edit_list_release(&l);
	buf_release(&fb);
}

TEST(apply_no_match_nearest_by_similar_first_line)
{
	struct edit_list l;
	fresh();
	put(tree, "s.py", "import os\n\ndef handler(event, context):\n    pass\n");
	l = run("s.py\n<<<<<<< SEARCH\ndef handler(event):\n=======\nx\n"
		">>>>>>> REPLACE\n", NULL);
	CHECK_INT(l.v[0].status, EDIT_NO_MATCH);
	CHECK_CONTAINS(l.v[0].message, "lines of the file are 1-4:\n");
	CHECK_CONTAINS(l.v[0].message, "3 | def handler(event, context):\n");
	edit_list_release(&l);
	fresh();
	put(tree, "s.py", "alpha\nbeta\n");
	l = run("s.py\n<<<<<<< SEARCH\nzzz\n=======\nx\n>>>>>>> REPLACE\n", NULL);
	CHECK_STR(l.v[0].message, "the SEARCH text is not in s.py, not even "
		  "ignoring trailing whitespace; none of its lines occur in the "
		  "file (2 lines)");
	edit_list_release(&l);
}

TEST(apply_ambiguous_lists_lines)
{
	struct edit_list l;
	fresh();
	put(tree, "a.c", "x\ny\nx\ny\nq\nx  \ny\n");
	l = run("a.c\n<<<<<<< SEARCH\nx\ny\n=======\nz\n>>>>>>> REPLACE\n", NULL);
	CHECK_INT(l.v[0].status, EDIT_AMBIGUOUS);
	CHECK_STR(l.v[0].message, "the SEARCH text occurs 2 times in a.c, at "
		  "lines 1, 3; include more of the surrounding lines so that it "
		  "matches exactly once");
	edit_list_release(&l);
	/* only the whitespace-tolerant pass finds several */
	put(tree, "b.c", "x \ny\nx\t\ny\n");
	l = run("b.c\n<<<<<<< SEARCH\nx\ny\n=======\nz\n>>>>>>> REPLACE\n", NULL);
	CHECK_INT(l.v[0].status, EDIT_AMBIGUOUS);
	CHECK_CONTAINS(l.v[0].message, "occurs 2 times in b.c (ignoring trailing "
		       "whitespace), at lines 1, 3;");
	CHECK_STR(get(tree, "b.c"), "x \ny\nx\t\ny\n");
	edit_list_release(&l);
}

TEST(apply_create_and_whole_file)
{
	struct edit_list l;
	struct stat st;
	struct buf fb = BUF_INIT;
	char *p;
	fresh();
	put(tree, "old.txt", "old\n");
	l = run("new/dir/f.c\n<<<<<<< SEARCH\n=======\nint main(void);\n"
		">>>>>>> REPLACE\n"
		"<<<<<<< FILE old.txt\nnew\n>>>>>>> END\n"
		"<<<<<<< FILE other/g.txt\ng\n>>>>>>> END\n", NULL);
	CHECK_INT(l.v[0].status, EDIT_APPLIED);
	CHECK_STR(get(tree, "new/dir/f.c"), "int main(void);\n");
	p = xasprintf("%s/new/dir/f.c", tree);
	CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0644);
	free(p);
	CHECK_INT(l.v[1].status, EDIT_APPLIED);
	CHECK_STR(get(tree, "old.txt"), "new\n");
	CHECK_STR(get(tree, "other/g.txt"), "g\n");
	edits_feedback(&l, &fb);
	CHECK_STR(fb.s, "applied: new/dir/f.c (search/replace with empty SEARCH: "
		  "file written)\napplied: old.txt (whole file)\n"
		  "applied: other/g.txt (whole file)\n");
	edit_list_release(&l);
	buf_release(&fb);
}

TEST(apply_empty_search_on_existing_file_refused)
{
	struct edit_list l;
	fresh();
	put(tree, "a.c", "keep\n");
	l = run("a.c\n<<<<<<< SEARCH\n=======\nnew\n>>>>>>> REPLACE\n"
		"missing.c\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n", NULL);
	CHECK_INT(l.v[0].status, EDIT_NO_MATCH);
	CHECK_CONTAINS(l.v[0].message, "the SEARCH section is empty but a.c "
		       "exists and is not empty; put the lines to replace in "
		       "SEARCH, or use a FILE block");
	CHECK_STR(get(tree, "a.c"), "keep\n");
	CHECK_INT(l.v[1].status, EDIT_NO_MATCH);
	CHECK_STR(l.v[1].message, "missing.c does not exist; to create it, leave "
		  "SEARCH empty or use a FILE block");
	CHECK_STR(get(tree, "missing.c"), "(missing)");
	edit_list_release(&l);
}

TEST(apply_keeps_mode)
{
	struct edit_list l;
	struct stat st;
	char *p;
	fresh();
	put(tree, "run.sh", "#!/bin/sh\necho a\n");
	p = xasprintf("%s/run.sh", tree);
	chmod(p, 0750);
	l = run("run.sh\n<<<<<<< SEARCH\necho a\n=======\necho b\n>>>>>>> REPLACE\n"
		"<<<<<<< FILE run.sh\n#!/bin/sh\necho c\n>>>>>>> END\n", NULL);
	CHECK_INT(l.v[0].status, EDIT_APPLIED);
	CHECK_INT(l.v[1].status, EDIT_APPLIED);
	CHECK(stat(p, &st) == 0);
	CHECK_INT(st.st_mode & 07777, 0750);
	CHECK_STR(get(tree, "run.sh"), "#!/bin/sh\necho c\n");
	free(p);
	edit_list_release(&l);
}

TEST(apply_binary_file_refused)
{
	struct edit_list l;
	char *p;
	FILE *f;
	fresh();
	p = xasprintf("%s/bin.dat", tree);
	f = fopen(p, "wb");
	fwrite("ab\0cd\n", 1, 6, f);
	fclose(f);
	l = run("bin.dat\n<<<<<<< SEARCH\nab\n=======\nxy\n>>>>>>> REPLACE\n", NULL);
	CHECK_INT(l.v[0].status, EDIT_IO_ERROR);
	CHECK_CONTAINS(l.v[0].message, "binary file (it contains NUL bytes)");
	free(p);
	edit_list_release(&l);
}

/* ---- path safety ---- */

static void expect_refused(const char *reply, const char *why)
{
	struct edit_list l = run(reply, NULL);
	CHECK_INT(l.n, 1);
	CHECK_INT(l.v[0].status, EDIT_BAD_PATH);
	CHECK_CONTAINS(l.v[0].message, why);
	CHECK_STR(get(outside, "secret"), "untouched\n");
	edit_list_release(&l);
}

TEST(apply_refuses_unsafe_paths_and_writes_nothing_outside)
{
	char *abs, *reply, *p, *q;
	fresh();
	p = xasprintf("%s/.git", tree);
	CHECK(mkdir(p, 0755) == 0);
	free(p);
	put(tree, ".git/config", "[core]\n");
	abs = xasprintf("%s/secret", outside);
	reply = xasprintf("<<<<<<< FILE %s\npwned\n>>>>>>> END\n", abs);
	expect_refused(reply, "absolute paths are refused");
	free(reply);
	expect_refused("<<<<<<< FILE ../outside/secret\npwned\n>>>>>>> END\n",
		       "'..' component");
	expect_refused("src/../../outside/secret\n<<<<<<< SEARCH\nuntouched\n"
		       "=======\npwned\n>>>>>>> REPLACE\n", "'..' component");
	expect_refused("<<<<<<< FILE .git/config\npwned\n>>>>>>> END\n",
		       "through .git");
	expect_refused("<<<<<<< FILE sub/.GIT/hooks/pre-commit\nx\n>>>>>>> END\n",
		       "through .git");
	CHECK_STR(get(tree, ".git/config"), "[core]\n");

	/* a symlink to the outside file, and one to the outside directory */
	p = xasprintf("%s/link", tree);
	CHECK(symlink(abs, p) == 0);
	q = xasprintf("%s/ldir", tree);
	CHECK(symlink(outside, q) == 0);
	expect_refused("link\n<<<<<<< SEARCH\nuntouched\n=======\npwned\n"
		       ">>>>>>> REPLACE\n", "link is a symlink to");
	expect_refused("<<<<<<< FILE link\npwned\n>>>>>>> END\n", "outside the tree");
	expect_refused("<<<<<<< FILE ldir/secret\npwned\n>>>>>>> END\n",
		       "ldir is a symlink to");
	expect_refused("<<<<<<< FILE ldir/new.txt\nx\n>>>>>>> END\n",
		       "outside the tree");
	CHECK_STR(get(outside, "new.txt"), "(missing)");
	free(p);
	free(q);
	free(abs);
}

TEST(apply_symlink_inside_tree_writes_target)
{
	struct edit_list l;
	struct stat st;
	char *p;
	fresh();
	put(tree, "real.c", "a\n");
	p = xasprintf("%s/alias.c", tree);
	CHECK(symlink("real.c", p) == 0);
	l = run("alias.c\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n", NULL);
	CHECK_INT(l.v[0].status, EDIT_APPLIED);
	CHECK_STR(get(tree, "real.c"), "b\n");
	CHECK(lstat(p, &st) == 0 && S_ISLNK(st.st_mode));
	free(p);
	edit_list_release(&l);
}

TEST(apply_directory_and_dangling_symlink_refused)
{
	char *p;
	fresh();
	p = xasprintf("%s/src", tree);
	CHECK(mkdir(p, 0755) == 0);
	free(p);
	expect_refused("<<<<<<< FILE src\nx\n>>>>>>> END\n", "src is a directory");
	p = xasprintf("%s/dangling", tree);
	CHECK(symlink("/nonexistent/loopgate/x", p) == 0);
	free(p);
	expect_refused("<<<<<<< FILE dangling\nx\n>>>>>>> END\n",
		       "dangling is a symlink that cannot be resolved");
	CHECK_STR(get(tree, "dangling"), "(missing)");
}

TEST(apply_nul_in_path_refused)
{
	static const char r[] = "src/a\0b.c\n<<<<<<< SEARCH\n=======\nx\n"
		">>>>>>> REPLACE\n";
	struct edit_list l = EDIT_LIST_INIT;
	fresh();
	CHECK_INT(edits_parse(r, sizeof(r) - 1, &l, NULL), 1);
	edits_apply(tree, &l);
	CHECK_INT(l.v[0].status, EDIT_BAD_PATH);
	CHECK_CONTAINS(l.v[0].message, "NUL byte");
	CHECK_CONTAINS(l.v[0].message, "control character");
	CHECK_STR(get(tree, "src/a"), "(missing)");
	edit_list_release(&l);
}

TEST(control_characters_in_path_refused)
{
	struct buf why = BUF_INIT;
	fresh();
	CHECK_INT(edits_check_path(tree, "a\tb.c", &why), -EPERM);
	CHECK_CONTAINS(why.s, "byte 0x09");
	CHECK_INT(edits_check_path(tree, "a\x7f.c", &why), -EPERM);
	CHECK_CONTAINS(why.s, "byte 0x7f");
	CHECK_INT(edits_check_path(tree, "a\x1b[31m.c", &why), -EPERM);
	buf_release(&why);
}

TEST(check_path_direct)
{
	struct buf why = BUF_INIT;
	char *p;
	fresh();
	p = xasprintf("%s/ok", tree);
	CHECK(mkdir(p, 0755) == 0);
	free(p);
	CHECK_INT(edits_check_path(tree, "ok/a.c", &why), 0);
	CHECK_INT(edits_check_path(tree, "./ok//b/c.c", &why), 0);
	CHECK_INT(edits_check_path(tree, "", &why), -EPERM);
	CHECK_STR(why.s, "the path is empty");
	CHECK_INT(edits_check_path(tree, "/etc/passwd", &why), -EPERM);
	CHECK_INT(edits_check_path(tree, "ok/../../x", &why), -EPERM);
	CHECK_INT(edits_check_path(tree, ".git", &why), -EPERM);
	CHECK_INT(edits_check_path(tree, "ok", &why), -EPERM);
	CHECK_STR(why.s, "ok is a directory");
	CHECK_INT(edits_check_path(tree, ".", &why), -EPERM);
	CHECK_INT(edits_check_path(tree, "..foo/x.c", &why), 0);
	buf_release(&why);
}

TEST(status_names)
{
	CHECK_STR(edit_status_name(EDIT_APPLIED), "applied");
	CHECK_STR(edit_status_name(EDIT_NO_MATCH), "no match");
	CHECK_STR(edit_status_name(EDIT_BAD_PATH), "bad path");
}

int main(void)
{
	top = mkdtemp(tmpl);
	if (!top) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(tree, sizeof(tree), "%s/tree", top);
	snprintf(outside, sizeof(outside), "%s/outside", top);
	RUN(parse_fenced_with_language_tag);
	RUN(parse_fence_around_path_and_decorated_paths);
	RUN(parse_crlf_and_miscounted_markers);
	RUN(parse_ten_markers_is_content_and_four_is_not_marker);
	RUN(parse_multiple_blocks_same_file_path_reused);
	RUN(parse_malformed_blocks_exact_problems);
	RUN(parse_single_word_path_lines);
	RUN(parse_whole_file_keeps_marker_like_lines);
	RUN(parse_text_without_blocks);
	RUN(apply_exact_keeps_other_bytes);
	RUN(apply_exact_requires_line_start);
	RUN(apply_whitespace_tolerant);
	RUN(apply_in_order_later_sees_earlier);
	RUN(apply_no_match_shows_nearest_lines);
	RUN(apply_no_match_nearest_by_similar_first_line);
	RUN(apply_ambiguous_lists_lines);
	RUN(apply_create_and_whole_file);
	RUN(apply_empty_search_on_existing_file_refused);
	RUN(apply_keeps_mode);
	RUN(apply_binary_file_refused);
	RUN(apply_refuses_unsafe_paths_and_writes_nothing_outside);
	RUN(apply_symlink_inside_tree_writes_target);
	RUN(apply_directory_and_dangling_symlink_refused);
	RUN(apply_nul_in_path_refused);
	RUN(control_characters_in_path_refused);
	RUN(check_path_direct);
	RUN(status_names);
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return unit_done();
}
