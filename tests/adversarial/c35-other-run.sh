# CASE: a gate writes into another run's tree and reads a secret file from it
# Closed 2026-11-25: other runs' trees were readable through the read-only
# root; the sandbox now masks the repository's .loopgate (a tmpfs) and binds
# back only this run's directory (read-only) and tree.
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
