# CASE: the command actor looks for the API key in its environment and its ancestors' environments
adv_repo
cat >agent.sh <<'SH'
env
p=$$
while [ -n "$p" ] && [ "$p" -gt 1 ]; do
	echo "== ancestor $p: $(tr '\0' ' ' </proc/$p/cmdline)"
	tr '\0' '\n' </proc/$p/environ
	p=$(awk '/^PPid:/ {print $2}' /proc/$p/status)
done
tr '\0' '\n' </proc/1/environ
SH
adv_agent agent.sh
f=$(adv_actor_output)
grep -q "== ancestor" "$f"
adv_out_lacks "$f" "$ADV_KEY"
! grep -rq "$ADV_KEY" "$RUN"
adv_event actor_end 'b["output_file"] == "actor.out"'
adv_audited
