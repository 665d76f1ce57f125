# CASE: a gate (not the actor) plants a filter and a hook in .git (no sandbox: overrides + guard)
adv_repo
out=$(adv_outside)
cat >plant.sh <<SH
#!/bin/sh
[ -e $out/planted ] && exit 0
touch $out/planted
printf '* filter=g\n' >.gitattributes
git config filter.g.clean "touch $out/gate-filter-ran; cat"
hooks=\$(git rev-parse --git-common-dir)/hooks
mkdir -p "\$hooks"; printf '#!/bin/sh\ntouch $out/gate-hook-ran\n' >"\$hooks/pre-commit"; chmod +x "\$hooks/pre-commit"
SH
cat >agent.sh <<'SH'
#!/bin/sh
sed -i 's/a - b/a + b/' calc.py
SH
chmod +x agent.sh
adv_gate "sh $CASE_DIR/plant.sh" --agent-cmd "$CASE_DIR/agent.sh" $(adv_no_sandbox)
test -e "$out/planted"
adv_assert_absent "$out/gate-filter-ran"
adv_assert_absent "$out/gate-hook-ran"
adv_event integrity 'b["kind"] == "git_control_change"'
adv_audited
