#!/bin/sh
# The HTML report (issue 13): report.html at the end of every run, `loopgate
# report` for any run, every section present, numbers equal to summary.json,
# hostile gate output shown as text, no script and no external reference,
# and the page as headless Chromium renders it from file:// (screenshots
# are kept in $LOOPGATE_SHOTS, default build/report-shots, for a person).
. "$(dirname "$0")/lib.sh"

SHOTS=${LOOPGATE_SHOTS:-$TEST_DIR/../build/report-shots}
mkdir -p "$SHOTS"

# An agent that gets add() wrong on its first turn and right on its second.
cat >"$TRASH/agent.sh" <<'SH'
#!/bin/sh
if [ "$LOOPGATE_ITERATION" = 1 ]; then
	sed -i 's/a - b/a * b/' calc.py
else
	sed -i 's/a \* b/a + b/' calc.py
fi
echo "agent turn $LOOPGATE_ITERATION <b>done</b>"
SH
# An agent that does nothing: the loop stalls.
printf '#!/bin/sh\necho idle\n' >"$TRASH/idle.sh"
chmod +x "$TRASH/agent.sh" "$TRASH/idle.sh"

# A gate printing HTML and a test summary loopgate parses.
cat >"$TRASH/hostile.sh" <<'SH'
#!/bin/sh
echo '<script>document.title="PWNED"</script>'
echo '<img src=x onerror=alert(2)> & "quotes"'
out=$(python3 -B -c 'import calc; print(calc.add(2, 3))')
if [ "$out" != 5 ]; then
	echo "calc.py:2: FAIL add(2, 3) returned $out"
	echo "2 passed, 1 failed"
	exit 1
fi
echo "3 passed, 0 failed"
SH

# check_html FILE [SUMMARY]: sections, numbers (against the run directory's
# summary.json), escaping and safety of one page.
check_html() {
	python3 - "$@" <<-'PY'
	import json, re, sys
	from html.parser import HTMLParser
	page = open(sys.argv[1], encoding="utf-8").read()
	for sec in ("summary", "budgets", "convergence", "spend", "iterations", "record",
	            "plot-tests", "plot-time", "plot-tokens", "plot-cost", "plot-cumcost",
	            "gate-grid", "audit"):
	    assert 'id="%s"' % sec in page, sec
	class P(HTMLParser):
	    def handle_starttag(self, tag, attrs):
	        assert tag not in ("script", "img", "iframe", "link", "object", "embed",
	                           "form", "base", "a", "audio", "video", "source"), tag
	        if tag == "meta" and dict(attrs).get("http-equiv") == "Content-Security-Policy":
	            self.csp = dict(attrs)["content"]
	        for k, v in attrs:
	            assert k not in ("src", "href", "action", "srcset", "formaction",
	                             "xlink:href", "background", "poster"), (tag, k, v)
	            assert not k.startswith("on"), (tag, k)
	            assert "url(" not in (v or ""), (tag, k, v)
	p = P(); p.csp = None; p.feed(page)
	assert p.csp.startswith("default-src 'none'; style-src 'unsafe-inline'"), p.csp
	assert "url(" not in page.split("</style>")[0], "a CSS url()"
	assert not re.search(r"https?://", page.split("<main>")[0]), "a URL in the head"
	if len(sys.argv) > 2:
	    s = json.load(open(sys.argv[2]))
	    cells = dict(re.findall(r'data-k="([a-z_]+)">([^<]*)<', page))
	    assert int(cells["iterations"]) == s["iterations"], (cells, s)
	    assert int(cells["tokens_in"]) == s["tokens_in"], (cells, s)
	    assert int(cells["tokens_out"]) == s["tokens_out"], (cells, s)
	    assert abs(float(cells["cost_usd"]) - s["cost_usd"]) < 1e-4, (cells, s)
	    assert abs(float(cells["elapsed_s"]) - s["elapsed_s"]) < 1e-3, (cells, s)
	    assert cells["branch"] == s["branch"], cells
	    assert 'class="pill %s"' % s["status"] in page
	    n = len(re.findall(r'<details class="iter"', page))
	    assert n == s["iterations"] + 1, (n, s["iterations"])
	PY
}

# priced REPO: prices for the fake model, so --max-cost is allowed.
priced() {
	printf "models:\n  openai/test-model:\n    price_in: 100\n    price_out: 200\n" >"$1/loopgate.yaml" &&
	git -C "$1" add loopgate.yaml && git -C "$1" commit -qm prices
}

# render NAME FILE: dumps the DOM as Chromium builds it from file://
# (NAME.dom, console in NAME.console) and saves a screenshot.
render() {
	command -v chromium >/dev/null || { echo "chromium is not installed (./bootstrap installs it)"; return 1; }
	TMPDIR="$TRASH" timeout 60 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$TRASH/chrome" \
		--enable-logging=stderr --v=0 --dump-dom "file://$2" >"$1.dom" 2>"$1.console" &&
	TMPDIR="$TRASH" timeout 60 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$TRASH/chrome" \
		--window-size=1200,2400 --screenshot="$SHOTS/$1.png" "file://$2" >/dev/null 2>&1 &&
	test -s "$SHOTS/$1.png" && test -s "$1.dom" &&
	! grep "CONSOLE" "$1.console"
}

# The runs and pages the cases look at, each made once (lib.sh use_setup)
# by whichever case needs it first; a case that changes a run (gives a
# verdict) makes its own.
# converged_run: a converged model run (repo, sum.json).
converged_run() {
	make_repo repo && priced repo &&
	reply_script wrong-then-fix >s.json &&
	url=$(start_fake oa s.json) &&
	expect_code 0 $LOOPGATE run --dir repo --goal "make add() <b>add</b>" \
		--gate "sh test.sh" --model openai/test-model --base-url "$url" \
		--max-iterations 5 --max-cost 2 --json >sum.json 2>err
}
# hostile_run: a run whose gate prints HTML; its report as hostile.html.
hostile_run() {
	make_repo hrepo &&
	cp hostile.sh hrepo/test.sh && git -C hrepo commit -qam hostile &&
	expect_code 0 $LOOPGATE run --dir hrepo --goal "fix add" --gate "sh test.sh" \
		--agent-cmd "$TRASH/agent.sh" --json >hsum.json 2>err &&
	cp "$(summary_field hsum.json run_dir)/report.html" hostile.html
}
# stalled_run: a run that stalls; its report as stalled.html.
stalled_run() {
	make_repo srepo &&
	expect_code 1 $LOOPGATE run --dir srepo --goal "fix add" --gate "sh test.sh" \
		--agent-cmd "$TRASH/idle.sh" --max-iterations 6 --json >ssum.json 2>err &&
	cp "$(summary_field ssum.json run_dir)/report.html" stalled.html
}
# lanes_page: the converged run's log doctored into several workers'
# (lanes/), rendered as lanes.html.
lanes_page() {
	run_dir=$(summary_field "$(shared_setup conv converged_run)/sum.json" run_dir) &&
	cp -r "$run_dir" lanes &&
	python3 - lanes/events.jsonl <<-EOF &&
	import json, sys
	recs = [json.loads(l) for l in open(sys.argv[1])]
	with open(sys.argv[1], "w") as f:
	    for r in recs:
	        it = r["body"].get("iteration")
	        if isinstance(it, int) and it > 0:
	            r["body"]["worker"] = it
	        f.write(json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n")
	EOF
	$LOOPGATE report lanes -o lanes.html
}

test_expect_success 'a converged run leaves report.html; numbers match summary.json' '
	use_setup conv converged_run &&
	run_dir=$(summary_field sum.json run_dir) &&
	test -f "$run_dir/report.html" &&
	grep -q "report $run_dir/report.html" err &&
	check_html "$run_dir/report.html" "$run_dir/summary.json" &&
	grep -q "make add() &lt;b&gt;add&lt;/b&gt;" "$run_dir/report.html" &&
	grep -q "<span class=\"d-add\">+    return a + b</span>" "$run_dir/report.html" &&
	grep -q "intact</span>: " "$run_dir/report.html" &&
	grep -q "checkpoints verified" "$run_dir/report.html"
'

test_expect_success 'loopgate report renders any past run, by id prefix or directory' '
	use_setup conv converged_run &&
	run_dir=$(summary_field sum.json run_dir) &&
	id=$(summary_field sum.json run_id) &&
	(cd repo && $LOOPGATE report "$(echo $id | cut -c1-15)" -o "$TRASH/again.html") &&
	$LOOPGATE report "$run_dir" -o - >stdout.html &&
	cmp again.html stdout.html &&
	check_html again.html "$run_dir/summary.json" &&
	expect_code 2 $LOOPGATE report --dir repo nosuchrun 2>e2 &&
	expect_code 2 $LOOPGATE report 2>e3 &&
	$LOOPGATE report --help | grep -q "self-contained"
'

test_expect_success 'hostile gate output is text; failure lines are marked' '
	use_setup hostile hostile_run &&
	run_dir=$(summary_field hsum.json run_dir) &&
	check_html "$run_dir/report.html" "$run_dir/summary.json" &&
	cmp "$run_dir/report.html" hostile.html &&
	grep -q "&lt;script&gt;document.title=&quot;PWNED&quot;&lt;/script&gt;" hostile.html &&
	grep -q "&lt;img src=x onerror=alert(2)&gt; &amp; &quot;quotes&quot;" hostile.html &&
	grep -q "<mark>calc.py:2: FAIL add(2, 3) returned 6</mark>" hostile.html &&
	grep -q "agent turn 1 &lt;b&gt;done&lt;/b&gt;" hostile.html &&
	python3 - hostile.html <<-EOF
	import re, sys
	page = open(sys.argv[1]).read()
	tests = page.split("id=\"plot-tests\"")[1].split("</figure>")[0]
	# baseline, iteration 1, iteration 2: executed, failed, skipped each
	assert len(re.findall(r"<circle class=\"pt\"", tests)) == 9, tests
	assert "baseline: executed 3" in tests and "iteration 2: failed 0" in tests
	EOF
'

test_expect_success 'a stalled run: halted, report written, stall marked on the timeline' '
	use_setup stalled stalled_run &&
	test "$(summary_field ssum.json status)" = stalled &&
	run_dir=$(summary_field ssum.json run_dir) &&
	check_html "$run_dir/report.html" "$run_dir/summary.json" &&
	cmp "$run_dir/report.html" stalled.html &&
	grep -q "<span class=\"tag\">stall</span>" stalled.html &&
	grep -q "<line class=\"mark\"" stalled.html &&
	grep -q "pill stalled" stalled.html
'

test_expect_success 'a log with several workers gets one lane each; a doctored log says so' '
	use_setup lanes lanes_page &&
	check_html lanes.html &&
	test "$(grep -c "<tr class=\"lane\">" lanes.html)" = 3 &&
	grep -q "worker 2 · gate 1" lanes.html &&
	grep -q "tampered</span>" lanes.html
'

test_expect_success 'a recorded path that leaves the run directory is not read' '
	use_setup conv converged_run &&
	mkdir -p evil && run_dir=$(summary_field sum.json run_dir) &&
	cp "$run_dir/events.jsonl" evil/ &&
	echo "SECRET-OUTSIDE" >outside.txt &&
	sed -i "s#\"output_file\":\"iter-001/gate-1.out\"#\"output_file\":\"../outside.txt\"#" evil/events.jsonl &&
	grep -q "../outside.txt" evil/events.jsonl &&
	$LOOPGATE report evil -o evil.html &&
	! grep -q SECRET-OUTSIDE evil.html
'

test_expect_success 'a killed run has no report; its resume writes one with the resume on record' '
	make_repo krepo &&
	LOOPGATE_FAULT=kill:event.iteration_end@1 expect_code 137 $LOOPGATE run --dir krepo \
		--goal "fix add" --gate "sh test.sh" --agent-cmd "$TRASH/agent.sh" >/dev/null 2>kill.err &&
	run_dir=$(ls -d krepo/.loopgate/runs/*) &&
	test ! -f "$run_dir/report.html" &&
	$LOOPGATE report "$run_dir" -o partial.html &&
	check_html partial.html && grep -q "pill running" partial.html &&
	grep -q "no run_end record" partial.html &&
	$LOOPGATE resume "$(basename "$run_dir")" --dir krepo --json >ksum.json 2>resume.err &&
	test "$(summary_field ksum.json status)" = converged &&
	check_html "$run_dir/report.html" "$run_dir/summary.json" &&
	grep -q "<b>resume</b>" "$run_dir/report.html" &&
	grep -q "<span class=\"tag\">resume</span>" "$run_dir/report.html"
'

test_expect_success 'a review verdict is rendered into report.html' '
	converged_run &&
	run_dir=$(summary_field sum.json run_dir) &&
	id=$(summary_field sum.json run_id) &&
	! grep -q "class=\"verdict\"" "$run_dir/report.html" &&
	$LOOPGATE review "$id" --accept --note "looks <i>right</i>" --reviewer ann --dir repo >rv.out &&
	grep -q "<span class=\"verdict\">accepted</span> by ann: looks &lt;i&gt;right&lt;/i&gt;" "$run_dir/report.html" &&
	check_html "$run_dir/report.html"
'

test_expect_success 'chromium renders the pages from file:// with no console error' '
	use_setup conv converged_run && use_setup hostile hostile_run &&
	use_setup stalled stalled_run && use_setup lanes lanes_page &&
	run_dir=$(summary_field sum.json run_dir) &&
	render converged "$run_dir/report.html" &&
	render hostile "$TRASH/hostile.html" &&
	render stalled "$TRASH/stalled.html" &&
	render lanes "$TRASH/lanes.html" &&
	python3 - <<-EOF
	import re
	def plot(dom, name):
	    return dom.split("id=\"plot-%s\"><figure" % name)[1].split("</figure>")[0]
	# rounds, then the points each plot must hold: test counts (3 series
	# where a runner was recognised), cumulative cost (one per round)
	for name, rounds, tests in (("converged", 3, 3), ("hostile", 3, 9),
	                            ("stalled", 3, 0), ("lanes", 3, 3)):
	    dom = open(name + ".dom").read()
	    assert len(re.findall(r"<details class=\"iter\"", dom)) == rounds, name
	    assert len(re.findall(r"<div class=\"budget\">", dom)) == 4, name
	    for p in ("tests", "time", "tokens", "cost", "cumcost"):
	        assert "id=\"plot-%s\"><figure" % p in dom, (name, p)
	    n = len(re.findall(r"<circle class=\"pt\"", plot(dom, "tests")))
	    assert n == tests, (name, n)
	    n = len(re.findall(r"<circle class=\"pt\"", plot(dom, "cumcost")))
	    assert n == rounds, (name, n)
	    assert "<svg" in plot(dom, "time") and "<rect class=\"bar\"" in plot(dom, "time")
	assert "<line class=\"mark\"" in plot(open("stalled.dom").read(), "tests")
	dom = open("hostile.dom").read()
	assert "PWNED" not in re.search(r"<title>[^<]*", dom).group(0)
	assert "<script" not in dom and "<img" not in dom
	assert "&lt;script&gt;document.title" in dom
	EOF
'

test_expect_success 'the page forbids script even if escaping failed (CSP)' '
	use_setup hostile hostile_run &&
	sed "s|<meta name=\"referrer\"|<script>document.title=\"PWNED\"</script><meta name=\"referrer\"|" \
		hostile.html >injected.html &&
	grep -q "<script>document.title" injected.html &&
	TMPDIR="$TRASH" timeout 60 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$TRASH/chrome" \
		--enable-logging=stderr --v=0 --dump-dom "file://$TRASH/injected.html" >inj.dom 2>inj.console &&
	grep "<title>" inj.dom | head -n 1 | grep -v PWNED &&
	grep -q "violates the following Content Security Policy" inj.console
'

test_done
