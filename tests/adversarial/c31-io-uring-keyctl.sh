# CASE: io_uring_setup, keyctl/add_key, bpf and perf_event_open are refused (seccomp)
adv_repo
adv_attack s.sh <<'SH'
python3 - <<'PY'
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
params = ctypes.create_string_buffer(120)
calls = {
    "io_uring_setup": (425, (1, params)),
    "add_key": (248, (b"user", b"adv", b"secret", 6, -3)),   # KEY_SPEC_SESSION_KEYRING
    "keyctl": (250, (0, -3, 0)),                              # KEYCTL_GET_KEYRING_ID
    "bpf": (321, (0, None, 0)),
    "perf_event_open": (298, (params, 0, -1, -1, 0)),
}
for name, (nr, args) in calls.items():
    r = libc.syscall(nr, *args)
    e = ctypes.get_errno()
    print(name, "->", r, "errno", e, "ALLOWED" if r >= 0 else "refused")
PY
echo done
SH
adv_gate "sh attack/s.sh"
f=$(adv_gate_output)
grep -q done "$f"
grep -q "io_uring_setup ->" "$f"
adv_out_lacks "$f" ALLOWED
adv_event gate_end 'b["output_file"] == "baseline/gate-1.out"'
adv_audited
