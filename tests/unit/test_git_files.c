/*
 * Unit tests for what loopgate does with git's files instead of a git
 * process: the work tree's top (git_toplevel_fast, git_files.c), a config
 * with nothing to blank (git_config_inert), and the run's worktree made by
 * hand (git_worktree_add, git_worktree.c).  Each answer is compared with
 * git's own.
 */
#include "unit.h"
#include "unit_shell.h"
#include "tree/git.h"
#include "tree/git_impl.h"
#include "base/fileio.h"

#include <errno.h>
#include <strings.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char scratch[] = "/tmp/loopgate-ut-gitfiles.XXXXXX";

/* <scratch>/NAME/repo with one commit and a subdirectory sub/dir. */
static char *repo(const char *name)
{
	char *d = xasprintf("%s/%s/repo", scratch, name);
	CHECK_INT(unit_sh("set -e; mkdir -p %s && cd %s && git init -q -b main . && "
			  "mkdir -p sub/dir && echo x >sub/dir/a.txt && git add -A && "
			  "git -c user.name=t -c user.email=t@t commit -qm i",
			  d),
		  0);
	return d;
}

/* git_toplevel_fast on dir: its answer, or NULL when it leaves it to git. */
static char *fast(const char *dir)
{
	struct buf b = BUF_INIT;
	char *real = realpath(dir, NULL);
	int ret = real ? git_toplevel_fast(real, &b) : -1;

	free(real);
	if (ret < 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

TEST(toplevel_as_git_says)
{
	char *r = repo("top"), *sub = xasprintf("%s/sub/dir", r);
	char *want = unit_out("cd %s && git rev-parse --show-toplevel", r), *got;

	CHECK_STR((got = fast(r)), want);
	free(got);
	CHECK_STR((got = fast(sub)), want);
	free(got);
	/* a repository nested in another: the inner one */
	CHECK_INT(unit_sh("set -e; cd %s/sub && git init -q -b main inner", r), 0);
	free(sub);
	sub = xasprintf("%s/sub/inner", r);
	free(want);
	want = unit_out("cd %s && git rev-parse --show-toplevel", sub);
	CHECK_STR((got = fast(sub)), want);
	free(got);
	free(want);
	free(sub);
	free(r);
}

TEST(toplevel_left_to_git)
{
	char *r = repo("odd"), *p;

	/* inside the git dir */
	p = xasprintf("%s/.git/refs", r);
	CHECK(fast(p) == NULL);
	free(p);
	/* core.worktree moves the work tree; core.bare removes it */
	CHECK_INT(unit_sh("git -C %s config core.worktree /tmp", r), 0);
	CHECK(fast(r) == NULL);
	CHECK_INT(unit_sh("git -C %s config --unset core.worktree && "
			  "git -C %s config core.bare true",
			  r),
		  0);
	CHECK(fast(r) == NULL);
	CHECK_INT(unit_sh("git -C %s config core.bare false", r), 0);
	p = fast(r);
	CHECK(p != NULL);
	free(p);
	/* an include could set either */
	CHECK_INT(unit_sh("git -C %s config include.path /dev/null", r), 0);
	CHECK(fast(r) == NULL);
	CHECK_INT(unit_sh("git -C %s config --unset include.path", r), 0);
	/* someone else's repository: git's safe.directory check */
	if (geteuid() == 0) {
		CHECK_INT(unit_sh("chown 12345 %s/.git", r), 0);
		CHECK(fast(r) == NULL);
		CHECK_INT(unit_sh("chown 0 %s/.git", r), 0);
	}
	/* the environment can point git elsewhere */
	setenv("GIT_DIR", "/nonexistent", 1);
	CHECK(fast(r) == NULL);
	unsetenv("GIT_DIR");
	/* a linked worktree's .git file */
	CHECK_INT(unit_sh("git -C %s worktree add -q ../linked", r), 0);
	p = xasprintf("%s/../linked", r);
	CHECK(fast(p) == NULL);
	free(p);
	/* no repository at all */
	CHECK(fast("/proc") == NULL);
	free(r);
}

/* The worktree git_worktree_add makes, as git sees it. */
static char *describe(const char *tree)
{
	return unit_out("cd %s && git status --porcelain=v2 --branch && git ls-files -s "
			"--debug | grep -v ctime | grep -v mtime | grep -v ino && "
			"git symbolic-ref HEAD && git rev-parse HEAD && "
			"cat $(git rev-parse --git-dir)/commondir && ls -a",
			tree);
}

TEST(worktree_by_hand_as_git_makes_it)
{
	char *r = repo("wt"), *t = xasprintf("%s/../t1", r),
	     *g = xasprintf("%s/../t2", r);
	char *base = unit_out("git -C %s rev-parse HEAD", r), *mine, *gits, *list;
	struct buf err = BUF_INIT;

	CHECK_INT(git_worktree_add(r, t, "run-one", base, &err), 0);
	/* the same through `git worktree add`, for comparison */
	CHECK_INT(unit_sh("git -C %s worktree add -q -b run-two ../t2 HEAD", r), 0);
	mine = describe(t);
	gits = describe(g);
	CHECK(*mine);
	CHECK_INT(unit_sh("cd %s && git worktree list --porcelain | grep -q 'branch "
			  "refs/heads/run-one'",
			  r),
		  0);
	/* same files, index entries, HEAD; branch names differ */
	for (char *c = mine; (c = strstr(c, "run-one")); c += 7)
		memcpy(c, "run-XXX", 7);
	for (char *c = gits; (c = strstr(c, "run-two")); c += 7)
		memcpy(c, "run-XXX", 7);
	CHECK_STR(mine, gits);
	/* not locked, and removable as any worktree */
	CHECK_INT(unit_sh("cd %s && ! git worktree list --porcelain | grep -q locked", r),
		  0);
	CHECK_INT(git_worktree_remove(r, t, &err), 0);
	CHECK_INT(access(t, F_OK) < 0 && errno == ENOENT, 1);
	list = unit_out("git -C %s worktree list --porcelain", r);
	CHECK(!strstr(list, "/t1\n"));
	free(list);
	free(mine);
	free(gits);
	free(base);
	free(t);
	free(g);
	free(r);
	buf_release(&err);
}

TEST(worktree_with_extensions_left_to_git)
{
	char *r = repo("ext"), *t = xasprintf("%s/../t", r);
	char *base = unit_out("git -C %s rev-parse HEAD", r), *st;
	struct buf err = BUF_INIT;

	/* worktreeConfig: what `worktree add` does with it is git's business */
	CHECK_INT(unit_sh("git -C %s config extensions.worktreeConfig true", r), 0);
	CHECK_INT(git_worktree_add(r, t, "b", base, &err), 0);
	st = unit_out("cd %s && git status --porcelain --branch", t);
	CHECK_STR(st, "## b");
	free(st);
	free(base);
	free(t);
	free(r);
	buf_release(&err);
}

/* Config files and whether git_config_inert may skip `git config --list`
 * for them; every one it calls inert is checked against git's own list. */
static const struct {
	const char *name, *text;
	int inert;
} configs[] = {
	{"fresh",
	 "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n"
	 "\tbare = false\n\tlogallrefupdates = true\n",
	 1},
	{"cloned",
	 "[core]\n\tbare = false\n[remote \"origin\"]\n\turl = x\n"
	 "\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
	 "[branch \"main\"]\n\tremote = origin\n\tmerge = refs/heads/main\n",
	 1},
	{"crlf", "[core]\r\n\tbare = false\r\n# c\r\n", 1},
	{"filter", "[core]\n[filter \"pwn\"]\n\tclean = touch x\n", 0},
	{"filter-case", "[FiLtEr \"pwn\"]\n\tclean = touch x\n", 0},
	{"filter-dotted", "[filter.pwn]\n\tclean = touch x\n", 0},
	{"diff", "[diff \"pwn\"]\n\ttextconv = touch x\n", 0},
	{"merge", "[merge \"pwn\"]\n\tdriver = touch x\n", 0},
	{"include", "[include]\n\tpath = /dev/null\n", 0},
	{"includeif", "[includeIf \"gitdir:/\"]\n\tpath = /dev/null\n", 0},
	{"worktree", "[core]\n\tworktree = /tmp\n", 0},
	{"worktree-case", "[CORE]\n\tWorkTree=/tmp\n", 0},
	{"key-on-header", "[core] worktree = /tmp\n", 0},
	{"continued", "[user]\n\tname = a\\\n[filter \"pwn\"]\n\tclean = x\n", 0},
	{"bom", "\xef\xbb\xbf[filter \"pwn\"]\n\tclean = x\n", 0},
	{"escaped-sub", "[remote \"o\\\"x\"]\n\turl = y\n", 0},
	{"indented-filter", "\t[filter \"pwn\"] ; c\n\tclean = x\n", 0},
	{"key-before-section", "bare = false\n[core]\n", 0},
	/* inert, but git's stat check is not the plain one */
	{"trustctime", "[core]\n\tbare = false\n\tTrustCtime = false\n", 1},
	{"checkstat", "[core]\n\tcheckStat = minimal ; nfs\n", 1},
	{"filemode-off", "[core]\n\tfilemode = false\n", 1},
	{"index-version", "[index]\n\tversion = 4\n", 1},
	{"extensions",
	 "[core]\n\trepositoryformatversion = 1\n"
	 "[extensions]\n\tobjectformat = sha256\n",
	 1},
	{"filemode-quoted", "[core]\n\tfilemode = \"true\"\n", 1},
};

static void check_config(size_t i)
{
	char *dir = xasprintf("%s/cfg", scratch), *path, *list;
	struct buf err = BUF_INIT;
	int inert, plain;

	fileio_mkdirs(dir, &err);
	path = xasprintf("%s/%s", dir, configs[i].name);
	CHECK_INT(
		fileio_write_atomic(path, configs[i].text, strlen(configs[i].text), &err),
		0);
	inert = git_config_inert(path, &plain);
	CHECK_INT(inert, configs[i].inert);
	if (inert) { /* *plain as driver_overrides would find it in git's list */
		char *l = unit_out("git config --file %s --list -z | tr '\\0' '\\1'",
				   path);
		int want = 1;
		for (char *e = l; *e; e += strcspn(e, "\1"), e += *e == 1) {
			size_t n = strcspn(e, "\1"), keylen = strcspn(e, "\n\1");
			char *kv = xasprintf("%.*s", (int)n, e);
			/* a quoted value git unquotes: judged before unquoting
			 * here, so stricter (not plain) is all that may differ */
			if (!git_stat_key_plain(kv, keylen))
				want = 0;
			free(kv);
		}
		if (strcmp(configs[i].name, "filemode-quoted"))
			CHECK_INT(plain, want);
		else
			CHECK_INT(plain, 0);
		free(l);
	}
	if (inert) { /* git agrees: nothing git.c would blank or refuse */
		list = unit_out("git config --file %s --list --name-only", path);
		CHECK(*list);
		for (char *l = list; *l; l += strcspn(l, "\n"), l += *l == '\n')
			CHECK(strncasecmp(l, "filter.", 7) &&
			      strncasecmp(l, "diff.", 5) && strncasecmp(l, "merge.", 6) &&
			      strncasecmp(l, "include", 7) &&
			      strncasecmp(l, "core.worktree", 13));
		free(list);
	}
	free(path);
	free(dir);
	buf_release(&err);
}

int main(void)
{
	if (!mkdtemp(scratch))
		return 1;
	RUN(toplevel_as_git_says);
	RUN(toplevel_left_to_git);
	RUN(worktree_by_hand_as_git_makes_it);
	RUN(worktree_with_extensions_left_to_git);
	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++)
		RUN_CASE(check_config(i), configs[i].name);
	unit_sh("rm -rf %s", scratch);
	return unit_done();
}
