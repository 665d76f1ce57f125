/*
 * Unit tests for the git hardening: driver blanking and refusals in
 * git_run (git.c), and the control-file snapshot of git_guard.c.  Each
 * test builds a repository with a linked worktree in a scratch directory.
 */
#include "unit.h"
#include "unit_shell.h"
#include "tree/git.h"
#include "tree/git_guard.h"
#include "tree/git_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char scratch[] = "/tmp/loopgate-ut-git.XXXXXX";

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* repo at <scratch>/N/repo with one commit; worktree at <scratch>/N/tree. */
static char *setup(const char *name)
{
	char *d = xasprintf("%s/%s", scratch, name);
	int rc = unit_sh(
		"set -e; mkdir -p %s && cd %s && git init -q -b main repo && cd repo && "
		"echo x >a.txt && git add a.txt && git -c user.name=t -c user.email=t@t "
		"commit -qm i && git worktree add -q -b run ../tree >/dev/null 2>&1",
		d);
	CHECK_INT(rc, 0);
	return d;
}

TEST(filter_driver_blanked)
{
	char *d = setup("filter"), *tree = xasprintf("%s/tree", d);
	char *marker = xasprintf("%s/filter-ran", d);
	struct buf err = BUF_INIT;
	CHECK_INT(unit_sh("set -e; cd %s/tree && printf '* filter=pwn diff=pwn\\n' "
			  ">.gitattributes && "
			  "git config filter.pwn.clean \"touch ../filter-ran; cat\" && "
			  "git config filter.pwn.process \"touch ../filter-ran\" && "
			  "git config filter.pwn.required true && "
			  "git config diff.pwn.textconv \"touch ../filter-ran; cat\" && "
			  "git config diff.pwn.command \"touch ../filter-ran\" && "
			  "echo y >>a.txt",
			  d),
		  0);
	CHECK_INT(git_run(tree, NULL, &err, "add", "-A", NULL), 0);
	CHECK_INT(git_run(tree, NULL, &err, "diff", "--cached", "HEAD", NULL), 0);
	CHECK_INT(git_run(tree, NULL, &err, "log", "-p", NULL), 0);
	CHECK(!exists(marker));
	/* the same command without loopgate's overrides would run it */
	unit_sh("cd %s/tree && echo z >>a.txt && git add -A 2>/dev/null", d);
	CHECK(exists(marker));
	buf_release(&err);
	free(marker);
	free(tree);
	free(d);
}

TEST(include_and_worktree_refused)
{
	char *d = setup("include"), *tree = xasprintf("%s/tree", d);
	struct buf err = BUF_INIT;
	CHECK_INT(unit_sh("cd %s/tree && git config include.path /dev/null", d), 0);
	CHECK_INT(git_run(tree, NULL, &err, "status", NULL), -EPERM);
	CHECK_CONTAINS(err.s, "include.path");
	CHECK_INT(unit_sh("cd %s/tree && git config --unset include.path && "
			  "git config core.worktree /",
			  d),
		  0);
	buf_reset(&err);
	CHECK_INT(git_run(tree, NULL, &err, "status", NULL), -EPERM);
	CHECK_CONTAINS(err.s, "core.worktree");
	buf_release(&err);
	free(tree);
	free(d);
}

TEST(outside_git_env_ignored)
{
	char *d = setup("env"), *tree = xasprintf("%s/tree", d);
	char *marker = xasprintf("%s/env-ran", d);
	char *hook = xasprintf("%s/hooks", d);
	struct buf err = BUF_INIT, out = BUF_INIT;
	CHECK_INT(unit_sh("set -e; mkdir -p %s/hooks && printf '#!/bin/sh\\ntouch "
			  "%s/env-ran\\n' "
			  ">%s/hooks/pre-commit && chmod +x %s/hooks/pre-commit",
			  d),
		  0);
	setenv("GIT_DIR", "/nonexistent", 1);
	setenv("GIT_CONFIG_COUNT", "1", 1);
	setenv("GIT_CONFIG_KEY_0", "core.hooksPath", 1);
	setenv("GIT_CONFIG_VALUE_0", hook, 1);
	setenv("GIT_EXTERNAL_DIFF", "touch", 1);
	CHECK_INT(unit_sh("echo w >>%s/tree/a.txt", d), 0);
	CHECK_INT(git_run(tree, NULL, &err, "commit", "-qam", "m", NULL), 0);
	CHECK_INT(git_run(tree, &out, &err, "log", "--oneline", NULL), 0);
	CHECK(!exists(marker));
	CHECK_CONTAINS(out.s, " m");
	unsetenv("GIT_DIR");
	unsetenv("GIT_CONFIG_COUNT");
	unsetenv("GIT_CONFIG_KEY_0");
	unsetenv("GIT_CONFIG_VALUE_0");
	unsetenv("GIT_EXTERNAL_DIFF");
	buf_release(&err);
	buf_release(&out);
	free(hook);
	free(marker);
	free(tree);
	free(d);
}

/* 1 when ch has path with what, and found containing evidence (or NULL). */
static int has_change_found(const struct buf *ch, const char *path, const char *what,
			    const char *evidence)
{
	const char *p;
	for (p = ch->s; p && p < ch->s + ch->len; p += strlen(p) + 1) {
		const char *w = p + strlen(p) + 1, *f = w + strlen(w) + 1;
		if (!strcmp(p, path) && !strcmp(w, what) &&
		    (!evidence || strstr(f, evidence)))
			return 1;
		p = f;
	}
	return 0;
}

static int has_change(const struct buf *ch, const char *path, const char *what)
{
	return has_change_found(ch, path, what, NULL);
}

TEST(guard_detects_and_restores)
{
	char *d = setup("guard"), *tree = xasprintf("%s/tree", d);
	char *cfg = xasprintf("%s/repo/.git/config", d);
	struct buf err = BUF_INIT, ch = BUF_INIT, before = BUF_INIT, after = BUF_INIT;
	struct git_guard *g = git_guard_snapshot(tree, &err);

	CHECK(g != NULL);
	if (!g)
		return;
	CHECK_INT(git_guard_check(g, &ch, &err), 0); /* nothing changed yet */
	CHECK_INT(unit_sh("cd %s/repo && git config remote.origin.url "
			  "https://u:tok-USER-SECRET@h/r",
			  d),
		  0);
	git_guard_free(g);
	g = git_guard_snapshot(tree, &err); /* the user's config holds a token */
	buf_read_file(&before, cfg);
	CHECK_INT(unit_sh("set -e; cd %s/repo/.git && git config --file config "
			  "core.fsmonitor "
			  "evil && "
			  "printf '#!/bin/sh\\n' >hooks/pre-commit && mkdir -p info && "
			  "echo '* filter=x' >info/attributes && rm -f info/exclude && "
			  "echo 'gitdir: /elsewhere' >../../tree/.git",
			  d),
		  0);
	CHECK_INT(git_guard_check(g, &ch, &err), 5);
	CHECK(has_change_found(&ch, ".git/config", "modified", "fsmonitor = evil"));
	CHECK(!memmem(ch.s, ch.len, "USER-SECRET", 11)); /* old lines stay out */
	CHECK(has_change(&ch, ".git/hooks/pre-commit", "created"));
	CHECK(has_change_found(&ch, ".git/info/attributes", "created", "* filter=x"));
	CHECK(has_change(&ch, ".git/info/exclude", "deleted"));
	buf_read_file(&after, cfg);
	CHECK_INT(after.len, before.len);
	CHECK(!memcmp(after.s, before.s, before.len));
	CHECK_INT(unit_sh("test ! -e %s/repo/.git/hooks/pre-commit && test -f "
			  "%s/repo/.git/info/exclude "
			  "&& grep -q gitdir: %s/tree/.git && ! grep -q elsewhere "
			  "%s/tree/.git",
			  d),
		  0);
	/* the hooks directory swapped for a symlink */
	buf_reset(&ch);
	CHECK_INT(unit_sh("set -e; cd %s/repo/.git && mv hooks hooks.real && ln -s /tmp "
			  "hooks",
			  d),
		  0);
	CHECK(git_guard_check(g, &ch, &err) >= 1);
	CHECK(has_change_found(&ch, ".git/hooks", "replaced by a symlink", "-> /tmp"));
	CHECK_INT(
		unit_sh("test -d %s/repo/.git/hooks && test ! -L %s/repo/.git/hooks", d),
		0);
	buf_reset(&ch);
	CHECK_INT(git_guard_check(g, &ch, &err), 0);
	git_guard_free(g);
	buf_release(&err);
	buf_release(&ch);
	buf_release(&before);
	buf_release(&after);
	free(cfg);
	free(tree);
	free(d);
}

/* git_head_tree reads a loose commit itself and agrees with rev-parse;
 * packed (after gc: rev-parse's answer) and detached it still agrees. */
TEST(head_tree_from_files)
{
	char *d = setup("headtree"), *tree = xasprintf("%s/tree", d);
	char id[41];
	struct buf want = BUF_INIT, err = BUF_INIT;

	for (int round = 0; round < 4; round++) {
		if (round == 1) { /* a new commit in the worktree: loose */
			CHECK_INT(unit_sh("cd %s/tree && echo w >>a.txt", d), 0);
			CHECK_INT(
				git_commit_all(tree, "m", NULL, NULL, &want, NULL, &err),
				0);
		}
		if (round == 2)
			CHECK_INT(unit_sh("cd %s/repo && git gc -q --prune=now", d), 0);
		if (round == 3)
			CHECK_INT(unit_sh("cd %s/tree && git checkout -q --detach HEAD~1",
					  d),
				  0);
		buf_reset(&want);
		CHECK_INT(git_run(tree, &want, &err, "rev-parse", "HEAD^{tree}", NULL),
			  0);
		buf_rtrim(&want);
		memset(id, 0, sizeof(id));
		CHECK_INT(git_head_tree(tree, id, &err), 0);
		CHECK_STR(id, want.s);
	}
	buf_release(&want);
	buf_release(&err);
	free(tree);
	free(d);
}

/* git_rev(dir, "HEAD") reads a main work tree's HEAD and a run tree's off
 * their files and agrees with rev-parse: loose, packed (fallback),
 * detached, and a branch with no commit yet (an error either way). */
TEST(head_rev_from_files)
{
	char *d = setup("headrev"), *tree = xasprintf("%s/tree", d),
	     *repo = xasprintf("%s/repo", d);
	const char *dirs[] = {repo, tree};
	struct buf got = BUF_INIT, want = BUF_INIT, err = BUF_INIT;

	for (int round = 0; round < 3; round++) {
		if (round == 1)
			CHECK_INT(unit_sh("cd %s/repo && git pack-refs --all", d), 0);
		if (round == 2)
			CHECK_INT(
				unit_sh("cd %s/repo && git checkout -q --detach HEAD", d),
				0);
		for (size_t k = 0; k < 2; k++) {
			buf_reset(&want);
			CHECK_INT(git_run(dirs[k], &want, &err, "rev-parse", "--verify",
					  "-q", "HEAD", NULL),
				  0);
			buf_rtrim(&want);
			CHECK_INT(git_rev(dirs[k], "HEAD", &got, &err), 0);
			CHECK_STR(got.s, want.s);
		}
	}
	CHECK_INT(unit_sh("cd %s/repo && git checkout -q --orphan unborn", d), 0);
	CHECK(git_rev(repo, "HEAD", &got, &err) < 0);
	buf_release(&got);
	buf_release(&want);
	buf_release(&err);
	free(repo);
	free(tree);
	free(d);
}

/* The paths of a NUL-separated list, one per line (for CHECK_STR). */
static char *lines(const struct buf *b)
{
	struct buf o = BUF_INIT;
	for (const char *p = b->s; p < b->s + b->len; p += strlen(p) + 1)
		buf_addf(&o, "%s\n", p);
	return buf_detach(&o, NULL);
}

/* git_index_dirty reads the index itself and names what `git diff-files`
 * names: clean (racily: checked out in the index's second), a content
 * change, a same-content rewrite (new inode), a mode change, a deletion,
 * an untracked file (not named); a configuration that changes git's stat
 * comparison leaves it to git. */
TEST(diff_files_from_index)
{
	static const char *const steps[] = {
		":",
		"echo y >>a.txt",
		"git -c user.name=t -c user.email=t@t commit -qam c && cp a.txt t && "
		"mv t a.txt",
		"git add a.txt && chmod +x a.txt",
		"git add a.txt && rm a.txt",
		"git checkout -q a.txt && echo n >new.txt",
		NULL};
	char *d = setup("difffiles"), *tree = xasprintf("%s/tree", d);
	struct buf got = BUF_INIT, want = BUF_INIT, err = BUF_INIT;

	for (size_t i = 0; steps[i]; i++) {
		char *cmd = xasprintf("cd %%s/tree && %s", steps[i]), *g, *w;
		CHECK_INT(unit_sh(cmd, d), 0);
		free(cmd);
		buf_reset(&got);
		buf_reset(&want);
		CHECK_INT(git_run(tree, &want, &err, "diff-files", "--name-only", "-z",
				  NULL),
			  0);
		CHECK_INT(git_config_stat_plain(tree), 1);
		CHECK_INT(git_index_dirty(tree, &got), 0);
		g = lines(&got);
		w = lines(&want);
		CHECK_STR(g, w);
		CHECK_INT(i == 0 || i == 5 ? !*w : !strcmp(w, "a.txt\n"), 1);
		free(g);
		free(w);
	}
	CHECK_INT(unit_sh("cd %s/tree && git config core.trustctime false && echo z "
			  ">>a.txt",
			  d),
		  0);
	CHECK_INT(git_config_stat_plain(tree), 0);
	buf_reset(&got);
	CHECK_INT(git_diff_files(tree, &got, &err), 0);
	CHECK_STR(got.s, "a.txt");
	buf_release(&got);
	buf_release(&want);
	buf_release(&err);
	free(tree);
	free(d);
}

/* The scan after the gates with its git process in the background
 * (git_scan.c): the tracked paths read off the index are `ls-files
 * --cached`'s (a name with a space, one in a directory, an intent-to-add
 * entry), and the excludes file ends as the scan in one process leaves it
 * (an untracked file and directory, an ignored file left out).  A
 * configuration git_index_paths does not read exactly: the scan is done
 * by git when git_scan_start returns. */
TEST(scan_in_background)
{
	char *d = setup("scan"), *tree = xasprintf("%s/tree", d);
	char *ex_bg = xasprintf("%s/bg.exclude", d),
	     *ex_fg = xasprintf("%s/fg.exclude", d);
	struct buf files = BUF_INIT, want = BUF_INIT, err = BUF_INIT, a = BUF_INIT,
		   b = BUF_INIT;
	struct git_scan s = GIT_SCAN_INIT;

	CHECK_INT(
		unit_sh("set -e; cd %s/tree && mkdir -p 'sub dir' && echo 1 >'sub dir/c "
			"d.txt' "
			"&& echo ign.txt >.gitignore && git add -A && git -c user.name=t "
			"-c "
			"user.email=t@t commit -qm c && echo 2 >later.txt && git add -N "
			"later.txt && echo 3 >made.txt && echo 4 >ign.txt && mkdir out "
			"&& "
			"echo 5 >out/x",
			d),
		0);
	CHECK_INT(git_run(tree, &want, &err, "ls-files", "-z", "--cached", NULL), 0);
	CHECK_INT(git_config_stat_plain(tree), 1);
	CHECK_INT(git_index_paths(tree, &files), 0);
	CHECK_INT(files.len == want.len && !memcmp(files.s, want.s, want.len), 1);
	buf_reset(&files);
	CHECK_INT(git_scan_start(tree, ex_bg, &files, &s, &err), 0);
	CHECK_INT(s.pid > 0, 1); /* git runs in the background */
	CHECK_INT(files.len == want.len && !memcmp(files.s, want.s, want.len), 1);
	CHECK_INT(git_scan_finish(&s, &err), 0);
	CHECK_INT(s.pid, 0);
	CHECK_INT(git_scan_tree(tree, ex_fg, NULL, &err), 0);
	CHECK_INT(buf_read_file(&a, ex_bg), 0);
	CHECK_INT(buf_read_file(&b, ex_fg), 0);
	CHECK_STR(a.s, b.s);
	CHECK_STR(a.s, "/made.txt\n/out/x\n");
	CHECK_INT(git_scan_finish(&s, &err), 0); /* none running: nothing */
	/* not plain: git does it all, before git_scan_start returns */
	CHECK_INT(unit_sh("cd %s/tree && git config core.trustctime false && echo 6 "
			  ">more.txt",
			  d),
		  0);
	CHECK_INT(git_scan_start(tree, ex_bg, &files, &s, &err), 0);
	CHECK_INT(s.pid, 0);
	CHECK_INT(files.len == want.len && !memcmp(files.s, want.s, want.len), 1);
	buf_reset(&a);
	CHECK_INT(buf_read_file(&a, ex_bg), 0);
	CHECK_STR(a.s, "/made.txt\n/out/x\n/more.txt\n");
	buf_release(&files);
	buf_release(&want);
	buf_release(&err);
	buf_release(&a);
	buf_release(&b);
	free(ex_bg);
	free(ex_fg);
	free(tree);
	free(d);
}

/* git_index_changes between two git_index_entries lists names what `git
 * diff --cached --name-only` names between them (a content change, a mode
 * change, a new file in a directory, a removal; an untouched file not);
 * git_commit_tracked commits a tracked change in one `commit -a` with that
 * list, and says 1 (HEAD as it was) when the file holds what it held. */
TEST(index_changes_and_commit_tracked)
{
	char *d = setup("changes"), *tree = xasprintf("%s/tree", d);
	struct buf before = BUF_INIT, after = BUF_INIT, got = BUF_INIT, want = BUF_INIT,
		   err = BUF_INIT, sha = BUF_INIT, head = BUF_INIT;
	char *g, *w;

	CHECK_INT(unit_sh("set -e; cd %s/tree && echo k >keep.txt && echo r >rm.txt && "
			  "echo m >mode.sh && git add -A && git -c user.name=t -c "
			  "user.email=t@t commit -qm c",
			  d),
		  0);
	CHECK_INT(git_index_entries(tree, &before), 0);
	CHECK_INT(unit_sh("set -e; cd %s/tree && echo y >>a.txt && chmod +x mode.sh && "
			  "mkdir -p 'n d' && echo n >'n d/new.txt' && rm rm.txt && "
			  "git add -A",
			  d),
		  0);
	CHECK_INT(git_index_entries(tree, &after), 0);
	git_index_changes(&before, &after, &got);
	CHECK_INT(git_run(tree, &want, &err, "diff", "--cached", "--name-only", "-z",
			  "--no-renames", NULL),
		  0);
	g = lines(&got);
	w = lines(&want);
	CHECK_STR(g, "a.txt\nmode.sh\nn d/new.txt\nrm.txt\n");
	CHECK_STR(g, w);
	free(g);
	free(w);
	buf_reset(&got);
	git_index_changes(&after, &after, &got);
	CHECK_INT((int)got.len, 0);

	CHECK_INT(unit_sh("set -e; cd %s/tree && git -c user.name=t -c user.email=t@t "
			  "commit -qm d && echo z >>keep.txt",
			  d),
		  0);
	buf_reset(&got);
	CHECK_INT(git_commit_tracked(tree, "m", NULL, &got, &sha, &err), 0);
	CHECK_STR(got.s, "keep.txt");
	CHECK_INT(git_head_from_files(tree, &head), 0);
	CHECK_STR(head.s, sha.s);
	/* the same bytes again, a new inode: nothing to commit */
	CHECK_INT(unit_sh("set -e; cd %s/tree && cp keep.txt t && mv t keep.txt", d), 0);
	buf_reset(&got);
	buf_reset(&sha);
	CHECK_INT(git_commit_tracked(tree, "m", NULL, &got, &sha, &err), 1);
	CHECK_INT((int)got.len + (int)sha.len, 0);
	CHECK_INT(git_head_is(tree, head.s), 1);
	buf_release(&before);
	buf_release(&after);
	buf_release(&got);
	buf_release(&want);
	buf_release(&err);
	buf_release(&sha);
	buf_release(&head);
	free(tree);
	free(d);
}

int main(void)
{
	if (!mkdtemp(scratch))
		return 1;
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
	RUN(filter_driver_blanked);
	RUN(include_and_worktree_refused);
	RUN(outside_git_env_ignored);
	RUN(guard_detects_and_restores);
	RUN(head_tree_from_files);
	RUN(head_rev_from_files);
	RUN(diff_files_from_index);
	RUN(scan_in_background);
	RUN(index_changes_and_commit_tracked);
	unit_sh("rm -rf %s", scratch);
	return unit_done();
}
