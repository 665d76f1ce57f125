# tests/lib.sh: the end-to-end test library, sourced by tests/tNNNN-*.sh.
# tests/README.md says how the scripts are laid out and how to write a case.
#
#   . "$(dirname "$0")/lib.sh"
#   test_expect_success 'what it shows' '
#       make_repo repo &&
#       ...
#   '
#   test_done
#
# Each case runs in a subshell with `set -e` in its own directory
# $TRASH_ROOT/cN, which is $TRASH and $PWD inside the case, with its own
# HOME ($TRASH/home): no case can read what an earlier case left behind.
# Files the script writes at top level (outside any case, into $TRASH before
# the first case) are its shared fixtures: each case sees them as symlinks
# in its own $TRASH.  Setup that several cases need and that depends on
# nothing is a function called in each case (see tests/README.md).
# Everything is removed at the end unless LOOPGATE_KEEP=1.
#
# One exception: a script that sets TEST_STEPS=1 before sourcing lib.sh is
# one scenario on one shared resource (a cluster whose jobs live across
# cases): its cases are steps, run in order in one directory ($TRASH_ROOT),
# and selecting step N runs the steps before it too.
#
# Run only some cases: LOOPGATE_CASES=3,5-7 sh tests/t0001-cli.sh, or
# sh tests/t0001-cli.sh --run=3,5-7 (as git's t/).  The others print
# "ok N # skip" and tests/run.sh counts them neither passed nor failed.
# Prints TAP lines that tests/run.sh counts.  $LOOPGATE is the binary under test.
set -u
TEST_DIR=$(cd "$(dirname "$0")" && pwd)
LOOPGATE=${LOOPGATE_BIN:-$TEST_DIR/../loopgate}
FAKE=$TEST_DIR/fake/fake_model.py
# Not under /tmp: the sandbox mounts a fresh /tmp over it, and gates and
# agent scripts here must see the scratch files (read-only by default).
TRASH=$(mktemp -d "${LOOPGATE_TEST_TMP:-/var/tmp}/loopgate-t.XXXXXX")
TRASH_ROOT=$TRASH
# Gates and agents that write scratch files outside their tree need this:
#   $LOOPGATE run ... $TRASH_WRITABLE
printf 'write: ["%s"]\n' "$TRASH" >"$TRASH/trash-writable.yaml"
TRASH_WRITABLE="--policy $TRASH/trash-writable.yaml"
export LOOPGATE TRASH TRASH_ROOT FAKE TEST_DIR TRASH_WRITABLE
# A predictable environment: no user config, no real keys.
unset OPENAI_API_KEY ANTHROPIC_API_KEY LOOPGATE_CONFIG XDG_CONFIG_HOME LOOPGATE_AUDIT_KEY || true
export HOME=$TRASH/home GIT_CONFIG_NOSYSTEM=1 LC_ALL=C
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com
export GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
mkdir -p "$HOME"
test_count=0
test_failures=0
# --run=LIST (the script's argument) or LOOPGATE_CASES=LIST: which cases run
test_run=${LOOPGATE_CASES:-}
for arg in "$@"; do
	case $arg in --run=*) test_run=${arg#--run=} ;; esac
done

cleanup() {
	if [ "${LOOPGATE_KEEP:-0}" = 1 ]; then
		sh "$TEST_DIR/sweep.sh" --keep "$TRASH_ROOT"
		echo "# kept $TRASH_ROOT" >&2
	else
		sh "$TEST_DIR/sweep.sh" "$TRASH_ROOT"
	fi
}
trap cleanup EXIT

# test_selected N: true when case N is to run (no list: every case).  A list
# is numbers and ranges separated by commas: 3,5-7.
test_selected() {
	[ -z "$test_run" ] && return 0
	for r in $(echo "$test_run" | tr ',' ' '); do
		case $r in
		*-*) [ "$1" -ge "${r%-*}" ] && [ "$1" -le "${r#*-}" ] && return 0 ;;
		*) [ "$1" -eq "$r" ] && return 0 ;;
		esac
	done
	return 1
}

# test_step_needed N: in a TEST_STEPS script, step N comes before a
# selected one (it is that one's setup).
test_step_needed() {
	[ "${TEST_STEPS:-0}" = 1 ] && [ -n "$test_run" ] || return 1
	for r in $(echo "$test_run" | tr ',' ' '); do
		[ "$1" -lt "${r#*-}" ] && return 0
	done
	return 1
}

# case_dir DIR: makes DIR (a case's or a shared setup's) with its HOME and
# a symlink to each of the script's shared fixtures (the top-level entries
# of $TRASH_ROOT).
case_dir() {
	d=$1
	mkdir -p "$d/home"
	# the case's HOME starts as what the top level put in the script's HOME
	cp -a "$TRASH_ROOT/home/." "$d/home/"
	for f in "$TRASH_ROOT"/*; do
		case ${f##*/} in c[0-9]* | setup) continue ;; esac
		[ -e "$f" ] || [ -L "$f" ] || continue
		[ -e "$d/${f##*/}" ] || ln -s "$f" "$d/${f##*/}"
	done
	echo "$d"
}

test_expect_success() {
	test_count=$((test_count + 1))
	desc=$1
	if ! test_selected "$test_count" && ! test_step_needed "$test_count"; then
		echo "ok $test_count # skip - $desc"
		return 0
	fi
	if [ "${TEST_STEPS:-0}" = 1 ]; then
		case_trash=$TRASH_ROOT
	else
		case_trash=$(case_dir "$TRASH_ROOT/c$test_count")
	fi
	# fd 9: the case's log whatever the body redirects (expect_code's
	# complaints reach it even from `expect_code ... 2>err`)
	(TRASH=$case_trash HOME=$case_trash/home && export TRASH HOME && cd "$TRASH" &&
		set -e && { [ "${LOOPGATE_TRACE:-0}" = 1 ] && set -x; eval "$2"; }) \
		>"$TRASH_ROOT/.out.$test_count" 2>&1 9>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok $test_count - $desc"
	else
		test_failures=$((test_failures + 1))
		echo "not ok $test_count - $desc"
		tail -n 40 "$TRASH_ROOT/.out.$test_count" | sed 's/^/#   /'
	fi
}

# shared_setup NAME FUNC [ARG...]: an expensive setup several cases need,
# made once per script.  The first call runs FUNC ARG... in its own
# directory $TRASH_ROOT/setup/NAME (its $TRASH and $PWD, with its own HOME
# and the script's fixtures, as a case has); later calls only print that
# directory.  Every case that needs it calls it, so each case still runs on
# its own; FUNC must make the same thing whichever case calls it first,
# and its output goes to stderr (the case's log).
shared_setup() {
	ss_name=$1
	shift
	ss_dir=$TRASH_ROOT/setup/$ss_name
	if [ ! -f "$ss_dir.done" ]; then
		rm -rf "$ss_dir"
		case_dir "$ss_dir" >/dev/null &&
		(TRASH=$ss_dir HOME=$ss_dir/home && export TRASH HOME && cd "$TRASH" && "$@") >&2 &&
		touch "$ss_dir.done" || { echo "shared setup $ss_name failed" >&2; return 1; }
	fi
	echo "$ss_dir"
}

# use_setup NAME FUNC [ARG...]: shared_setup, then each thing the setup
# made in the case's directory, so the case reads them by their names
# (repo, sum.json, m.log): a copy of each file (what the case writes over it
# stays its own), a symlink to each directory; HOME becomes the setup's (its
# runs were signed with the audit key there).  For cases that only look: a
# case that changes the setup's run makes its own with FUNC instead.
use_setup() {
	us_dir=$(shared_setup "$@") || return 1
	HOME=$us_dir/home
	export HOME
	rmdir home 2>/dev/null && ln -s "$HOME" home
	for f in "$us_dir"/* "$us_dir"/.[!.]*; do
		[ -e "$f" ] || [ -L "$f" ] || continue
		case ${f##*/} in home) continue ;; esac
		[ -e "${f##*/}" ] || [ -L "${f##*/}" ] && continue
		if [ -f "$f" ] && [ ! -L "$f" ]; then
			cp -p "$f" "${f##*/}"
		else
			ln -s "$f" "${f##*/}"
		fi
	done
}

test_done() {
	echo "1..$test_count"
	[ "$test_failures" -eq 0 ]
}

# make_repo DIR: a git repository with one commit holding calc.py and a
# pytest-free test script: `sh test.sh` fails until add() is fixed.
make_repo() {
	mkdir -p "$1" && (
		cd "$1" &&
		git init -q -b main . &&
		cat >calc.py <<'PY' &&
def add(a, b):
    return a - b
PY
		cat >test.sh <<'SH' &&
#!/bin/sh
out=$(python3 -B -c 'import calc; print(calc.add(2, 3))')
if [ "$out" != 5 ]; then
	echo "test.sh:3: FAIL add(2, 3) returned $out, expected 5"
	exit 1
fi
echo "1 passed, 0 failed"
SH
		git add calc.py test.sh &&
		git commit -q -m initial
	)
}

# start_fake NAME SCRIPT.json: starts the fake model server; sets
# FAKE_URL_<NAME> style variables via the files NAME.port and NAME.log.
# Prints the base URL (http://127.0.0.1:PORT/v1).
start_fake() {
	fake_launch "$1" "$2" || return 1
	echo "http://127.0.0.1:$(cat "$TRASH/$1.port")/v1"
}

# fake_launch NAME SCRIPT.json [OPTION...]: the fake server in the
# background with those options (its pid in NAME.fakepid); returns once it
# listens (its port in NAME.port).
fake_launch() {
	name=$1 script=$2
	shift 2
	rm -f "$TRASH/$name.port"
	python3 "$FAKE" --script "$script" --log "$TRASH/$name.log" \
		--port-file "$TRASH/$name.port" "$@" >"$TRASH/$name.stdout" 2>"$TRASH/$name.err" &
	echo $! >"$TRASH/$name.fakepid"
	# wait for the port file: the server writes it once it listens
	i=0
	while [ ! -s "$TRASH/$name.port" ]; do
		i=$((i + 1))
		if [ $i -gt 500 ]; then echo "fake server did not start" >&2; cat "$TRASH/$name.err" >&2; return 1; fi
		sleep 0.01
	done
}

# start_fake_tls NAME SCRIPT.json CERT KEY HOST: start_fake over https, with
# that certificate; prints https://HOST:PORT/v1 (HOST: a name or address of
# 127.0.0.1, the one the certificate is checked against).
start_fake_tls() {
	fake_launch "$1" "$2" --tls-cert "$3" --tls-key "$4" || return 1
	echo "https://$5:$(cat "$TRASH/$1.port")/v1"
}

# json_get FILE EXPR: evaluates a python expression on the parsed JSON in d.
json_get() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# expect_code N CMD...: runs CMD, fails unless it exits with N.
expect_code() {
	want=$1
	shift
	set +e
	"$@"
	got=$?
	set -e
	if [ "$got" -ne "$want" ]; then
		echo "expected exit $want, got $got from: $*" >&2
		# into the case's log too, with the command's stderr when that
		# went to a file (2>err): a failure is never silent
		where=$(readlink /proc/self/fd/3 3>&2 2>/dev/null || true)
		log=$( (readlink /proc/self/fd/3 3>&9) 2>/dev/null || true)
		if [ -n "$log" ] && [ "$where" != "$log" ]; then
			{
				echo "expected exit $want, got $got from: $*"
				if [ -f "$where" ]; then
					echo "--- its stderr ($where), last lines:"
					tail -n 25 "$where"
				fi
			} >&9
		fi
		return 1
	fi
}

# script_file NAME: writes stdin (a fake server script, JSON) to $TRASH/NAME.
script_file() {
	cat >"$TRASH/$1"
	echo "$TRASH/$1"
}

# Canned model replies (tests/replies/, tests/README.md): the edit blocks
# as $REPLY_FIX (fixes calc.py's add()), $REPLY_WRONG (a wrong fix) and
# $REPLY_FIX_AFTER_WRONG (the fix after the wrong one), byte for byte (the
# x keeps the last newline from $(...)).
REPLIES=$TEST_DIR/replies
reply_text() {
	cat "$REPLIES/$1" && echo x
}
REPLY_FIX=$(reply_text fix.txt)
REPLY_FIX=${REPLY_FIX%x}
REPLY_WRONG=$(reply_text wrong.txt)
REPLY_WRONG=${REPLY_WRONG%x}
REPLY_FIX_AFTER_WRONG=$(reply_text fix-after-wrong.txt)
REPLY_FIX_AFTER_WRONG=${REPLY_FIX_AFTER_WRONG%x}
export REPLIES REPLY_FIX REPLY_WRONG REPLY_FIX_AFTER_WRONG

# reply_script NAME: the canned fake-server script tests/replies/NAME.json
# (fix, wrong-then-fix, wrong-forever), its content_file names made absolute so that a
# copy (reply_script fix >s.json) works from any directory.  A case can
# also pass "$REPLIES/NAME.json" to start_fake as it is.
reply_script() {
	python3 - "$REPLIES/$1.json" <<-'PY'
	import json, os, sys
	d = os.path.dirname(sys.argv[1])
	s = json.load(open(sys.argv[1]))
	for e in s.get("replies", []):
	    if "content_file" in e:
	        e["content_file"] = os.path.join(d, e["content_file"])
	print(json.dumps(s))
	PY
}

# replies_json TEXT...: a fake-server script whose replies are the texts.
replies_json() {
	python3 -c 'import json,sys; print(json.dumps({"replies":[{"content":a} for a in sys.argv[1:]]}))' "$@"
}

# req_field LOG N EXPR: evaluates EXPR on request N (1-based) of a fake log,
# with b = parsed body, h = headers.
req_field() {
	python3 -c '
import json,sys
reqs=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]
r=reqs[int(sys.argv[2])-1]; b=r["body"]; h=r["headers"]
print(eval(sys.argv[3]))' "$@"
}

# req_count LOG: how many requests the fake server received.
req_count() {
	if [ -f "$1" ]; then grep -c . "$1" || true; else echo 0; fi
}

# summary_field FILE KEY: one field of a --json summary.
summary_field() {
	python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(v)' "$1" "$2"
}

# events_kinds RUN_DIR: the kinds of the events, one per line.
events_kinds() {
	python3 -c 'import json,sys; [print(json.loads(l)["kind"]) for l in open(sys.argv[1]+"/events.jsonl")]' "$1"
}

# proc_dead PID: true when the process no longer runs (gone, or a zombie
# waiting for a slow init to reap it).
proc_dead() {
	[ ! -e "/proc/$1/stat" ] || sed 's/.*) //' "/proc/$1/stat" | grep -q '^[ZX]'
}

# one_reply NAME TEXT: a fake-server script answering TEXT, forever.
one_reply() {
	python3 -c 'import json,sys; print(json.dumps({"replies":[{"content":sys.argv[1]}],"repeat_last":True}))' "$2" >"$1.json"
}

# prompt_of LOG N: the user prompt of request N.
prompt_of() {
	req_field "$1" "$2" 'b["messages"][1]["content"]'
}

# events_ok RUN_DIR: every complete line of events.jsonl is a JSON object
# with seq, ts, kind and an object body; seq counts up from 0 (the chain's
# header, then the run's records from 1).  A torn last line (no newline) is
# reported, not tolerated.
events_ok() {
	python3 - "$1/events.jsonl" <<-'PY'
	import json, sys
	data = open(sys.argv[1], "rb").read()
	assert data, "events.jsonl is empty"
	assert data.endswith(b"\n"), "events.jsonl ends with a torn record: %r" % data[-200:]
	for i, line in enumerate(data.split(b"\n")[:-1]):
	    rec = json.loads(line)
	    assert (i == 0) == (rec["kind"] == "header"), (i, rec)
	    assert rec["seq"] == i, (i, rec)
	    assert isinstance(rec["body"], dict) and rec["kind"], rec
	PY
}

# event_bodies RUN_DIR KIND: the bodies of that kind, as a JSON list.
event_bodies() {
	python3 -c 'import json,sys; print(json.dumps([r["body"] for r in map(json.loads, open(sys.argv[1]+"/events.jsonl")) if r["kind"]==sys.argv[2]]))' "$1" "$2"
}

# small_disk DIR: mounts a 512 KiB tmpfs on DIR (needs root).  Fails loudly
# with the reason when it cannot: this test never pretends to pass.
small_disk() {
	mkdir -p "$1" &&
	if ! mount -t tmpfs -o size=512k tmpfs "$1" 2>mount.err; then
		echo "cannot mount a tmpfs on $1 (the full-disk tests need root" \
			"and mount(2)): $(cat mount.err)" >&2
		return 1
	fi
	echo "$1" >>"$TRASH_ROOT/.mounts"
}
