/*
 * agent.c: the agent-CLI presets, one table entry each, and what the engine
 * asks of them (agent.h).  The facts behind each entry: shared/anchors/
 * agent-clis.md and docs/design/agent-presets.md.
 *
 * Every entry runs the CLI headless with the prompt on standard input, its
 * own sandbox, approval and trust prompts off (loopgate's sandbox is the
 * boundary, and a sandbox cannot be nested in it), telemetry, update
 * checks and long retry loops off, and a machine-readable report on
 * standard output.
 */
#include "actor/agent.h"
#include "base/hostrule.h"

#include <errno.h>
#include <strings.h>
#include <sys/stat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#define SEED_MAX_BYTES (1 << 20)

static void push_model(const struct agent_preset *p, const struct agent_ctx *x,
		       struct strlist *argv)
{
	if (x->model && *x->model) {
		strlist_push(argv, p->model_flag);
		strlist_push(argv, x->model);
	}
}

/* "K=V" for a base-URL variable the CLI reads. */
static void push_base_env(const struct agent_preset *p, const struct agent_ctx *x,
			  struct strlist *env)
{
	char *kv;
	if (!p->base_env || !x->base_url)
		return;
	kv = xasprintf("%s=%s", p->base_env, x->base_url);
	strlist_push(env, kv);
	free(kv);
}

/* ---- claude ------------------------------------------------------------- */

static void claude_args(const struct agent_ctx *x, struct strlist *argv,
			struct strlist *env);

static const char *const claude_fixed[] = {
	"-p", "--output-format", "json", "--permission-mode", "bypassPermissions", NULL};
static const char *const claude_keys[] = {"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN",
					  NULL};
static const char *const claude_hosts[] = {"api.anthropic.com", NULL};
static const char *const claude_env[] = {
	/* it retries a refused connection for minutes otherwise */
	"CLAUDE_CODE_MAX_RETRIES=2", "DISABLE_TELEMETRY=1", "DISABLE_ERROR_REPORTING=1",
	"DISABLE_AUTOUPDATER=1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
	/* bypassPermissions as root needs it; loopgate's sandbox is the one */
	"IS_SANDBOX=1", NULL};
static const char *const claude_seed[] = {".claude/.credentials.json", NULL};

static const struct agent_preset agent_claude = {
	.name = "claude",
	.bin = "claude",
	.package = "npm install -g @anthropic-ai/claude-code",
	.wire = "anthropic-messages",
	.args = claude_fixed,
	.model_flag = "--model",
	.base_env = "ANTHROPIC_BASE_URL",
	.keys = claude_keys,
	.hosts = claude_hosts,
	.env = claude_env,
	.seed = claude_seed,
	.reports_cost = 1,
	.turn_args = claude_args,
	.usage = agent_usage_claude,
};

static void claude_args(const struct agent_ctx *x, struct strlist *argv,
			struct strlist *env)
{
	char num[64];
	push_model(&agent_claude, x, argv);
	push_base_env(&agent_claude, x, env);
	if (x->budget_left >= 0) {
		/* what is left of the run's --max-cost, its own ceiling */
		snprintf(num, sizeof(num), "%.6f", x->budget_left);
		strlist_push(argv, "--max-budget-usd");
		strlist_push(argv, num);
	}
}

/* ---- codex -------------------------------------------------------------- */

static void codex_args(const struct agent_ctx *x, struct strlist *argv,
		       struct strlist *env);

/* "-": the prompt from stdin.  --ephemeral: no session files to resume. */
static const char *const codex_fixed[] = {"exec",
					  "--json",
					  "--skip-git-repo-check",
					  "--ephemeral",
					  "--color",
					  "never",
					  "--sandbox",
					  "danger-full-access",
					  "-c",
					  "approval_policy=\"never\"",
					  NULL};
static const char *const codex_keys[] = {"OPENAI_API_KEY", "CODEX_API_KEY", NULL};
static const char *const codex_hosts[] = {"api.openai.com", "chatgpt.com", NULL};
static const char *const codex_env[] = {"NO_COLOR=1", NULL};
static const char *const codex_seed[] = {".codex/auth.json", NULL};

static const struct agent_preset agent_codex = {
	.name = "codex",
	.bin = "codex",
	.package = "npm install -g @openai/codex",
	.wire = "openai-responses",
	.args = codex_fixed,
	.model_flag = "-m",
	.keys = codex_keys,
	.hosts = codex_hosts,
	.env = codex_env,
	.seed = codex_seed,
	.turn_args = codex_args,
	.usage = agent_usage_codex,
};

/* A TOML basic string: quotes and backslashes escaped. */
static char *toml_str(const char *s)
{
	struct buf b = BUF_INIT;
	buf_addch(&b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_addch(&b, '\\');
		buf_addch(&b, *s);
	}
	buf_addch(&b, '"');
	return buf_detach(&b, NULL);
}

static void push_c(struct strlist *argv, const char *key, const char *tomlval)
{
	char *kv = xasprintf("%s=%s", key, tomlval);
	strlist_push(argv, "-c");
	strlist_push(argv, kv);
	free(kv);
}

static void codex_args(const struct agent_ctx *x, struct strlist *argv,
		       struct strlist *env)
{
	(void)env;
	push_model(&agent_codex, x, argv);
	if (x->base_url) {
		/* it ignores OPENAI_BASE_URL: a provider of its own, given
		 * here rather than in a config.toml it could rewrite */
		char *url = toml_str(x->base_url);
		push_c(argv, "model_provider", "\"loopgate\"");
		push_c(argv, "model_providers.loopgate.name", "\"loopgate\"");
		push_c(argv, "model_providers.loopgate.base_url", url);
		push_c(argv, "model_providers.loopgate.env_key", "\"OPENAI_API_KEY\"");
		push_c(argv, "model_providers.loopgate.wire_api", "\"responses\"");
		free(url);
	}
	strlist_push(argv, "-");
}

/* ---- gemini ------------------------------------------------------------- */

static void gemini_args(const struct agent_ctx *x, struct strlist *argv,
			struct strlist *env);
static void gemini_files(const struct agent_ctx *x,
			 void (*add)(void *, const char *, const char *, size_t),
			 void *ctx);

/* no -p: with stdin not a terminal the prompt is read from it */
static const char *const gemini_fixed[] = {"--skip-trust", "--yolo", "-o", "json", NULL};
static const char *const gemini_keys[] = {"GEMINI_API_KEY", "GOOGLE_API_KEY", NULL};
static const char *const gemini_hosts[] = {"generativelanguage.googleapis.com", NULL};
static const char *const gemini_env[] = {"GEMINI_CLI_TRUST_WORKSPACE=true", "NO_COLOR=1",
					 NULL};
static const char *const gemini_seed[] = {".gemini/oauth_creds.json",
					  ".gemini/google_accounts.json", NULL};

static const struct agent_preset agent_gemini = {
	.name = "gemini",
	.bin = "gemini",
	.package = "npm install -g @google/gemini-cli",
	.wire = "gemini",
	.args = gemini_fixed,
	.model_flag = "-m",
	.base_env = "GOOGLE_GEMINI_BASE_URL",
	.keys = gemini_keys,
	.hosts = gemini_hosts,
	.env = gemini_env,
	.seed = gemini_seed,
	.turn_args = gemini_args,
	.files = gemini_files,
	.usage = agent_usage_gemini,
};

static void gemini_args(const struct agent_ctx *x, struct strlist *argv,
			struct strlist *env)
{
	push_model(&agent_gemini, x, argv);
	push_base_env(&agent_gemini, x, env);
}

/* The key variable alone is refused ("Invalid auth method selected"): the
 * settings must select it.  Without a key, a stored Google login. */
static void gemini_files(const struct agent_ctx *x,
			 void (*add)(void *, const char *, const char *, size_t),
			 void *ctx)
{
	json_t *s = json_pack("{s:{s:{s:s}},s:{s:b}}", "security", "auth", "selectedType",
			      x->have_key ? "gemini-api-key" : "oauth-personal",
			      "privacy", "usageStatisticsEnabled", 0);
	char *text = json_dumps(s, JSON_INDENT(2));
	if (text)
		add(ctx, ".gemini/settings.json", text, strlen(text));
	free(text);
	json_decref(s);
}

/* ---- qwen --------------------------------------------------------------- */

static void qwen_args(const struct agent_ctx *x, struct strlist *argv,
		      struct strlist *env);

static const char *const qwen_fixed[] = {"--yolo", "-o", "json", NULL};
static const char *const qwen_keys[] = {"OPENAI_API_KEY", NULL};
static const char *const qwen_hosts[] = {"api.openai.com", NULL};
static const char *const qwen_env[] = {"NO_COLOR=1", NULL};
static const char *const qwen_seed[] = {".qwen/oauth_creds.json", NULL};

static const struct agent_preset agent_qwen = {
	.name = "qwen",
	.bin = "qwen",
	.package = "npm install -g @qwen-code/qwen-code",
	.wire = "openai-chat",
	.args = qwen_fixed,
	.model_flag = "-m",
	.base_env = "OPENAI_BASE_URL",
	.keys = qwen_keys,
	.hosts = qwen_hosts,
	.env = qwen_env,
	.seed = qwen_seed,
	.turn_args = qwen_args,
	.usage = agent_usage_qwen,
};

static void qwen_args(const struct agent_ctx *x, struct strlist *argv,
		      struct strlist *env)
{
	strlist_push(argv, "--auth-type");
	strlist_push(argv, x->have_key ? "openai" : "qwen-oauth");
	push_model(&agent_qwen, x, argv);
	push_base_env(&agent_qwen, x, env);
}

/* ---- opencode ----------------------------------------------------------- */

static void opencode_args(const struct agent_ctx *x, struct strlist *argv,
			  struct strlist *env);

/* reads the prompt on stdin when none is given */
static const char *const opencode_fixed[] = {"run", "--format", "json", NULL};
static const char *const opencode_keys[] = {"OPENAI_API_KEY", "ANTHROPIC_API_KEY",
					    "GOOGLE_GENERATIVE_AI_API_KEY",
					    "OPENROUTER_API_KEY", NULL};
static const char *const opencode_hosts[] = {"api.openai.com", "api.anthropic.com",
					     "generativelanguage.googleapis.com",
					     "openrouter.ai", NULL};
static const char *const opencode_env[] = {
	"OPENCODE_DISABLE_MODELS_FETCH=1", "OPENCODE_DISABLE_AUTOUPDATE=1",
	"OPENCODE_DISABLE_LSP_DOWNLOAD=1", "OPENCODE_DISABLE_SHARE=1",
	"OPENCODE_DISABLE_DEFAULT_PLUGINS=1",
	/* it would read ~/.claude otherwise */
	"OPENCODE_DISABLE_CLAUDE_CODE=1", "NO_COLOR=1", NULL};
static const char *const opencode_seed[] = {".local/share/opencode/auth.json", NULL};

static const struct agent_preset agent_opencode = {
	.name = "opencode",
	.bin = "opencode",
	.package = "npm install -g opencode-ai",
	.wire = "openai-chat",
	.args = opencode_fixed,
	.model_flag = "-m",
	.keys = opencode_keys,
	.hosts = opencode_hosts,
	.env = opencode_env,
	.seed = opencode_seed,
	.needs_model = 1,
	.turn_args = opencode_args,
	.usage = agent_usage_opencode,
};

static void opencode_args(const struct agent_ctx *x, struct strlist *argv,
			  struct strlist *env)
{
	json_t *cfg;
	char *text, *kv, *model;

	if (!x->base_url) {
		push_model(&agent_opencode, x, argv); /* PROVIDER/NAME */
		return;
	}
	/* an OpenAI-compatible provider of its own for the base URL */
	cfg = json_pack("{s:{s:{s:s,s:s,s:{s:s,s:s},s:{s:{s:s}}}}}", "provider",
			"loopgate", "npm", "@ai-sdk/openai-compatible", "name",
			"loopgate", "options", "baseURL", x->base_url, "apiKey",
			"{env:OPENAI_API_KEY}", "models", x->model ? x->model : "default",
			"name", x->model ? x->model : "default");
	text = json_dumps(cfg, JSON_COMPACT);
	kv = xasprintf("OPENCODE_CONFIG_CONTENT=%s", text ? text : "{}");
	strlist_push(env, kv);
	model = xasprintf("loopgate/%s", x->model ? x->model : "default");
	strlist_push(argv, "-m");
	strlist_push(argv, model);
	free(model);
	free(kv);
	free(text);
	json_decref(cfg);
}

/* ---- aider (pip, not npm: unit-tested only) ------------------------------- */

static void aider_args(const struct agent_ctx *x, struct strlist *argv,
		       struct strlist *env);

/* its commits, .gitignore edits, repo map cache and history files in the
 * tree are loopgate's business or nobody's */
static const char *const aider_fixed[] = {"--yes-always",
					  "--no-auto-commits",
					  "--no-dirty-commits",
					  "--no-gitignore",
					  "--no-analytics",
					  "--no-check-update",
					  "--no-show-release-notes",
					  "--no-pretty",
					  "--no-fancy-input",
					  "--map-tokens",
					  "0",
					  NULL};
static const char *const aider_keys[] = {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", NULL};
static const char *const aider_hosts[] = {"api.openai.com", "api.anthropic.com", NULL};
static const char *const aider_env[] = {"NO_COLOR=1", NULL};
static const char *const aider_seed[] = {NULL};

static const struct agent_preset agent_aider = {
	.name = "aider",
	.bin = "aider",
	.package = "python3 -m pip install aider-chat",
	.wire = "litellm",
	.args = aider_fixed,
	.model_flag = "--model",
	.keys = aider_keys,
	.hosts = aider_hosts,
	.env = aider_env,
	.seed = aider_seed,
	.reports_cost = 1,
	.turn_args = aider_args,
	.usage = agent_usage_aider,
};

static void aider_args(const struct agent_ctx *x, struct strlist *argv,
		       struct strlist *env)
{
	char *s;
	(void)env;
	push_model(&agent_aider, x, argv);
	if (x->base_url) {
		strlist_push(argv, "--openai-api-base");
		strlist_push(argv, x->base_url);
	}
	s = xasprintf("%s/.aider.input.history", x->home);
	strlist_push(argv, "--input-history-file");
	strlist_push(argv, s);
	free(s);
	s = xasprintf("%s/.aider.chat.history.md", x->home);
	strlist_push(argv, "--chat-history-file");
	strlist_push(argv, s);
	free(s);
	strlist_push(argv, "--message-file");
	strlist_push(argv, x->prompt_file);
}

/* ---- the table and what the engine asks of it --------------------------- */

const struct agent_preset *const agent_presets[] = {
	&agent_claude,	 &agent_codex, &agent_gemini, &agent_qwen,
	&agent_opencode, &agent_aider, NULL};

const struct agent_preset *agent_find(const char *name)
{
	for (size_t i = 0; name && agent_presets[i]; i++)
		if (!strcmp(agent_presets[i]->name, name))
			return agent_presets[i];
	return NULL;
}

void agent_names(struct buf *out)
{
	for (size_t i = 0; agent_presets[i]; i++)
		buf_addf(out, "%s%s", i ? ", " : "", agent_presets[i]->name);
}

const char *const *agent_key_vars(const struct agent_preset *p)
{
	return p->keys;
}

void agent_command(const struct agent_preset *p, const struct agent_ctx *x,
		   struct strlist *argv, struct strlist *env)
{
	strlist_push(argv, x->bin);
	for (size_t i = 0; p->args[i]; i++)
		strlist_push(argv, p->args[i]);
	for (size_t i = 0; p->env[i]; i++)
		strlist_push(env, p->env[i]);
	p->turn_args(x, argv, env);
}

/*
 * The host[:port] rule of a base URL: "http://127.0.0.1:8000/v1" ->
 * "127.0.0.1:8000", "https://h.example/v1" -> "h.example:443".
 */
static int url_host_rule(const char *url, struct buf *out, struct buf *err)
{
	const char *a = strstr(url, "://"), *end, *at, *colon, *h;
	char host[256];
	size_t hl;
	long port;

	if (!a)
		return err_set(err, -EINVAL, "base URL '%s' has no scheme", url);
	port = !strncasecmp(url, "https", 5) ? 443 : 80;
	a += 3;
	end = a + strcspn(a, "/?#");
	at = memchr(a, '@', (size_t)(end - a));
	h = at ? at + 1 : a;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));
		if (!rb)
			return err_set(err, -EINVAL, "base URL '%s': bad IPv6 host", url);
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
		hl = (size_t)(rb - h - 1);
		h++; /* the address alone */
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		hl = (size_t)((colon ? colon : end) - h);
	}
	if (colon) {
		char *pe;
		port = strtol(colon + 1, &pe, 10);
		if (pe != end || port <= 0 || port > 65535)
			return err_set(err, -EINVAL, "base URL '%s': bad port", url);
	}
	if (!hl || hostrule_norm(h, hl, host, sizeof(host)) < 0)
		return err_set(err, -EINVAL, "base URL '%s' has no usable host", url);
	if (strchr(host, ':'))
		buf_addf(out, "[%s]:%ld", host, port);
	else
		buf_addf(out, "%s:%ld", host, port);
	return 0;
}

/* A PROVIDER/ prefix of the model picks one host of a multi-provider CLI. */
static const struct {
	const char *prefix, *host;
} model_hosts[] = {
	{"anthropic/", "api.anthropic.com"},
	{"openai/", "api.openai.com"},
	{"google/", "generativelanguage.googleapis.com"},
	{"gemini/", "generativelanguage.googleapis.com"},
	{"openrouter/", "openrouter.ai"},
};

int agent_hosts(const struct agent_preset *p, const struct agent_ctx *x,
		struct strlist *out, struct buf *err)
{
	struct buf b = BUF_INIT;
	int ret = 0;

	if (x->base_url) {
		if ((ret = url_host_rule(x->base_url, &b, err)) == 0)
			strlist_push(out, b.s);
		buf_release(&b);
		return ret;
	}
	if (p->hosts[0] && p->hosts[1] && x->model)
		for (size_t i = 0; i < sizeof(model_hosts) / sizeof(model_hosts[0]); i++)
			if (!strncmp(x->model, model_hosts[i].prefix,
				     strlen(model_hosts[i].prefix))) {
				strlist_push(out, model_hosts[i].host);
				return 0;
			}
	for (size_t i = 0; p->hosts[i]; i++)
		strlist_push(out, p->hosts[i]);
	return 0;
}

void agent_home_files(
	const struct agent_preset *p, const struct agent_ctx *x, const char *real_home,
	void (*add)(void *ctx, const char *rel, const char *data, size_t len), void *ctx)
{
	if (p->files)
		p->files(x, add, ctx);
	for (size_t i = 0; real_home && p->seed[i]; i++) {
		char *path = xasprintf("%s/%s", real_home, p->seed[i]);
		struct buf b = BUF_INIT;
		buf_init(&b, SEED_MAX_BYTES);
		if (buf_read_file(&b, path) == 0)
			add(ctx, p->seed[i], b.s, b.len);
		buf_release(&b);
		free(path);
	}
}

int agent_has_login(const struct agent_preset *p, const char *real_home)
{
	for (size_t i = 0; real_home && p->seed[i]; i++) {
		char *path = xasprintf("%s/%s", real_home, p->seed[i]);
		int ok = access(path, R_OK) == 0;
		free(path);
		if (ok)
			return 1;
	}
	return 0;
}

static int executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/*
 * path with its directory made canonical (symlinks and ".." resolved), the
 * last component kept as it is (node_modules/.bin/X is a symlink the CLI's
 * launcher resolves itself).  The sandbox shows only some directories (its
 * /tmp is private): a PATH entry like /tmp/x/tests/../npm/.bin names a
 * directory the sandbox does not have, its canonical form one it binds.
 */
static char *canon_dir(const char *path)
{
	char real[PATH_MAX];
	const char *slash = strrchr(path, '/');
	char *dir;

	if (!slash || slash == path)
		return xstrdup(path);
	dir = xasprintf("%.*s", (int)(slash - path), path);
	if (!realpath(dir, real)) {
		free(dir);
		return xstrdup(path);
	}
	free(dir);
	return xasprintf("%s%s", real, slash);
}

int agent_resolve_bin(const struct agent_preset *p, const char *path,
		      const char *path_var, char **out, struct buf *err)
{
	char cwd[PATH_MAX];
	const char *s;

	if (path) {
		if (!executable(path))
			return err_set(err, -ENOENT,
				       "--agent-bin %s: not an executable file", path);
		if (path[0] != '/' && getcwd(cwd, sizeof(cwd))) {
			char *abs = xasprintf("%s/%s", cwd, path);
			*out = canon_dir(abs);
			free(abs);
		} else {
			*out = canon_dir(path);
		}
		return 0;
	}
	for (s = path_var ? path_var : ""; *s;) {
		size_t n = strcspn(s, ":");
		char *cand = xasprintf("%.*s/%s", (int)n, s, p->bin);
		if (n && s[0] == '/' && executable(cand)) {
			*out = canon_dir(cand);
			free(cand);
			return 0;
		}
		free(cand);
		s += n;
		if (*s == ':')
			s++;
	}
	return err_set(err, -ENOENT,
		       "%s (the %s preset) is not on PATH: install it (%s) or name "
		       "it with --agent-bin PATH",
		       p->bin, p->name, p->package);
}

void agent_install_dirs(const char *bin, struct strlist *out)
{
	char real[PATH_MAX], *slash, *nm;
	char *dir = canon_dir(bin);

	if ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = 0;
		strlist_push(out, dir);
	}
	free(dir);
	if (!realpath(bin, real))
		return;
	/* the outermost node_modules: the package and its dependencies */
	if ((nm = strstr(real, "/node_modules/"))) {
		nm[strlen("/node_modules")] = 0;
	} else if ((slash = strrchr(real, '/')) && slash != real) {
		*slash = 0;
	}
	for (size_t i = 0; i < out->n; i++)
		if (!strcmp(out->v[i], real))
			return;
	strlist_push(out, real);
}
