# CASE: ptrace of the parent process (python ctypes PTRACE_ATTACH) and of pid 1
# NEEDS-SANDBOX
adv_repo
adv_attack t.sh <<'SH'
python3 - <<'PY'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for pid in (os.getppid(), 1):
    r = libc.ptrace(16, pid, None, None)   # PTRACE_ATTACH
    e = ctypes.get_errno()
    print("ptrace attach", pid, "->", r, "errno", e)
    if r == 0:
        print("ATTACHED")
        libc.ptrace(17, pid, None, None)   # PTRACE_DETACH
PY
echo done
SH
adv_gate "sh attack/t.sh"
f=$(adv_gate_output)
grep -q done "$f"
grep -q "ptrace attach" "$f"
adv_out_lacks "$f" ATTACHED
adv_event gate_end 'b["output_file"] == "baseline/gate-1.out"'
adv_audited
