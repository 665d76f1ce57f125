# CASE: mount, remounting / writable, writing /proc/sys and /sys
# NEEDS-SANDBOX
# Closed 2026-11-25: bwrap's --proc left /proc/sys writable to a root
# without capabilities; the sandbox now binds /proc/sys, sysrq-trigger, irq
# and bus read-only after --proc.
adv_repo
adv_attack m.sh <<'SH'
mkdir -p mnt
mount -t tmpfs none mnt && echo MOUNTED
mount -o remount,rw / && echo REMOUNTED
v=$(cat /proc/sys/fs/protected_symlinks)
echo "$v" >/proc/sys/fs/protected_symlinks && echo PROCSYS-WRITTEN
v=$(cat /proc/sys/kernel/panic)
echo "$v" >/proc/sys/kernel/panic && echo PROCSYS-WRITTEN
echo 1 >/sys/kernel/loopgate-adv && echo SYS-WRITTEN
touch /usr/loopgate-adv && echo ROOT-WRITTEN
echo done
SH
adv_gate "sh attack/m.sh"
f=$(adv_gate_output)
grep -q done "$f"
for w in MOUNTED REMOUNTED PROCSYS-WRITTEN SYS-WRITTEN ROOT-WRITTEN; do adv_out_lacks "$f" $w; done
adv_assert_absent /usr/loopgate-adv
adv_event gate_end 'b["output_file"] == "baseline/gate-1.out"'
adv_audited
