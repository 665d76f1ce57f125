# CASE: inside the sandbox, writing .git/config and .git/hooks fails (read-only .git)
adv_sandboxed
adv_repo
out=$(adv_outside)
cat >agent.sh <<SH
#!/bin/sh
common=\$(git rev-parse --git-common-dir)
git config filter.pwn.clean "touch $out/ran; cat" && echo "CONFIG WRITTEN"
printf '#!/bin/sh\ntouch $out/ran\n' >"\$common/hooks/pre-commit" && echo "HOOK WRITTEN"
echo done
SH
adv_agent agent.sh
f=$(adv_actor_output)
grep -q done "$f"
adv_out_lacks "$f" "CONFIG WRITTEN"
adv_out_lacks "$f" "HOOK WRITTEN"
adv_event actor_end 'b["output_file"] == "actor.out"'
! git -C repo config --get filter.pwn.clean
adv_assert_absent repo/.git/hooks/pre-commit
adv_audited
