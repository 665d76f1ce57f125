# CASE: a gate tries to lift its limits: raise hard rlimits, move itself out of its cgroup
adv_repo
adv_attack l.sh <<'SH'
ulimit -H -f unlimited 2>&1 && echo RAISED-FSIZE
python3 -c 'import resource; s,h = resource.getrlimit(resource.RLIMIT_NOFILE); resource.setrlimit(resource.RLIMIT_NOFILE, (h * 2, h * 2)); print("RAISED-NOFILE")'
for f in /sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/pids/cgroup.procs /sys/fs/cgroup/memory/cgroup.procs; do
	[ -e "$f" ] && echo $$ >"$f" && echo "MOVED via $f"
done
echo done
SH
adv_gate "sh attack/l.sh"
f=$(adv_gate_output)
grep -q done "$f"
adv_out_lacks "$f" RAISED-
adv_out_lacks "$f" MOVED
adv_event gate_end 'b["output_file"] == "baseline/gate-1.out"'
adv_audited
