#!/bin/sh
# The terminal (issue 13): on a TTY a live status line (iteration, phase
# with its time, spend against each ceiling, the last gate result); plain
# one-line-per-step output with --no-progress or off a terminal; NO_COLOR
# drops the colours.  The run's stderr goes to a pseudo-terminal here.
. "$(dirname "$0")/lib.sh"

cat >"$TRASH/agent.sh" <<'SH'
#!/bin/sh
if [ "$LOOPGATE_ITERATION" = 1 ]; then sed -i 's/a - b/a * b/' calc.py; else sed -i 's/a \* b/a + b/' calc.py; fi
SH
chmod +x "$TRASH/agent.sh"

# on_pty OUT ENV... -- ARGS...: runs loopgate with stderr on a pty, the
# bytes it wrote to the terminal into OUT.
on_pty() {
	out=$1
	shift
	python3 - "$out" "$LOOPGATE" "$@" <<-'PY'
	import os, pty, sys
	out, exe, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
	sep = rest.index("--")
	env = dict(os.environ)
	for kv in rest[:sep]:
	    k, v = kv.split("=", 1)
	    env[k] = v
	pid, fd = pty.fork()
	if pid == 0:
	    os.dup2(os.open("/dev/null", os.O_WRONLY), 1)
	    os.execve(exe, [exe] + rest[sep + 1:], env)
	data = b""
	while True:
	    try:
	        chunk = os.read(fd, 65536)
	    except OSError:
	        break
	    if not chunk:
	        break
	    data += chunk
	_, status = os.waitpid(pid, 0)
	open(out, "wb").write(data)
	sys.exit(os.waitstatus_to_exitcode(status))
	PY
}

test_expect_success 'a terminal gets the status line, with every ceiling' '
	make_repo r1 &&
	on_pty tty.out NO_COLOR= -- run --dir r1 --goal "fix add" --gate "sh test.sh" \
		--agent-cmd "$TRASH/agent.sh" --max-iterations 4 --deadline 10m &&
	grep -a -q "$(printf "\033\\[7m loopgate \033\\[0m")" tty.out &&
	grep -a -q "iter 1/4 | agent running" tty.out &&
	grep -a -q "baseline | gate 1/1" tty.out &&
	grep -a -q "/10m00s" tty.out &&
	grep -a -q "last: .*gate 1 exit 1" tty.out &&
	grep -a -q "cost n/a (agent CLI)" tty.out
'

test_expect_success 'NO_COLOR: the same line without colours' '
	make_repo r2 &&
	on_pty nc.out NO_COLOR=1 -- run --dir r2 --goal "fix add" --gate "sh test.sh" \
		--agent-cmd "$TRASH/agent.sh" --max-iterations 4 &&
	grep -a -q "loopgate: iter 1/4 | agent running" nc.out &&
	! grep -a -q "$(printf "\033\\[7m")" nc.out &&
	! grep -a -q "$(printf "\033\\[3[12]m")" nc.out
'

test_expect_success '--no-progress, or no terminal: one plain line per step' '
	make_repo r3 &&
	on_pty np.out NO_COLOR= -- run --dir r3 --goal "fix add" --gate "sh test.sh" \
		--agent-cmd "$TRASH/agent.sh" --max-iterations 4 --no-progress &&
	! grep -a -q "$(printf "\033")" np.out &&
	! grep -a -q "agent running" np.out &&
	grep -a -q "loopgate: iteration 1: " np.out &&
	make_repo r4 &&
	$LOOPGATE run --dir r4 --goal "fix add" --gate "sh test.sh" \
		--agent-cmd "$TRASH/agent.sh" --max-iterations 4 2>plain.err &&
	! grep -a -q "$(printf "\033")" plain.err &&
	grep -q "loopgate: iteration 1: " plain.err
'

test_done
