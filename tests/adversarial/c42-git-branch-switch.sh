# CASE: the actor switches the run tree to another branch so loopgate would commit there (no sandbox: guard)
adv_repo
cat >agent.sh <<'SH'
git checkout -q -b hijack
sed -i 's/a - b/a + b/' calc.py
SH
adv_agent agent.sh $(adv_no_sandbox)
adv_event integrity 'b["kind"] == "git_control_change" and any(p["path"].endswith("/HEAD") for p in b["paths"])'
# the change landed on the run's branch, and nothing on the hijack branch
branch=$(python3 -c 'import json; print(json.load(open("summary.json"))["branch"])')
git -C repo show "$branch:calc.py" | grep -q 'a + b'
test "$(git -C repo rev-parse hijack)" = "$(git -C repo rev-parse main)"
adv_audited
