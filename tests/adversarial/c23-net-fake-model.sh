# CASE: the actor calls the model API directly (the fake model port) with network off
adv_repo
url=$(start_fake m "$(script_file s.json <<'J'
{"replies": [{"content": "hi"}]}
J
)")
cat >agent.sh <<SH
curl -sS -m 5 $url/chat/completions -H 'content-type: application/json' -d '{"model":"x","messages":[]}' && echo CONNECTED
echo tried
SH
adv_agent agent.sh
f=$(adv_actor_output)
grep -q tried "$f"
adv_out_lacks "$f" CONNECTED
! grep -q chat/completions "$TRASH/m.log" 2>/dev/null
adv_event actor_end 'b["output_file"] == "actor.out"'
adv_audited
