/*
 * test_agent: the agent presets' usage parsers as a table of reports (cut
 * down from what the pinned CLIs printed against tests/fake/
 * fake_agent_api.py), and what the presets put in argv, env and the
 * allow-list.
 */
#include "unit.h"
#include "actor/agent.h"

#include <errno.h>
#include <math.h>
#include <string.h>

struct usage_case {
	const char *preset;
	const char *out;
	int ret;
	long in, out_tokens;
	double cost;
};

static const struct usage_case cases[] = {
	/* claude -p --output-format json: modelUsage wins (side models too) */
	{"claude",
	 "{\"type\":\"result\",\"subtype\":\"success\",\"total_cost_usd\":0.01125,"
	 "\"usage\":{\"input_tokens\":3000,\"cache_creation_input_tokens\":0,"
	 "\"cache_read_input_tokens\":0,\"output_tokens\":150},\"modelUsage\":{"
	 "\"claude-sonnet-4-5\":{\"inputTokens\":3000,\"outputTokens\":150,"
	 "\"cacheReadInputTokens\":200,\"cacheCreationInputTokens\":10},"
	 "\"claude-haiku\":{\"inputTokens\":40,\"outputTokens\":5}}}\n",
	 0, 3250, 155, 0.01125},
	{"claude",
	 "warming up\n{\"type\":\"result\",\"total_cost_usd\":0.5,\"usage\":{"
	 "\"input_tokens\":10,\"cache_read_input_tokens\":5,\"output_tokens\":2}}\n",
	 0, 15, 2, 0.5},
	{"claude", "Error: connection refused\n", -ENODATA, 0, 0, -1},
	/* codex exec --json: every turn.completed, among other events */
	{"codex",
	 "{\"type\":\"thread.started\",\"thread_id\":\"x\"}\n"
	 "{\"type\":\"turn.started\"}\n"
	 "{\"type\":\"item.completed\",\"item\":{\"type\":\"agent_message\",\"text\":\"{\"}}\n"
	 "{\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":3000,"
	 "\"cached_input_tokens\":1000,\"output_tokens\":150,"
	 "\"reasoning_output_tokens\":20}}\n"
	 "{\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":7,\"output_tokens\":3}}\n",
	 0, 3007, 153, -1},
	{"codex", "{\"type\":\"turn.failed\",\"error\":{}}\n", -ENODATA, 0, 0, -1},
	/* gemini -o json: pretty-printed, after warnings on the same stream */
	{"gemini",
	 "Warning: 256-color support not detected.\n{\n  \"response\": \"ok\",\n"
	 "  \"stats\": {\n    \"models\": {\n      \"gemini-2.5-flash\": {\n"
	 "        \"tokens\": {\"input\": 3000, \"prompt\": 3000, \"candidates\": 150,\n"
	 "          \"total\": 3170, \"cached\": 0, \"thoughts\": 20, \"tool\": 0}\n"
	 "      }\n    }\n  }\n}\n",
	 0, 3000, 170, -1},
	/* qwen -o json: one array of messages, the result last */
	{"qwen",
	 "[{\"type\":\"system\",\"subtype\":\"init\"},{\"type\":\"assistant\","
	 "\"message\":{\"usage\":{\"input_tokens\":1000}}},{\"type\":\"result\","
	 "\"subtype\":\"success\",\"usage\":{\"input_tokens\":3000,\"output_tokens\":150,"
	 "\"cache_read_input_tokens\":0,\"total_tokens\":3150}}]\n",
	 0, 3000, 150, -1},
	/* opencode run --format json: step_finish parts; its cost not trusted */
	{"opencode",
	 "{\"type\":\"step_start\",\"part\":{}}\n"
	 "{\"type\":\"step_finish\",\"part\":{\"tokens\":{\"total\":1050,\"input\":1000,"
	 "\"output\":50,\"reasoning\":5,\"cache\":{\"write\":1,\"read\":2}},\"cost\":0.3}}\n"
	 "{\"type\":\"step_finish\",\"part\":{\"tokens\":{\"input\":1000,\"output\":50,"
	 "\"reasoning\":0,\"cache\":{\"write\":0,\"read\":0}},\"cost\":0}}\n",
	 0, 2003, 105, -1},
	/* aider: its Tokens lines, the session cost */
	{"aider",
	 "Tokens: 2.3k sent, 120 received. Cost: $0.0012 message, $0.0012 session.\n"
	 "Applied edit to calc.py\n"
	 "Tokens: 1k sent, 1.5k cache write, 80 received. Cost: $0.0030 message, "
	 "$0.0042 session.\n",
	 0, 4800, 200, 0.0042},
	{"aider", "Model gpt-x has no API key\n", -ENODATA, 0, 0, -1},
};

TEST(usage_table)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct usage_case *c = &cases[i];
		struct agent_usage u = {-1, -1, -2};
		int ret = agent_usage_read(agent_find(c->preset), c->out,
					   strlen(c->out), &u);
		CHECK_INT(ret, c->ret);
		if (ret < 0)
			continue;
		CHECK_INT(u.tokens_in, c->in);
		CHECK_INT(u.tokens_out, c->out_tokens);
		CHECK(fabs(u.cost - c->cost) < 1e-9);
	}
}

static int has(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return 1;
	return 0;
}

static void command(const char *name, const struct agent_ctx *x, struct strlist *argv,
		    struct strlist *env)
{
	agent_command(agent_find(name), x, argv, env);
}

TEST(argv_and_env)
{
	struct agent_ctx x = AGENT_CTX_INIT;
	struct strlist argv = STRLIST_INIT, env = STRLIST_INIT;

	x.bin = "/opt/claude";
	x.home = "/tmp/h";
	x.model = "m1";
	x.base_url = "http://127.0.0.1:9/\"x";
	x.budget_left = 0.25;
	command("claude", &x, &argv, &env);
	CHECK_STR(argv.v[0], "/opt/claude");
	CHECK(has(&argv, "--max-budget-usd") && has(&argv, "0.250000"));
	CHECK(has(&argv, "bypassPermissions") && has(&env, "IS_SANDBOX=1"));
	CHECK(has(&env, "ANTHROPIC_BASE_URL=http://127.0.0.1:9/\"x"));
	strlist_clear(&argv);
	strlist_clear(&env);
	/* codex ignores OPENAI_BASE_URL: a provider override, TOML-quoted */
	command("codex", &x, &argv, &env);
	CHECK(has(&argv, "danger-full-access") && has(&argv, "-"));
	CHECK(has(&argv, "model_providers.loopgate.base_url=\"http://127.0.0.1:9/\\\"x\""));
	CHECK(!has(&argv, "--max-budget-usd"));
	strlist_clear(&argv);
	strlist_clear(&env);
	command("opencode", &x, &argv, &env);
	CHECK(has(&argv, "loopgate/m1"));
	CHECK(env.n && strstr(env.v[env.n - 1], "OPENCODE_CONFIG_CONTENT=") &&
	      strstr(env.v[env.n - 1], "{env:OPENAI_API_KEY}"));
	strlist_clear(&argv);
	strlist_clear(&env);
	x.prompt_file = "/run/p.md";
	command("aider", &x, &argv, &env);
	CHECK(has(&argv, "--openai-api-base") && has(&argv, "/run/p.md"));
	CHECK(has(&argv, "/tmp/h/.aider.chat.history.md") && has(&argv, "--no-auto-commits"));
	strlist_clear(&argv);
	strlist_clear(&env);
}

TEST(hosts)
{
	struct agent_ctx x = AGENT_CTX_INIT;
	struct strlist l = STRLIST_INIT;
	struct buf err = BUF_INIT;

	CHECK_INT(agent_hosts(agent_find("claude"), &x, &l, &err), 0);
	CHECK(l.n == 1 && !strcmp(l.v[0], "api.anthropic.com"));
	strlist_clear(&l);
	x.base_url = "http://127.0.0.1:8080/v1";
	CHECK_INT(agent_hosts(agent_find("claude"), &x, &l, &err), 0);
	CHECK_STR(l.v[0], "127.0.0.1:8080");
	strlist_clear(&l);
	x.base_url = "https://User:pw@Proxy.Example./v1?k=1";
	CHECK_INT(agent_hosts(agent_find("qwen"), &x, &l, &err), 0);
	CHECK_STR(l.v[0], "proxy.example:443");
	strlist_clear(&l);
	x.base_url = "http://[::1]:11434";
	CHECK_INT(agent_hosts(agent_find("codex"), &x, &l, &err), 0);
	CHECK_STR(l.v[0], "[::1]:11434");
	strlist_clear(&l);
	x.base_url = "http://:80/";
	CHECK(agent_hosts(agent_find("codex"), &x, &l, &err) < 0);
	/* a multi-provider CLI gets only its model's provider */
	x.base_url = NULL;
	x.model = "anthropic/claude-x";
	CHECK_INT(agent_hosts(agent_find("opencode"), &x, &l, &err), 0);
	CHECK(l.n == 1 && !strcmp(l.v[0], "api.anthropic.com"));
	strlist_clear(&l);
	buf_release(&err);
	CHECK(agent_find("nope") == NULL);
}

int main(void)
{
	RUN(usage_table);
	RUN(argv_and_env);
	RUN(hosts);
	return unit_done();
}
