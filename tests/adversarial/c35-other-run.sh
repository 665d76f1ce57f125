# CASE: a gate writes into another run's tree and reads a secret file from it
# KNOWN HOLE (sandbox, reported 2026-11-24): writing is blocked, but the
# read-only root shows other runs' trees under .loopgate/runs: a gate read
# a file only another run had.  The sandbox could mask the runs directory
# (a tmpfs) before binding this run's tree.  This case fails until it does.
adv_repo
# the first run leaves its tree behind, holding a file only it has
_adv_run --gate "sh test.sh" --agent-cmd "echo OTHER-RUN-SECRET-93e1 >secret.txt" \
	--max-iterations 1
first=$RUN
test -f "$first/tree/secret.txt"
cp "$first/tree/calc.py" calc.before
adv_attack o.sh <<'SH'
me=$(basename "$(cd .. && pwd)")
for t in ../../*/tree; do
	case "$t" in ../../$me/tree) continue ;; esac
	echo pwned >>"$t/calc.py" && echo "WROTE $t"
	cat "$t/secret.txt"
done
echo done
SH
_adv_run --gate "sh attack/o.sh; sh test.sh" --agent-cmd true --max-iterations 1
test "$RUN" != "$first"
f=$(adv_gate_output)
grep -q done "$f"
cmp calc.before "$first/tree/calc.py"
adv_out_lacks "$f" WROTE
adv_out_lacks "$f" OTHER-RUN-SECRET
adv_event gate_end 'b["output_file"] == "baseline/gate-1.out"'
adv_audited
