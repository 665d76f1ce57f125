# CASE: setuid, file capabilities and root's capabilities cannot raise privileges (no_new_privs, caps dropped)
adv_repo
adv_attack p.sh <<'SH'
grep -E '^(NoNewPrivs|CapEff|CapPrm|CapBnd):' /proc/self/status
# a setuid-root copy of a shell in the tree, and a file capability
cp /usr/bin/id ./suid-id && chmod 4755 ./suid-id && ./suid-id -u
cp /usr/bin/python3.11 ./cappy 2>/dev/null && setcap cap_sys_admin,cap_dac_override+ep ./cappy && echo SETCAP-OK
[ -x ./cappy ] && ./cappy -c 'print(open("/proc/self/status").read())' | grep -E '^CapEff' | sed 's/^/cappy /'
chown 65534 attack/p.sh && echo CHOWN-OK
unshare -U true && echo UNSHARE-OK
unshare -m true && echo UNSHARE-OK
echo done
SH
adv_gate "sh attack/p.sh"
f=$(adv_gate_output)
grep -q done "$f"
grep -qE '^NoNewPrivs:[[:space:]]+1' "$f"
grep -qE '^CapEff:[[:space:]]+0000000000000000' "$f"
! grep -E '^cappy CapEff' "$f" | grep -vq '0000000000000000'
adv_out_lacks "$f" CHOWN-OK
adv_out_lacks "$f" UNSHARE-OK
adv_event gate_end 'b["output_file"] == "baseline/gate-1.out"'
adv_audited
