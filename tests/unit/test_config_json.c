/*
 * test_config_json.c: the logged configuration read back (config_from_json,
 * for `loopgate resume`) is the configuration that was logged.
 */
#include "unit.h"
#include "config/config.h"

#include <jansson.h>
#include <stdlib.h>

static char *dump_of(const struct config *c)
{
	void *jv = NULL;
	char *s;
	config_to_json(c, &jv);
	s = json_dumps(jv, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(jv);
	return s;
}

TEST(round_trip)
{
	static const char yaml[] =
		"goal: make it add\n"
		"gates:\n"
		"  - run: sh test.sh\n"
		"    focus: sh test.sh {failed}\n"
		"    timeout: 90s\n"
		"    junit: 'reports/*.xml'\n"
		"  - make lint\n"
		"model: openai/m\n"
		"max_iterations: 4\n"
		"max_cost: 1.5\n"
		"max_tokens: 50000\n"
		"deadline: 30m\n"
		"protect: ['docs/**']\n"
		"context: ['README.md']\n"
		"stall_after: 5\n"
		"confirm: 2\n"
		"temperature: 0.2\n"
		"stream: false\n"
		"http:\n  retries: 7\n  read_timeout: 45s\n"
		"models:\n  m:\n    provider: openai\n    price_in: 0.15\n"
		"    price_out: 0.6\n    base_url: http://127.0.0.1:9/v1\n";
	struct config a, b;
	struct buf err = BUF_INIT;
	void *jv = NULL;
	char *da, *db;

	config_init(&a);
	config_init(&b);
	CHECK_INT(config_load_string(&a, "t.yaml", yaml, sizeof(yaml) - 1, &err), 0);
	CHECK_INT(config_finalize(&a, &err), 0);
	CHECK_INT(config_to_json(&a, &jv), 0);
	CHECK_INT(config_from_json(&b, jv, &err), 0);
	json_decref(jv);
	CHECK_INT(config_finalize(&b, &err), 0);
	CHECK_INT(b.gates.n, 2);
	CHECK_STR(config_gate_opts(&b, 0)->focus, "sh test.sh {failed}");
	CHECK_INT(config_gate_opts(&b, 0)->timeout_ms, 90000);
	CHECK_STR(config_gate_opts(&b, 0)->junit, "reports/*.xml");
	CHECK(config_gate_opts(&b, 1)->focus == NULL);
	CHECK_INT(b.deadline_ms, 30L * 60 * 1000);
	CHECK_INT(b.retries, 7);
	CHECK(b.max_cost > 1.49 && b.max_cost < 1.51);
	CHECK_INT(b.stream, 0);
	da = dump_of(&a);
	db = dump_of(&b);
	CHECK_STR(db, da);
	free(da);
	free(db);
	config_release(&a);
	config_release(&b);
	buf_release(&err);
}

TEST(not_a_config)
{
	struct config c;
	struct buf err = BUF_INIT;
	json_t *j = json_pack("{s:s}", "goal", "g");
	config_init(&c);
	CHECK(config_from_json(&c, j, &err) < 0);
	CHECK_CONTAINS(err.s, "holds no configuration");
	CHECK(config_from_json(&c, NULL, &err) < 0);
	json_decref(j);
	config_release(&c);
	buf_release(&err);
}

int main(void)
{
	RUN(round_trip);
	RUN(not_a_config);
	return unit_done();
}
