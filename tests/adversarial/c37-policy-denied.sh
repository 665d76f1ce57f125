# CASE: a command actor denied by policy.commands does not run, and the decision is a policy record
adv_repo
out=$(adv_outside)
printf 'policy:\n  commands:\n    deny: ["*curl*", "*evil-agent*"]\n' >repo/loopgate.yaml
git -C repo add loopgate.yaml && git -C repo commit -qm policy
cat >agent.sh <<SH
touch $out/agent-ran
SH
adv_attack evil-agent.sh <agent.sh
_adv_run --gate "sh test.sh" --agent-cmd "sh attack/evil-agent.sh" --max-iterations 1
adv_assert_absent "$out/agent-ran"
adv_event policy
adv_audited
