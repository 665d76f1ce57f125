# CASE: core.fsmonitor / core.hooksPath / diff.external set by the actor (no sandbox: overrides + guard)
adv_repo
out=$(adv_outside)
cat >agent.sh <<SH
#!/bin/sh
printf '#!/bin/sh\ntouch $out/ran-\$(basename \$0)\n' >$out/evil
chmod +x $out/evil
git config core.fsmonitor $out/evil
git config core.hooksPath $out
git config diff.external $out/evil
git config core.pager $out/evil
cp $out/evil $out/pre-commit
sed -i 's/a - b/a + b/' calc.py
SH
adv_agent agent.sh $(adv_no_sandbox)
adv_event commit
adv_assert_absent "$out/ran-evil"
adv_assert_absent "$out/ran-pre-commit"
adv_event integrity 'b["kind"] == "git_control_change"'
! git -C repo config --get core.fsmonitor
adv_audited
