# CASE: the actor plants a symlink in the tree to a directory outside and writes through it
adv_repo
out=$(adv_outside)
cat >agent.sh <<SH
ln -s $out escape && echo pwned >escape/symlink-marker && echo WROTE-THROUGH-LINK
ln -s $out/target-file link-file && echo pwned >link-file && echo WROTE-LINK-FILE
echo done
SH
adv_agent agent.sh
adv_assert_absent "$out/symlink-marker"
adv_assert_absent "$out/target-file"
f=$(adv_actor_output)
grep -q done "$f"
adv_out_lacks "$f" WROTE-
adv_event actor_end 'b["output_file"] == "actor.out"'
adv_audited
