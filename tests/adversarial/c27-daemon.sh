# CASE: a setsid double-forked daemon outlives its gate's timeout: it must be dead afterwards
adv_repo
tag=adv-daemon-$$-$(date +%s)
adv_attack d.sh <<SH
(setsid sh -c 'exec -a $tag sleep 300' </dev/null >/dev/null 2>&1 &) 
(setsid sh -c 'trap "" TERM HUP; exec -a $tag-immune sleep 300' </dev/null >/dev/null 2>&1 &)
echo daemons started
sleep 60
SH
adv_gate "sh attack/d.sh" --gate-timeout 2s
adv_event gate_end 'b["iteration"] == 0 and b["status"] == "timed_out"'
# bounded poll: the daemons are gone (pid 1 may reap slowly, so zombies count as gone)
i=0
while pgrep -f "$tag" | while read -r p; do
	st=$(awk '{print $3}' /proc/$p/stat 2>/dev/null || echo gone)
	[ "$st" = Z ] || [ "$st" = gone ] || echo alive
done | grep -q alive; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "daemon still alive:" >&2
		ps -ef | grep "$tag" | grep -v grep >&2
		pkill -KILL -f "$tag" || true
		false
	fi
	sleep 0.05
done
grep -q "daemons started" "$(adv_gate_output)"
adv_audited
