# CASE: the actor hard-links a file from outside into the tree and appends to it
adv_repo
out=$(adv_outside)
echo original >"$out/victim"
cat >agent.sh <<SH
ln $out/victim hl && echo LINKED
echo pwned >>hl && echo APPENDED
echo done
SH
adv_agent agent.sh
test "$(cat "$out/victim")" = original
f=$(adv_actor_output)
grep -q done "$f"
adv_out_lacks "$f" LINKED
adv_event actor_end 'b["output_file"] == "actor.out"'
adv_audited
