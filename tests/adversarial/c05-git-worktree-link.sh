# CASE: the actor repoints the run tree's .git link and sets core.worktree (no sandbox: guard)
adv_repo
out=$(adv_outside)
git init -q "$out/decoy"
cat >agent.sh <<SH
#!/bin/sh
git config core.worktree $out
printf 'gitdir: $out/decoy/.git\n' >.git
sed -i 's/a - b/a + b/' calc.py
SH
adv_agent agent.sh $(adv_no_sandbox)
adv_event integrity 'b["kind"] == "git_control_change" and {p["path"] for p in b["paths"]} >= {".git/config"} and any(p["path"].endswith("/.git") for p in b["paths"])'
# the commit landed on the run's branch, not in the decoy
adv_event commit 'b.get("sha")'
! git -C "$out/decoy" rev-parse -q --verify HEAD
! git -C repo config --get core.worktree
adv_audited
