#!/bin/sh
# The prompt's history section stays bounded (issue 16): the latest 8
# iterations one line each, the older ones in one summary of facts loopgate
# computed; the request size stops growing with the run's length.
. "$(dirname "$0")/lib.sh"

test_expect_success 'a 20-iteration run: the request size stops growing; old iterations summarised' '
	make_repo long &&
	python3 -c "import json; print(json.dumps({\"replies\": [{\"content\": \"Try another.\\n\\n<<<<<<< FILE calc.py\\ndef add(a, b):\\n    return a - {n}\\n>>>>>>> END\\n\", \"number\": True}], \"repeat_last\": True}))" >s.json &&
	url=$(start_fake long s.json) &&
	expect_code 1 $LOOPGATE run --dir long --goal "make add() add" --gate "sh test.sh" \
		--model openai/m --base-url "$url" --max-iterations 20 --json >sum.json 2>err &&
	test "$(summary_field sum.json iterations)" = 20 &&
	python3 - "$TRASH/long.log" <<-\PY
	import json, sys
	reqs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
	assert len(reqs) == 20, len(reqs)
	user = [r["body"]["messages"][-1]["content"] for r in reqs]
	hist = [u[u.index("# History"):] if "# History" in u else "" for u in user]
	size = [len(h) for h in hist]
	# one line per iteration up to 8, then flat: the summary replaces them
	assert size[9] > size[2], size
	assert max(size[10:]) - min(size[10:]) < 120, size
	last = hist[19]
	assert "- iterations 1 to 11, summarised: changed 1 file(s) (calc.py 11 time(s)); gate 1 `sh test.sh` failed 11 time(s)" in last, last
	for n in range(12, 20):
	    assert "- iteration %d: changed calc.py; gate 1" % n in last, (n, last)
	assert "- iteration 11:" not in last, last
	print(size)
	PY
'

test_done
