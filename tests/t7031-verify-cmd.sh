#!/bin/sh
# `loopgate verify` (issue 11 item 4b): judgment without tests.  A file, a
# question and a panel; the verdict with every vote; dissent shown; a
# malformed verdict is an abstention; exit 0 accept, 1 reject, 2 usage.
. "$(dirname "$0")/lib.sh"

# panel NAME GOAL GAMING SECURITY: a fake server whose three verifier models
# answer the given verdict kinds (accept, reject, prose).
panel() {
	python3 - "$@" >"$1.json" <<-\PY
	import json, sys
	def reply(kind, who):
	    if kind == "prose":
	        return {"content": "It reads well to me."}
	    if kind == "accept":
	        return {"content": json.dumps({"verdict": "accept", "confidence": 0.8, "reasons": []})}
	    return {"content": "```json\n" + json.dumps({"verdict": "reject", "confidence": 0.9,
	        "reasons": [{"file": "notes.md", "line": 3, "text": who + " finds the claim unsupported"}]}) + "\n```"}
	names = ["v-goal", "v-gaming", "v-security"]
	print(json.dumps({"models": {n: {"replies": [reply(k, n)], "repeat_last": True}
	                             for n, k in zip(names, sys.argv[2:5])}}))
	PY
	start_fake "$1" "$1.json"
}

cat >"$TRASH/panel.yaml" <<'EOF2'
verifiers:
  - name: goal
    brief: Does the text answer the question?
    model: openai/v-goal
  - name: gaming
    brief: Are sources invented or claims unsupported?
    model: openai/v-gaming
  - name: security
    brief: Does it leak anything secret?
    model: openai/v-security
EOF2
printf '# Notes\n\nThe cache halves latency.\nSource: trust me.\n' >"$TRASH/notes.md"

test_expect_success 'all accept: exit 0, every vote printed' '
	url=$(panel a accept accept accept) &&
	expect_code 0 $LOOPGATE verify --config panel.yaml --base-url "$url" \
		--input notes.md --question "Is the claim supported?" >out 2>err &&
	grep -q "^verdict: accept (3 of 3 verifiers accept, 2 needed)" out &&
	grep -q "^  goal  *accept *confidence 0.80" out &&
	grep -q "^  security  *accept" out &&
	test "$(req_count a.log)" = 3 &&
	req_field a.log 1 "b[\"messages\"][1][\"content\"]" | grep -q "Source: trust me." &&
	req_field a.log 1 "b[\"messages\"][1][\"content\"]" | grep -q "Is the claim supported?"
'

test_expect_success 'disagreement is shown: 2 of 3 accept, the dissent named' '
	url=$(panel d accept reject accept) &&
	expect_code 0 $LOOPGATE verify --config panel.yaml --base-url "$url" \
		--input notes.md --question "Is the claim supported?" >out 2>err &&
	grep -q "^2 of 3 accept (2 needed): accepted; gaming rejected: v-gaming finds the claim unsupported" out &&
	grep -q "notes.md:3: v-gaming finds the claim unsupported" out
'

test_expect_success 'a majority rejects: exit 1; --json holds every vote' '
	url=$(panel r reject reject accept) &&
	expect_code 1 $LOOPGATE verify --config panel.yaml --base-url "$url" \
		--input notes.md --question "Is the claim supported?" --json >r.out 2>err &&
	python3 -c "
import json,sys
o=json.load(open(sys.argv[1]))
assert o[\"verdict\"]==\"reject\" and not o[\"accepted\"], o
assert o[\"accepts\"]==1 and o[\"needed\"]==2 and o[\"of\"]==3, o
assert [b[\"name\"] for b in o[\"briefs\"]]==[\"goal\",\"gaming\",\"security\"], o
assert [b[\"accepted\"] for b in o[\"briefs\"]]==[False,False,True], o
v=o[\"briefs\"][0][\"votes\"][0]
assert v[\"reasons\"][0]=={\"file\":\"notes.md\",\"line\":3,\"text\":\"v-goal finds the claim unsupported\"}, v
assert o[\"calls\"]==3 and o[\"tokens_in\"]>0, o
assert \"goal rejected\" in o[\"summary\"] and \"gaming rejected\" in o[\"summary\"], o
" r.out
'

test_expect_success 'a malformed verdict is an abstention with its reason' '
	url=$(panel m accept prose reject) &&
	expect_code 1 $LOOPGATE verify --config panel.yaml --base-url "$url" \
		--input notes.md --question "Is the claim supported?" >out 2>err &&
	grep -q "^  gaming  *abstain the reply is not one JSON object" out &&
	grep -q "gaming abstained: the reply is not one JSON object" out &&
	grep -q "^verdict: reject (1 of 3" out
'

test_expect_success '--accept 1: one accepting verifier is enough' '
	url=$(panel m1 accept prose reject) &&
	expect_code 0 $LOOPGATE verify --config panel.yaml --base-url "$url" --accept 1 \
		--input notes.md --question "Is the claim supported?" >out 2>err &&
	grep -q "^verdict: accept (1 of 3 verifiers accept, 1 needed)" out
'

test_expect_success '--brief replaces the config: perspectives in the system prompt' '
	python3 -c "import json; print(json.dumps({\"replies\":[{\"content\":json.dumps({\"verdict\":\"accept\",\"confidence\":1,\"reasons\":[]})}],\"repeat_last\":True}))" >b.json &&
	url=$(start_fake b b.json) &&
	expect_code 0 $LOOPGATE verify --model openai/judge --base-url "$url" \
		--brief "Check the arithmetic." --brief "Check the sources." \
		--input notes.md --question "Sound?" >out 2>err &&
	test "$(req_count b.log)" = 2 &&
	req_field b.log 2 "b[\"messages\"][0][\"content\"]" | grep -q "Check the sources." &&
	test "$(req_field b.log 2 "b[\"model\"]")" = judge &&
	grep -q "^  brief-2  *accept" out
'

test_expect_success 'usage errors exit 2' '
	expect_code 2 $LOOPGATE verify --input notes.md 2>e1 &&
	grep -q "question" e1 &&
	expect_code 2 $LOOPGATE verify --question q --input notes.md --model openai/x 2>e2 &&
	grep -q "no verifier" e2 &&
	expect_code 2 $LOOPGATE verify --question q --input nope.md --brief b --model openai/x 2>e3 &&
	grep -q "nope.md" e3 &&
	expect_code 2 $LOOPGATE verify --question q --input notes.md --brief b 2>e4 &&
	grep -q "no model" e4 &&
	expect_code 2 $LOOPGATE verify --config panel.yaml --accept 4 --question q \
		--input notes.md 2>e5 &&
	grep -q "can never accept" e5 &&
	expect_code 2 $LOOPGATE verify --bogus 2>e6
'

test_expect_success 'the budget holds: --max-tokens too small for a call refuses it' '
	url=$(panel t accept accept accept) &&
	expect_code 3 $LOOPGATE verify --config panel.yaml --base-url "$url" --max-tokens 50 \
		--input notes.md --question "Is the claim supported?" >out 2>err &&
	grep -q "max-tokens" err &&
	test "$(req_count t.log)" = 0
'

test_done
