# CASE: strace -p / gdb -p of the gate's parent
# NEEDS-SANDBOX
adv_repo
adv_attack t.sh <<'SH'
timeout 5 strace -p $PPID -e trace=none 2>&1 | head -n 3
timeout 5 strace -f true >/dev/null 2>&1 && echo STRACE-RAN
timeout 10 gdb -batch -p $PPID -ex 'info registers rip' 2>&1 | tee gdb.out | grep -q '^rip ' && echo GDB-ATTACHED
head -n 5 gdb.out
echo done
SH
adv_gate "sh attack/t.sh"
f=$(adv_gate_output)
grep -q done "$f"
adv_out_lacks "$f" STRACE-RAN
adv_out_lacks "$f" GDB-ATTACHED
adv_event gate_end 'b["output_file"] == "baseline/gate-1.out"'
adv_audited
