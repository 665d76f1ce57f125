/* Unit tests for src/config.c: parsing, errors, layering, finalize, JSON. */
#include "config/config.h"
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <jansson.h>

static const char full_yaml[] =
	"# every key\n"
	"goal: make the tests pass\n"					/* 2 */
	"gates:\n"
	"  - make\n"
	"  - make test\n"
	"model: openai/gpt-4o-mini\n"
	"base_url: https://proxy.example/v1\n"
	"api_key_env: MY_KEY\n"
	"agent_env: [ANTHROPIC_API_KEY, HOME_2]\n"
	"max_iterations: 7\n"						/* 10 */
	"max_cost: 1.25\n"
	"max_tokens: 200000\n"
	"deadline: 1h30m\n"
	"gate_timeout: 90s\n"
	"protect:\n"
	"  - 'tests/**'\n"
	"  - ci.sh\n"
	"context: [README.md]\n"
	"json: yes\n"
	"record: run.jsonl\n"						/* 20 */
	"allow_dirty: off\n"
	"feedback_max_bytes: 4096\n"
	"max_output_tokens: 2048\n"
	"temperature: 0.2\n"
	"stream: false\n"
	"http:\n"
	"  connect_timeout: 5s\n"
	"  read_timeout: 2m\n"
	"  retries: 3\n"
	"  retry_base: 250ms\n"						/* 30 */
	"  retry_max: 10s\n"
	"models:\n"
	"  gpt-4o-mini:\n"
	"    provider: openai\n"
	"    model: gpt-4o-mini-2024-07-18\n"
	"    base_url: http://localhost:9/v1\n"
	"    api_key_env: OTHER_KEY\n"
	"    price_in: 0.15\n"
	"    price_out: 0.6\n"
	"    max_output_tokens: 16384\n"				/* 40 */
	"    context_tokens: 128000\n"
	"  claude:\n"
	"    provider: anthropic\n";

static int load(struct config *c, const char *text, struct buf *err)
{
	buf_reset(err);
	return config_load_string(c, "t.yaml", text, strlen(text), err);
}

/* Loads text into a fresh config and returns the error message (static). */
static const char *load_err(const char *text)
{
	static struct buf err = BUF_INIT;
	struct config c;
	int ret;
	config_init(&c);
	ret = load(&c, text, &err);
	config_release(&c);
	if (ret != -EINVAL)
		return "(no -EINVAL)";
	return err.s;
}

TEST(full_file)
{
	struct config c;
	struct buf err = BUF_INIT;
	config_init(&c);
	CHECK_INT(load(&c, full_yaml, &err), 0);
	CHECK_STR(c.source, "t.yaml");
	CHECK_STR(c.goal, "make the tests pass");
	CHECK_INT(c.gates.n, 2);
	CHECK_STR(c.gates.v[1], "make test");
	CHECK_STR(c.model, "openai/gpt-4o-mini");
	CHECK_STR(c.base_url, "https://proxy.example/v1");
	CHECK_STR(c.api_key_env, "MY_KEY");
	CHECK_INT(c.agent_env.n, 2);
	CHECK_STR(c.agent_env.v[1], "HOME_2");
	CHECK_INT(c.max_iterations, 7);
	CHECK(c.max_cost == 1.25);
	CHECK_INT(c.max_tokens, 200000);
	CHECK_INT(c.deadline_ms, 90L * 60 * 1000);
	CHECK_INT(c.gate_timeout_ms, 90000);
	CHECK_INT(c.protect.n, 2);
	CHECK_STR(c.protect.v[0], "tests/**");
	CHECK_STR(c.context.v[0], "README.md");
	CHECK_INT(c.json, 1);
	CHECK_STR(c.record, "run.jsonl");
	CHECK_INT(c.allow_dirty, 0);
	CHECK_INT(c.feedback_max_bytes, 4096);
	CHECK_INT(c.max_output_tokens, 2048);
	CHECK(c.temperature == 0.2);
	CHECK_INT(c.stream, 0);
	CHECK_INT(c.connect_timeout_ms, 5000);
	CHECK_INT(c.read_timeout_ms, 120000);
	CHECK_INT(c.retries, 3);
	CHECK_INT(c.retry_base_ms, 250);
	CHECK_INT(c.retry_max_ms, 10000);
	CHECK_INT(c.nmodels, 2);
	CHECK_STR(c.models[0].name, "gpt-4o-mini");
	CHECK_STR(c.models[0].provider, "openai");
	CHECK_STR(c.models[0].model, "gpt-4o-mini-2024-07-18");
	CHECK_STR(c.models[0].base_url, "http://localhost:9/v1");
	CHECK_STR(c.models[0].api_key_env, "OTHER_KEY");
	CHECK(c.models[0].price_in == 0.15);
	CHECK(c.models[0].price_out == 0.6);
	CHECK_INT(c.models[0].max_output_tokens, 16384);
	CHECK_INT(c.models[0].context_tokens, 128000);
	CHECK_STR(c.models[1].provider, "anthropic");
	CHECK(c.models[1].price_in == -1);
	CHECK(c.goal_file == NULL && c.agent_cmd == NULL);
	config_release(&c);
	buf_release(&err);
}

TEST(empty_file_sets_nothing)
{
	struct config c;
	struct buf err = BUF_INIT;
	config_init(&c);
	CHECK_INT(load(&c, "", &err), 0);
	CHECK_INT(load(&c, "# only a comment\n", &err), 0);
	CHECK(c.goal == NULL && c.max_iterations == -1 && c.gates.n == 0);
	config_release(&c);
	buf_release(&err);
}

TEST(wrong_types)
{
	CHECK_STR(load_err("goal: x\nmodel:\n  - a\n"),
		  "t.yaml:3: key 'model': expected a string, got a list");
	CHECK_STR(load_err("max_iterations: ten\n"),
		  "t.yaml:1: key 'max_iterations': expected an integer, got 'ten'");
	CHECK_STR(load_err("max_iterations: \"10\"\n"),
		  "t.yaml:1: key 'max_iterations': expected an integer, got the quoted string '10'");
	CHECK_STR(load_err("max_iterations: 1.5\n"),
		  "t.yaml:1: key 'max_iterations': expected an integer, got '1.5'");
	CHECK_STR(load_err("max_iterations: 0\n"),
		  "t.yaml:1: key 'max_iterations': expected an integer of at least 1, got 0");
	CHECK_STR(load_err("max_tokens:\n"),
		  "t.yaml:1: key 'max_tokens': expected an integer, got an empty value");
	CHECK_STR(load_err("json: maybe\n"),
		  "t.yaml:1: key 'json': expected true or false (or yes/no, on/off), got 'maybe'");
	CHECK_STR(load_err("stream: {a: 1}\n"),
		  "t.yaml:1: key 'stream': expected true or false, got a mapping");
	CHECK_STR(load_err("temperature: 2.5\n"),
		  "t.yaml:1: key 'temperature': expected a number from 0 to 2, got 2.5");
	CHECK_STR(load_err("feedback_max_bytes: 100\n"),
		  "t.yaml:1: key 'feedback_max_bytes': expected an integer of at least 1024, got 100");
	CHECK_STR(load_err("http:\n  retries: 21\n"),
		  "t.yaml:2: key 'http.retries': expected an integer from 0 to 20, got 21");
	CHECK_STR(load_err("http: 5\n"),
		  "t.yaml:1: key 'http': expected a mapping (indented keys), got '5'");
	CHECK_STR(load_err("base_url: ftp://x\n"),
		  "t.yaml:1: key 'base_url': expected an http:// or https:// URL, got 'ftp://x'");
	CHECK_STR(load_err("max_iterations: 99999999999999999999\n"),
		  "t.yaml:1: key 'max_iterations': 99999999999999999999 is out of range");
	CHECK_STR(load_err("- a\n- b\n"),
		  "t.yaml:1: key '(top level)': expected a mapping of keys, got a list");
}

TEST(gate_mappings)
{
	struct config c, flags;
	struct buf err = BUF_INIT;
	config_init(&c);
	CHECK_INT(load(&c, "gates:\n  - make\n  - run: pytest -q\n    focus: pytest -q {failed}\n"
		       "    timeout: 90s\n    junit: out/*.xml\n", &err), 0);
	CHECK_INT(c.gates.n, 2);
	CHECK_STR(c.gates.v[1], "pytest -q");
	CHECK(config_gate_opts(&c, 0)->focus == NULL);
	CHECK_INT(config_gate_opts(&c, 0)->timeout_ms, -1);
	CHECK_STR(config_gate_opts(&c, 1)->focus, "pytest -q {failed}");
	CHECK_INT(config_gate_opts(&c, 1)->timeout_ms, 90000);
	CHECK_STR(config_gate_opts(&c, 1)->junit, "out/*.xml");
	/* --gate replaces the file's gates and their options */
	config_init(&flags);
	strlist_push(&flags.gates, "true");
	config_overlay(&c, &flags);
	CHECK_INT(c.gates.n, 1);
	CHECK(config_gate_opts(&c, 0)->focus == NULL);
	config_release(&flags);
	config_release(&c);
	buf_release(&err);
	CHECK_STR(load_err("gates:\n  - focus: x\n"),
		  "t.yaml:2: key 'gates[1]': a gate mapping needs 'run: COMMAND'");
	CHECK_STR(load_err("gates:\n  - run: x\n    retries: 2\n"),
		  "t.yaml:3: key 'gates[1].retries': unknown gate option (expected run, focus, timeout or junit)");
	CHECK_STR(load_err("gates:\n  - run: x\n    timeout: soon\n"),
		  "t.yaml:3: key 'gates[1].timeout': expected a duration such as 90s, 30m or 2h, got 'soon'");
}

TEST(gates_scalar_refused)
{
	CHECK_STR(load_err("goal: x\ngates: make test\n"),
		  "t.yaml:2: key 'gates': expected a list of gate commands (one '- item' per line), got 'make test'");
	CHECK_STR(load_err("gates:\n  - make\n  - [a, b]\n"),
		  "t.yaml:3: key 'gates[2]': expected a command or a mapping, got a list");
	CHECK_STR(load_err("gates:\n  - make\n  - ''\n"),
		  "t.yaml:3: key 'gates': item 2 is empty");
}

TEST(bad_durations_costs_env)
{
	CHECK_STR(load_err("deadline: soon\n"),
		  "t.yaml:1: key 'deadline': expected a duration such as 90s, 30m, 2h, 1h30m, 500ms or whole seconds, got 'soon'");
	CHECK_STR(load_err("gate_timeout: -5s\n"),
		  "t.yaml:1: key 'gate_timeout': expected a duration such as 90s, 30m, 2h, 1h30m, 500ms or whole seconds, got '-5s'");
	CHECK_STR(load_err("deadline: 0s\n"),
		  "t.yaml:1: key 'deadline': must be longer than 0, got '0s'");
	CHECK_STR(load_err("max_cost: -1\n"),
		  "t.yaml:1: key 'max_cost': expected a number of at least 0, got -1");
	CHECK_STR(load_err("models:\n  m:\n    price_in: -0.5\n"),
		  "t.yaml:3: key 'models.m.price_in': expected a number of at least 0, got -0.5");
	CHECK_STR(load_err("agent_env:\n  - HOME\n  - my-key\n"),
		  "t.yaml:3: key 'agent_env': 'my-key' is not an environment variable name (expected [A-Z_][A-Z0-9_]*)");
	CHECK_STR(load_err("api_key_env: 1KEY\n"),
		  "t.yaml:1: key 'api_key_env': '1KEY' is not an environment variable name (expected [A-Z_][A-Z0-9_]*)");
	CHECK_STR(load_err("models:\n  m:\n    provider: google\n"),
		  "t.yaml:3: key 'models.m.provider': expected 'openai' or 'anthropic', got 'google'");
}

TEST(unknown_keys)
{
	CHECK_STR(load_err("goal: x\nmax_iteration: 3\n"),
		  "t.yaml:2: key 'max_iteration': unknown key; did you mean 'max_iterations'?");
	CHECK_STR(load_err("max-cost: 3\n"),
		  "t.yaml:1: key 'max-cost': unknown key; did you mean 'max_cost'?");
	CHECK_STR(load_err("banana: 3\n"),
		  "t.yaml:1: key 'banana': unknown key (see 'Configuration file' in docs/manual.md)");
	CHECK_STR(load_err("models:\n  gpt-4o:\n    price_inn: 2\n"),
		  "t.yaml:3: key 'models.gpt-4o.price_inn': unknown key; did you mean 'price_in'?");
	CHECK_STR(load_err("http:\n  retris: 2\n"),
		  "t.yaml:2: key 'http.retris': unknown key; did you mean 'retries'?");
	CHECK_STR(load_err("dir: /tmp\n"),
		  "t.yaml:1: key 'dir': can only be given on the command line (--dir)");
}

TEST(duplicates_syntax_anchors)
{
	CHECK_STR(load_err("goal: a\ngates: [x]\ngoal: b\n"),
		  "t.yaml:3: key 'goal': duplicate key (first given on line 1)");
	CHECK_STR(load_err("models:\n  a: {}\n  a: {}\n"),
		  "t.yaml:3: key 'models': model 'a' is defined twice (first on line 2)");
	CHECK_CONTAINS(load_err("goal: x\ngates:\n  - a\n bad: [\n"), "t.yaml:4: YAML syntax error: ");
	CHECK_CONTAINS(load_err("goal: x\ngates: [a, b\nmodel: y\n"), "YAML syntax error");
	CHECK_CONTAINS(load_err("goal: \"abc\n"), "t.yaml:2: YAML syntax error: found unexpected end of stream");
	CHECK_STR(load_err("goal: &g x\ngates: [a]\n"),
		  "t.yaml:1: key 'goal': YAML anchors (&name) are not supported; write the value out");
	CHECK_STR(load_err("gates: [a]\nprotect: *g\n"),
		  "t.yaml:2: key 'protect': YAML aliases (*name) are not supported; write the value out");
	CHECK_STR(load_err("goal: !!str x\n"),
		  "t.yaml:1: key 'goal': YAML tags (!tag) are not supported; write the value out");
	CHECK_STR(load_err("goal: x\n---\ngoal: y\n"),
		  "t.yaml:2: only one YAML document is allowed (a second '---' starts here)");
}

TEST(load_file_errors)
{
	struct config c;
	struct buf err = BUF_INIT;
	char path[] = "/tmp/loopgate-test-config-XXXXXX";
	int fd = mkstemp(path);
	config_init(&c);
	CHECK_INT(config_load_file(&c, "/nonexistent/loopgate.yaml", &err), -ENOENT);
	CHECK(fd >= 0);
	for (int i = 0; i < (1 << 20) / 8 + 1; i++)
		CHECK(write(fd, "# pad \n\n", 8) == 8);
	close(fd);
	CHECK_INT(config_load_file(&c, path, &err), -EINVAL);
	CHECK_CONTAINS(err.s, "larger than");
	unlink(path);
	config_release(&c);
	buf_release(&err);
}

/* A minimal valid layer for finalize tests. */
static void base(struct config *c)
{
	config_init(c);
	c->goal = xstrdup("fix it");
	strlist_push(&c->gates, "make test");
}

TEST(overlay_precedence)
{
	struct config file, flags;
	struct buf err = BUF_INIT;
	config_init(&file);
	config_init(&flags);
	CHECK_INT(load(&file, "goal_file: g.md\ngates: [a, b]\nmodel: openai/x\n"
			      "max_iterations: 5\nprotect: [p]\njson: true\n"
			      "models:\n  x:\n    price_in: 1\n    base_url: http://h/v1\n", &err), 0);
	flags.goal = xstrdup("from flag");
	flags.agent_cmd = xstrdup("claude -p");
	strlist_push(&flags.gates, "c");
	flags.max_iterations = 9;
	flags.json = 0;
	flags.models = xcalloc(1, sizeof(*flags.models));
	flags.nmodels = 1;
	flags.models[0] = (struct model_preset){ xstrdup("x"), NULL, NULL, NULL, NULL,
						  -1, 2, -1, -1 };
	config_overlay(&file, &flags);
	CHECK_STR(file.goal, "from flag");
	CHECK(file.goal_file == NULL);		/* --goal replaces goal_file */
	CHECK(file.model == NULL);		/* --agent-cmd replaces model */
	CHECK_STR(file.agent_cmd, "claude -p");
	CHECK_INT(file.gates.n, 1);		/* lists replace lists */
	CHECK_STR(file.gates.v[0], "c");
	CHECK_INT(file.protect.n, 1);		/* empty src list: kept */
	CHECK_INT(file.max_iterations, 9);
	CHECK_INT(file.json, 0);
	CHECK_INT(file.nmodels, 1);		/* presets merge field by field */
	CHECK(file.models[0].price_in == 1 && file.models[0].price_out == 2);
	CHECK_STR(file.models[0].base_url, "http://h/v1");
	config_release(&file);
	config_release(&flags);
	buf_release(&err);
}

TEST(finalize_defaults)
{
	struct config c;
	struct buf err = BUF_INIT;
	base(&c);
	c.model = xstrdup("openai/gpt-4o-mini");
	CHECK_INT(config_finalize(&c, &err), 0);
	CHECK_INT(c.max_iterations, CONFIG_DEFAULT_MAX_ITERATIONS);
	CHECK_INT(c.gate_timeout_ms, CONFIG_DEFAULT_GATE_TIMEOUT_MS);
	CHECK_INT(c.feedback_max_bytes, CONFIG_DEFAULT_FEEDBACK_MAX_BYTES);
	CHECK_INT(c.max_output_tokens, CONFIG_DEFAULT_MAX_OUTPUT_TOKENS);
	CHECK_INT(c.connect_timeout_ms, CONFIG_DEFAULT_CONNECT_TIMEOUT_MS);
	CHECK_INT(c.read_timeout_ms, CONFIG_DEFAULT_READ_TIMEOUT_MS);
	CHECK_INT(c.retries, CONFIG_DEFAULT_RETRIES);
	CHECK_INT(c.retry_base_ms, CONFIG_DEFAULT_RETRY_BASE_MS);
	CHECK_INT(c.retry_max_ms, CONFIG_DEFAULT_RETRY_MAX_MS);
	CHECK_INT(c.json, 0);
	CHECK_INT(c.allow_dirty, 0);
	CHECK_INT(c.stream, 1);
	CHECK(c.max_cost == -1 && c.max_tokens == -1 && c.deadline_ms == -1);
	CHECK(c.temperature == -1);
	config_release(&c);
	buf_release(&err);
}

TEST(finalize_preset_output_tokens)
{
	struct config c;
	struct buf err = BUF_INIT;
	base(&c);
	CHECK_INT(load(&c, "model: fast\nmodels:\n  fast:\n    provider: anthropic\n"
			   "    max_output_tokens: 8000\n", &err), 0);
	CHECK_INT(config_finalize(&c, &err), 0);
	CHECK_INT(c.max_output_tokens, 8000);
	config_release(&c);
	buf_release(&err);
}

TEST(finalize_errors)
{
	struct config c;
	struct buf err = BUF_INIT;

	config_init(&c);
	strlist_push(&c.gates, "make");
	c.model = xstrdup("openai/x");
	CHECK_INT(config_finalize(&c, &err), -EINVAL);
	CHECK_CONTAINS(err.s, "no goal: pass --goal TEXT or --goal-file FILE");
	config_release(&c);

	config_init(&c);
	c.goal = xstrdup("g");
	c.model = xstrdup("openai/x");
	CHECK_INT(config_finalize(&c, &err), -EINVAL);
	CHECK_CONTAINS(err.s, "no gate: pass at least one --gate CMD");
	config_release(&c);

	base(&c);
	CHECK_INT(config_finalize(&c, &err), -EINVAL);
	CHECK_CONTAINS(err.s, "pass --model PROVIDER/NAME");
	CHECK_CONTAINS(err.s, "--agent-cmd CMD");
	config_release(&c);

	base(&c);
	c.model = xstrdup("openai/x");
	c.agent_cmd = xstrdup("claude -p");
	CHECK_INT(config_finalize(&c, &err), -EINVAL);
	CHECK_CONTAINS(err.s, "both model 'openai/x' and agent_cmd are set");
	config_release(&c);

	base(&c);
	c.agent_cmd = xstrdup("claude -p");
	c.max_cost = 5;
	CHECK_INT(config_finalize(&c, &err), -EINVAL);
	CHECK_CONTAINS(err.s, "--max-cost cannot be enforced with --agent-cmd");
	CHECK_CONTAINS(err.s, "--max-iterations and --deadline");
	config_release(&c);

	base(&c);
	c.model = xstrdup("openai/x");
	c.max_iterations = 0;
	CHECK_INT(config_finalize(&c, &err), -EINVAL);
	CHECK_STR(err.s, "max_iterations / --max-iterations: 0 is out of range (at least 1)");
	config_release(&c);

	base(&c);
	c.model = xstrdup("openai/x");
	c.retries = 50;
	CHECK_INT(config_finalize(&c, &err), -EINVAL);
	CHECK_STR(err.s, "http.retries: 50 is out of range (0 to 20)");
	config_release(&c);

	base(&c);
	c.model = xstrdup("openai/x");
	c.feedback_max_bytes = 10;
	CHECK_INT(config_finalize(&c, &err), -EINVAL);
	CHECK_STR(err.s, "feedback_max_bytes / --feedback-max-bytes: 10 is out of range (at least 1024)");
	config_release(&c);

	base(&c);
	c.model = xstrdup("openai/x");
	c.retry_base_ms = 5000;
	c.retry_max_ms = 100;
	CHECK_INT(config_finalize(&c, &err), -EINVAL);
	CHECK_CONTAINS(err.s, "http.retry_max (100ms) is shorter than http.retry_base");
	config_release(&c);

	base(&c);
	c.goal_file = xstrdup("/nonexistent/goal.md");
	free(c.goal);
	c.goal = NULL;
	c.agent_cmd = xstrdup("x");
	CHECK_INT(config_finalize(&c, &err), -EINVAL);
	CHECK_STR(err.s, "cannot read goal file '/nonexistent/goal.md': No such file or directory");
	config_release(&c);
	buf_release(&err);
}

TEST(goal_file_read_and_rebased)
{
	char dir[] = "/tmp/loopgate-test-cfgdir-XXXXXX";
	struct config c;
	struct buf err = BUF_INIT;
	char *cfg, *goal;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	cfg = xasprintf("%s/loopgate.yaml", dir);
	goal = xasprintf("%s/GOAL.md", dir);
	f = fopen(cfg, "w");
	fputs("goal_file: GOAL.md\ngates: [make]\nagent_cmd: ./agent\n", f);
	fclose(f);
	f = fopen(goal, "w");
	fputs("Make it fast.\n", f);
	fclose(f);
	config_init(&c);
	CHECK_INT(config_load_file(&c, cfg, &err), 0);
	CHECK_STR(c.goal_file, goal);
	CHECK_STR(c.source, cfg);
	CHECK_INT(config_finalize(&c, &err), 0);
	CHECK_STR(c.goal, "Make it fast.\n");
	config_release(&c);
	unlink(cfg);
	unlink(goal);
	rmdir(dir);
	free(cfg);
	free(goal);
	buf_release(&err);
}

TEST(cost_ceiling_needs_price)
{
	struct config c;
	struct buf err = BUF_INIT;

	base(&c);
	c.model = xstrdup("openai/gpt-4o");
	c.max_cost = 2;
	CHECK_INT(config_finalize(&c, &err), -EINVAL);
	CHECK_CONTAINS(err.s, "--max-cost needs the price of model 'openai/gpt-4o'");
	CHECK_CONTAINS(err.s, "models:\n  openai/gpt-4o:\n    price_in: ...\n    price_out: ...\n");
	config_release(&c);

	/* half a price is still unknown; the message names the preset key */
	base(&c);
	CHECK_INT(load(&c, "model: openai/gpt-4o\nmax_cost: 2\n"
			   "models:\n  gpt-4o:\n    price_in: 2.5\n", &err), 0);
	CHECK_INT(config_finalize(&c, &err), -EINVAL);
	CHECK_CONTAINS(err.s, "models:\n  gpt-4o:\n    price_in:");
	config_release(&c);

	base(&c);
	CHECK_INT(load(&c, "model: openai/gpt-4o\nmax_cost: 2\n"
			   "models:\n  gpt-4o:\n    price_in: 2.5\n    price_out: 10\n", &err), 0);
	CHECK_INT(config_finalize(&c, &err), 0);
	config_release(&c);

	base(&c);
	c.model = xstrdup("replay:tests/fixtures/t.jsonl");
	c.max_cost = 0.5;
	CHECK_INT(config_finalize(&c, &err), 0);
	config_release(&c);
	buf_release(&err);
}

TEST(resolve_model_forms)
{
	struct config c;
	struct model_preset p;
	struct buf err = BUF_INIT;

	config_init(&c);
	CHECK_INT(config_resolve_model(&c, "openai/gpt-4o-mini", &p, &err), 0);
	CHECK_STR(p.provider, "openai");
	CHECK_STR(p.model, "gpt-4o-mini");
	CHECK_STR(p.base_url, "https://api.openai.com/v1");
	CHECK_STR(p.api_key_env, "OPENAI_API_KEY");
	CHECK(p.price_in == -1 && p.price_out == -1);

	CHECK_INT(config_resolve_model(&c, "anthropic/claude-x", &p, &err), 0);
	CHECK_STR(p.provider, "anthropic");
	CHECK_STR(p.model, "claude-x");
	CHECK_STR(p.base_url, "https://api.anthropic.com/v1");
	CHECK_STR(p.api_key_env, "ANTHROPIC_API_KEY");

	/* vLLM-style names keep their own slashes */
	CHECK_INT(config_resolve_model(&c, "openai/meta-llama/Llama-3.1-8B", &p, &err), 0);
	CHECK_STR(p.model, "meta-llama/Llama-3.1-8B");

	CHECK_INT(config_resolve_model(&c, "replay:t.jsonl", &p, &err), 0);
	CHECK_STR(p.provider, "replay");
	CHECK_STR(p.model, "t.jsonl");
	CHECK(p.price_in == 0 && p.price_out == 0);

	CHECK_INT(config_resolve_model(&c, "gemini/x", &p, &err), -EINVAL);
	CHECK_CONTAINS(err.s, "unknown model 'gemini/x'");
	CHECK_INT(config_resolve_model(&c, "gpt-4o", &p, &err), -EINVAL);
	CHECK_INT(config_resolve_model(&c, "openai/", &p, &err), -EINVAL);
	CHECK_INT(config_resolve_model(&c, "replay:", &p, &err), -EINVAL);

	CHECK_INT(load(&c, "models:\n"
			   "  fast:\n    provider: anthropic\n    model: claude-haiku\n"
			   "    price_in: 1\n    price_out: 5\n"
			   "  openai/gpt-4o:\n    price_in: 2.5\n    price_out: 10\n"
			   "  gpt-4o-mini:\n    base_url: http://local:1/v1\n    api_key_env: K2\n"
			   "  orphan:\n    price_in: 1\n"
			   "  router/llama:\n    provider: openai\n", &err), 0);
	/* bare name: the preset's provider decides */
	CHECK_INT(config_resolve_model(&c, "fast", &p, &err), 0);
	CHECK_STR(p.provider, "anthropic");
	CHECK_STR(p.model, "claude-haiku");
	CHECK_STR(p.name, "fast");
	CHECK(p.price_in == 1 && p.price_out == 5);
	/* full spec first */
	CHECK_INT(config_resolve_model(&c, "openai/gpt-4o", &p, &err), 0);
	CHECK(p.price_out == 10);
	CHECK_STR(p.model, "gpt-4o");
	/* then NAME */
	CHECK_INT(config_resolve_model(&c, "openai/gpt-4o-mini", &p, &err), 0);
	CHECK_STR(p.base_url, "http://local:1/v1");
	CHECK_STR(p.api_key_env, "K2");
	CHECK_STR(p.name, "gpt-4o-mini");
	/* a bare name with no provider */
	CHECK_INT(config_resolve_model(&c, "orphan", &p, &err), -EINVAL);
	CHECK_CONTAINS(err.s, "models.orphan has no provider");
	/* the spec's provider contradicts the preset's */
	CHECK_INT(config_resolve_model(&c, "openai/fast", &p, &err), -EINVAL);
	CHECK_CONTAINS(err.s, "says provider 'anthropic'");
	/* an unknown prefix defined as a preset */
	CHECK_INT(config_resolve_model(&c, "router/llama", &p, &err), 0);
	CHECK_STR(p.provider, "openai");
	CHECK_STR(p.model, "router/llama");
	/* top-level base_url / api_key_env beat the preset */
	c.base_url = xstrdup("http://top/v1");
	c.api_key_env = xstrdup("TOP");
	CHECK_INT(config_resolve_model(&c, "openai/gpt-4o-mini", &p, &err), 0);
	CHECK_STR(p.base_url, "http://top/v1");
	CHECK_STR(p.api_key_env, "TOP");
	config_release(&c);
	buf_release(&err);
}

TEST(durations)
{
	static const struct { const char *s; long ms; int ret; } t[] = {
		{ "90s", 90000, 0 }, { "30m", 1800000, 0 }, { "2h", 7200000, 0 },
		{ "500ms", 500, 0 }, { "1h30m", 5400000, 0 }, { "45", 45000, 0 },
		{ "0", 0, 0 }, { "1d", 86400000, 0 }, { "1m30s250ms", 90250, 0 },
		{ "", 0, -EINVAL }, { "-5s", 0, -EINVAL }, { "5", 5000, 0 },
		{ "s", 0, -EINVAL }, { "5x", 0, -EINVAL }, { "1h30", 0, -EINVAL },
		{ "5 s", 0, -EINVAL }, { " 5s", 0, -EINVAL }, { "5min", 0, -EINVAL },
		{ "1.5h", 0, -EINVAL }, { "5S", 0, -EINVAL },
		{ "99999999999999999999s", 0, -ERANGE },
		{ "9223372036854775807s", 0, -ERANGE },
		{ "9223372036854775807ms", 0, -ERANGE },
		{ "365d", 31536000000L, 0 }, { "366d", 0, -ERANGE },
		{ "31536000000ms", 31536000000L, 0 }, { "31536000001ms", 0, -ERANGE },
		{ "364d24h", 31536000000L, 0 }, { "365d1ms", 0, -ERANGE },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		long ms = -42;
		int ret = config_parse_duration(t[i].s, &ms);
		if (ret != t[i].ret || (ret == 0 && ms != t[i].ms) || (ret && ms != -42)) {
			fprintf(stderr, "duration '%s': ret %d ms %ld\n", t[i].s, ret, ms);
			unit_cur_failed = 1;
		}
	}
	CHECK_INT(config_parse_duration(NULL, &(long){ 0 }), -EINVAL);
}

TEST(strlist_helpers)
{
	struct strlist a = { NULL, 0 }, b = { NULL, 0 };
	strlist_push(&a, "x");
	strlist_push(&a, "y");
	strlist_push(&b, "old");
	strlist_copy(&b, &a);
	CHECK_INT(b.n, 2);
	CHECK_STR(b.v[1], "y");
	CHECK(b.v[0] != a.v[0]);
	strlist_clear(&a);
	CHECK(a.n == 0 && a.v == NULL);
	CHECK_STR(b.v[0], "x");
	strlist_clear(&b);
}

TEST(json_redacts)
{
	struct config c;
	struct buf err = BUF_INIT;
	void *jv = NULL;
	json_t *j, *rm;
	char *dump;

	setenv("LG_TEST_SECRET", "sk-test-0123456789abcdef", 1);
	base(&c);
	CHECK_INT(load(&c, "model: openai/m\n"
			   "base_url: https://alice:hunter2@proxy.example:8443/v1?key=abc#x\n"
			   "api_key_env: LG_TEST_SECRET\n"
			   "gates: ['curl -H \"Authorization: sk-test-0123456789abcdef\" x']\n"
			   "models:\n  m:\n    base_url: http://bob:pw@h/v1\n", &err), 0);
	CHECK_INT(config_finalize(&c, &err), 0);
	CHECK_INT(config_to_json(&c, &jv), 0);
	j = jv;
	CHECK_STR(json_string_value(json_object_get(j, "base_url")),
		  "https://REDACTED@proxy.example:8443/v1?REDACTED#x");
	CHECK_STR(json_string_value(json_object_get(j, "api_key_env")), "LG_TEST_SECRET");
	CHECK_STR(json_string_value(json_array_get(json_object_get(j, "gates"), 0)),
		  "curl -H \"Authorization: [REDACTED]\" x");
	rm = json_object_get(j, "resolved_model");
	CHECK_STR(json_string_value(json_object_get(rm, "provider")), "openai");
	CHECK_STR(json_string_value(json_object_get(rm, "base_url")),
		  "https://REDACTED@proxy.example:8443/v1?REDACTED#x");
	CHECK_STR(json_string_value(json_object_get(
			  json_object_get(json_object_get(j, "models"), "m"), "base_url")),
		  "http://REDACTED@h/v1");
	CHECK_INT(json_integer_value(json_object_get(j, "max_iterations")), 10);
	CHECK(json_is_null(json_object_get(j, "max_cost")));
	dump = json_dumps(j, 0);
	CHECK(dump && !strstr(dump, "hunter2") && !strstr(dump, "sk-test-0123") &&
	      !strstr(dump, "alice") && !strstr(dump, "key=abc"));
	free(dump);
	json_decref(j);
	config_release(&c);
	unsetenv("LG_TEST_SECRET");
	buf_release(&err);
}

/* verifiers: and roles: read, checked, layered and round-tripped. */
TEST(verifiers_and_roles)
{
	static const char text[] = "goal: g\ngates: [true]\nmodel: openai/w\n"
				   "verifiers:\n"
				   "  - name: goal\n    brief: Does it meet the goal?\n"
				   "  - name: gaming\n    brief: Gamed?\n    model: openai/v\n"
				   "    samples: 3\n"
				   "verify_accept: 2\nverify_k: 0.5\n"
				   "roles:\n  verifier: openai/judge\n  escalation: openai/big\n";
	struct buf err = BUF_INIT;
	struct config c, back, top;
	void *json;

	config_init(&c);
	CHECK_INT(load(&c, text, &err), 0);
	CHECK_INT(c.nverifiers, 2);
	CHECK_STR(c.verifiers[1].model, "openai/v");
	CHECK_INT(c.verifiers[1].samples, 3);
	CHECK_INT(c.verifiers[0].samples, -1);
	CHECK_STR(c.role_escalation, "openai/big");
	CHECK_INT(config_finalize(&c, &err), 0);
	CHECK_INT(c.escalations, 1); /* an escalation model: one hand-over */
	CHECK(c.verify_k == 0.5);
	/* the run-start JSON gives the same back (resume) */
	config_to_json(&c, &json);
	config_init(&back);
	CHECK_INT(config_from_json(&back, json, &err), 0);
	CHECK_INT(back.nverifiers, 2);
	CHECK_STR(back.verifiers[1].brief, "Gamed?");
	CHECK_STR(back.role_verifier, "openai/judge");
	CHECK_INT(back.verify_accept, 2);
	json_decref(json);
	config_release(&back);
	/* a layer that gives verifiers replaces them all */
	config_init(&top);
	CHECK_INT(load(&top, "verifiers:\n  - name: only\n    brief: b\n", &err), 0);
	config_overlay(&c, &top);
	CHECK_INT(c.nverifiers, 1);
	CHECK_STR(c.verifiers[0].name, "only");
	config_release(&top);
	config_release(&c);

	CHECK_STR(load_err("verifiers:\n  name: x\n"),
		  "t.yaml:2: key 'verifiers': expected a list of verifiers (- name: ... "
		  "brief: ...), got a mapping");
	CHECK_STR(load_err("verifiers:\n  - name: x\n    sample: 2\n"),
		  "t.yaml:3: key 'verifiers[0].sample': unknown key; did you mean 'samples'?");
	CHECK_STR(load_err("verifiers:\n  - name: x\n    samples: 11\n"),
		  "t.yaml:3: key 'verifiers[0].samples': expected an integer from 1 to 10, got 11");
	CHECK_STR(load_err("roles:\n  judge: x\n"),
		  "t.yaml:2: key 'roles.judge': unknown key (see 'Configuration file' in "
		  "docs/manual.md)");
	buf_release(&err);
}

/* What finalize refuses about verifiers and roles. */
TEST(verifiers_and_roles_errors)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"verifiers:\n  - name: a\n", "verifiers[0]: a verifier needs a name and a brief"},
		{"verifiers:\n  - {name: a, brief: x}\n  - {name: a, brief: y}\n",
		 "verifiers: 'a' is named twice"},
		{"verifiers:\n  - {name: a b, brief: x}\n", "holds a space"},
		{"verifiers:\n  - {name: a, brief: x}\nverify_accept: 2\n",
		 "verify_accept: 2 of 1 verifiers can never accept"},
		{"escalations: 2\n", "no roles.escalation model"},
		{"roles: {escalation: nope}\n", "roles.escalation: unknown model 'nope'"},
		{"verifiers:\n  - {name: a, brief: x, model: openai/v}\nmax_cost: 1\n"
		 "models: {w: {provider: openai, price_in: 1, price_out: 1}}\n",
		 "verifiers.a.model: --max-cost needs the price of model 'openai/v'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf err = BUF_INIT, text = BUF_INIT;
		struct config c;
		config_init(&c);
		buf_addf(&text, "goal: g\ngates: [true]\nmodel: openai/w\n%s", cases[i].text);
		if (load(&c, text.s, &err) == 0 && config_finalize(&c, &err) == 0)
			buf_sets(&err, "(accepted)");
		if (!strstr(err.s, cases[i].want)) {
			fprintf(stderr, "case %zu: %s\n  got: %s\n", i, cases[i].text, err.s);
			unit_cur_failed = 1;
		}
		config_release(&c);
		buf_release(&err);
		buf_release(&text);
	}
}

int main(void)
{
	RUN(full_file);
	RUN(empty_file_sets_nothing);
	RUN(wrong_types);
	RUN(gates_scalar_refused);
	RUN(gate_mappings);
	RUN(bad_durations_costs_env);
	RUN(unknown_keys);
	RUN(duplicates_syntax_anchors);
	RUN(load_file_errors);
	RUN(overlay_precedence);
	RUN(finalize_defaults);
	RUN(finalize_preset_output_tokens);
	RUN(finalize_errors);
	RUN(goal_file_read_and_rebased);
	RUN(cost_ceiling_needs_price);
	RUN(resolve_model_forms);
	RUN(durations);
	RUN(strlist_helpers);
	RUN(json_redacts);
	RUN(verifiers_and_roles);
	RUN(verifiers_and_roles_errors);
	return unit_done();
}
