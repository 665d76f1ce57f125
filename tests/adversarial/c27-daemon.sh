# CASE: setsid double-forked daemons (one ignoring SIGTERM) outlive their gate's timeout: they must be dead afterwards
adv_repo
# a unique sleep length names the daemons: "sleep 3000.<tag>"
tag=$$$(date +%s)
adv_attack d.sh <<SH
(setsid sh -c 'exec sleep 3000.${tag}1' </dev/null >/dev/null 2>&1 &)
(setsid sh -c 'trap "" TERM HUP INT; exec sleep 3000.${tag}2' </dev/null >/dev/null 2>&1 &)
i=0
until [ \$(pgrep -fc "sleep 3000.${tag}") -ge 2 ] || [ \$i -gt 200 ]; do i=\$((i + 1)); sleep 0.01; done
echo "daemons running: \$(pgrep -fc "sleep 3000.${tag}")"
sleep 60
SH
adv_gate "sh attack/d.sh" --gate-timeout 2s
grep -q "daemons running: 2" "$(adv_gate_output)"
adv_event gate_end 'b["iteration"] == 0 and b["status"] == "timed_out"'
# bounded poll: the daemons are gone (pid 1 may reap slowly: zombies count as gone)
alive() {
	for p in $(pgrep -f "sleep 3000.$tag" || true); do
		st=$(awk '{print $3}' /proc/$p/stat 2>/dev/null || echo gone)
		[ "$st" = Z ] || [ "$st" = gone ] || echo "$p"
	done
}
i=0
while [ -n "$(alive)" ]; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "daemons still alive:" >&2
		ps -ef | grep "sleep 3000.$tag" | grep -v grep >&2
		for p in $(alive); do kill -KILL "$p"; done
		false
	fi
	sleep 0.05
done
adv_audited
