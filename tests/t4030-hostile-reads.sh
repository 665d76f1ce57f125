#!/bin/sh
# Host-side reads of the actor's tree (saferead): a command actor leaves
# symlinks out of the tree (the audit key, /etc/shadow, a file beside the
# repository, a masked .env), "..", a FIFO, /dev/zero, a socket, a directory
# and a huge file where loopgate reads context files, JUnit reports and the
# files a gate's output names.  No secret reaches a prompt, log or report,
# and nothing blocks.
. "$(dirname "$0")/lib.sh"

echo "OUTSIDE-SECRET-4242" >"$TRASH/outside-secret.txt"

# Turn 1 plants the traps (git lists no untracked FIFO, socket or directory:
# those reach the context only in tests/unit/test_saferead.c); turn 2 keeps the prompt it was given and fixes.
cat >"$TRASH/hostile.sh" <<'SH'
#!/bin/sh
if [ "$LOOPGATE_ITERATION" = 1 ]; then
	up=../../../../../../../../../../../..
	ln -s "$HOME/.config/loopgate/audit-key.pem" key.md
	ln -s /etc/shadow shadow.md
	ln -s "$TRASH/outside-secret.txt" abs.md
	ln -s "$up$TRASH/outside-secret.txt" rel.md
	ln -s .env dotenv.md
	ln -s /dev/zero zero.md
	mkfifo fifo.md
	mkdir dir.md
	python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("sock.md")'
	truncate -s 300M huge.md
	echo "an honest note" >note.md
	mkdir -p reports
	mkfifo reports/TEST-fifo.xml
	ln -s "$TRASH/outside-secret.txt" reports/TEST-out.xml
	ln -s /dev/zero reports/TEST-zero.xml
else
	cat >"$TRASH/prompt-2"
	sed -i "s/a - b/a + b/" calc.py
fi
SH
chmod +x "$TRASH/hostile.sh"

# The gate names every trap as a location, so "Where to look" tries each.
cat >"$TRASH/names.sh" <<'SH'
for f in key.md shadow.md abs.md rel.md dotenv.md zero.md fifo.md dir.md sock.md \
	huge.md note.md ../outside-secret.txt reports/TEST-out.xml; do
	echo "$f:1: error: look here"
done
SH

# The hostile run the cases look at, made once (lib.sh use_setup).
traps_run() {
	make_repo repo &&
	echo "DOTENV-SECRET-77" >repo/.env &&

	printf "gates:\n  - run: sh test.sh; rc=\$?; sh $TRASH/names.sh; exit \$rc\n    junit: reports/TEST-*.xml\ncontext: [\"*.md\"]\nagent_env: [TRASH]\n" >repo/loopgate.yaml &&
	git -C repo add -A && git -C repo commit -qm setup &&
	expect_code 0 timeout 120 $LOOPGATE run $TRASH_WRITABLE --dir repo --goal "fix add" \
		--agent-cmd "$TRASH/hostile.sh" --json >s.json 2>err
}

test_expect_success 'traps in the tree: the run converges, nothing blocks' '
	use_setup traps traps_run &&
	test "$(summary_field s.json status)" = converged &&
	test -s home/.config/loopgate/audit-key.pem
'

test_expect_success 'the prompt says why each trap was left out' '
	use_setup traps traps_run &&
	grep -q "an honest note" prompt-2 &&
	grep -q "context file omitted: key.md: refused: it leads out of the tree" prompt-2 &&
	grep -q "context file omitted: rel.md: refused: it leads out of the tree" prompt-2 &&
	grep -q "context file omitted: zero.md: refused: it leads out of the tree" prompt-2 &&
	grep -q "context file omitted: dotenv.md: refused: a .env file" prompt-2 &&
	grep -q "context file omitted: shadow.md: refused: it leads out of the tree" prompt-2 &&
	grep -q "context file omitted: abs.md: refused: it leads out of the tree" prompt-2
'

test_expect_success 'no secret in any prompt, log, report or output' '
	use_setup traps traps_run &&
	run_dir=$(summary_field s.json run_dir) &&
	for f in prompt-2 s.json err $(find "$run_dir" repo/.loopgate -type f); do
		case $f in */tree/*) continue ;; esac
		! grep -q "OUTSIDE-SECRET-4242" "$f" || { echo "leak in $f"; exit 1; }
		! grep -q "DOTENV-SECRET-77" "$f" || { echo "leak in $f"; exit 1; }
		! grep -q "PRIVATE KEY" "$f" || { echo "key in $f"; exit 1; }
		! grep -q "^root:" "$f" || { echo "shadow in $f"; exit 1; }
	done &&
	! grep -rqa --exclude-dir=tree "OUTSIDE-SECRET-4242\|DOTENV-SECRET-77\|PRIVATE KEY" repo/.loopgate
'

test_done
