# CASE: info/attributes + diff textconv, then a protected change makes loopgate run git diff
adv_repo
out=$(adv_outside)
cat >agent.sh <<SH
#!/bin/sh
common=\$(git rev-parse --git-common-dir)
mkdir -p "\$common/info"
printf '* diff=tc filter=tc\n' >>"\$common/info/attributes"
git config diff.tc.textconv "touch $out/textconv-ran; cat"
git config filter.tc.process "touch $out/process-ran"
echo 'exit 0' >>test.sh
SH
adv_agent agent.sh $(adv_no_sandbox)
adv_assert_absent "$out/textconv-ran"
adv_assert_absent "$out/process-ran"
adv_event integrity 'b["kind"] == "git_control_change" and any(p["path"] == ".git/info/attributes" for p in b["paths"])'
adv_event integrity 'b["kind"] == "protected_change" and "test.sh" in b["paths"]'
adv_audited
