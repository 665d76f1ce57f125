# tests/slurm_cluster.sh: a real one-node Slurm cluster for a test, started
# in a directory of its own and stopped by the PIDs it wrote (sourced).
#
#   . "$TEST_DIR/slurm_cluster.sh"
#   slurm_start "$TRASH/slurm" || skip...   exports SLURM_CONF; 2 CPUs
#   sbatch ... / loopgate dispatch --executor slurm ...
#   slurm_stop                              (also run by the test's cleanup)
#
# or, for a test whose every case needs the cluster:
#   slurm_test_cluster    skips the whole test without the packages, fails it
#                         when the cluster does not start, stops it on exit
#
# Its own munged on its own socket and key, its own slurm.conf with free
# ports, spool, state and logs under DIR: nothing of the machine's own
# configuration is used or changed, and two tests can run at once.  Facts
# this relies on: /work/shared anchors' slurm-single-node.md (Debian 12,
# Slurm 22.05): no cgroup plugins, proctrack/linuxproc, no accounting.

# slurm_have: the Debian packages are installed.
slurm_have() {
	command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 &&
		command -v munged >/dev/null 2>&1 && command -v sbatch >/dev/null 2>&1
}

# slurm_port: a free TCP port on this machine.
slurm_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

slurm_start() {
	SLURM_DIR=$1
	mkdir -p "$SLURM_DIR/spool" "$SLURM_DIR/state" "$SLURM_DIR/log" "$SLURM_DIR/munge"
	chmod 700 "$SLURM_DIR/munge"
	head -c 1024 /dev/urandom >"$SLURM_DIR/munge/key"
	chmod 400 "$SLURM_DIR/munge/key"
	# munged refuses a socket directory others can write to: its own
	munged -f --socket="$SLURM_DIR/munge/sock" --key-file="$SLURM_DIR/munge/key" \
		--pid-file="$SLURM_DIR/munge/pid" --log-file="$SLURM_DIR/munge/log" \
		--seed-file="$SLURM_DIR/munge/seed" || return 1
	host=$(hostname -s)
	# the node as slurmd sees it, with memory lowered so that it fits
	node=$(slurmd -C | head -n 1 | awk '{for(i=1;i<=NF;i++) if ($i ~ /^RealMemory=/) { split($i,a,"="); $i="RealMemory=" int(a[2]*0.9) } print}')
	cat >"$SLURM_DIR/slurm.conf" <<-CONF
	ClusterName=lgtest
	SlurmctldHost=$host
	SlurmctldPort=$(slurm_port)
	SlurmdPort=$(slurm_port)
	SlurmUser=root
	AuthType=auth/munge
	CredType=cred/munge
	AuthInfo=socket=$SLURM_DIR/munge/sock
	StateSaveLocation=$SLURM_DIR/state
	SlurmdSpoolDir=$SLURM_DIR/spool
	SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
	SlurmdPidFile=$SLURM_DIR/slurmd.pid
	SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
	SlurmdLogFile=$SLURM_DIR/log/slurmd.log
	MailProg=/bin/true
	ProctrackType=proctrack/linuxproc
	TaskPlugin=task/none
	JobAcctGatherType=jobacct_gather/none
	AccountingStorageType=accounting_storage/none
	SelectType=select/cons_tres
	SelectTypeParameters=CR_Core
	SchedulerParameters=batch_sched_delay=0,sched_interval=1
	ReturnToService=2
	MinJobAge=300
	$node
	PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
	CONF
	SLURM_CONF=$SLURM_DIR/slurm.conf
	export SLURM_CONF
	slurmctld -c -f "$SLURM_CONF" || { slurm_stop; return 1; }
	slurmd -f "$SLURM_CONF" || { slurm_stop; return 1; }
	# idle once slurmd registered: about a second
	i=0
	until [ "$(sinfo -h -o %T 2>/dev/null)" = idle ]; do
		i=$((i + 1))
		if [ $i -gt 300 ]; then
			echo "slurm: the node did not become idle: $(sinfo -h -o '%T %E' 2>&1)" >&2
			tail -n 5 "$SLURM_DIR/log/slurmctld.log" "$SLURM_DIR/log/slurmd.log" >&2
			slurm_stop
			return 1
		fi
		sleep 0.05
	done
}

# slurm_stop: cancels every job first (slurmd's death leaves slurmstepd and
# the jobs running), waits for them to go, then stops the daemons by PID.
slurm_stop() {
	[ -n "${SLURM_DIR:-}" ] || return 0
	if [ -f "$SLURM_DIR/slurmctld.pid" ]; then
		scancel --full -u "$(id -un)" 2>/dev/null
		i=0
		while [ -n "$(squeue -h -o %i 2>/dev/null)" ] && [ $i -lt 100 ]; do
			i=$((i + 1))
			sleep 0.05
		done
	fi
	for p in slurmd slurmctld munge/pid; do
		f=$SLURM_DIR/$p
		case $p in munge/*) ;; *) f=$f.pid ;; esac
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		kill "$pid" 2>/dev/null
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
			i=$((i + 1))
			sleep 0.05
		done
		kill -9 "$pid" 2>/dev/null
		rm -f "$f"
	done
	SLURM_DIR=
}

# slurm_test_cluster: the cluster of a test that needs it in every case,
# under $TRASH/slurm: "ok 1 # skip" and exit 0 without the packages, "not ok
# 1" and exit 1 when it does not start; stopped (and the trash cleaned) on
# exit.
slurm_test_cluster() {
	if ! slurm_have; then
		echo "ok 1 # skip slurm-wlm and munge are not installed (./bootstrap test installs them)"
		echo "1..1"
		exit 0
	fi
	trap 'slurm_stop; cleanup' EXIT
	if ! slurm_start "$TRASH/slurm"; then
		echo "not ok 1 - the one-node Slurm cluster starts"
		echo "1..1"
		exit 1
	fi
}
