/*
 * test_tools.c: the tool-call argument parser, the main argument a policy
 * rule is matched against, and the policy's tools: rules (engine/tools.h,
 * config/policy.h), as tables of same-shape cases.  The tools' effects on a
 * tree are t5030's; the parser is also fuzzed (fuzz/fuzz_tool_call.c).
 */
#include "unit.h"
#include "base/buf.h"
#include "config/config.h"
#include "config/policy.h"
#include "engine/tools.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

struct parse_case {
	const char *text;
	int ret;
	const char *key; /* ret 0: a key the object must have, or NULL */
	const char *why; /* ret < 0: what the model is told */
};

static const struct parse_case parse_cases[] = {
	{"{\"path\": \"a.c\"}", 0, "path", NULL},
	{"", 0, NULL, NULL}, /* no arguments at all: {} */
	{"{}", 0, NULL, NULL},
	{"  {\"command\": \"make\"}\n", 0, "command", NULL},
	{"{\"path\": \"a\\u00e9.c\", \"start\": 3}", 0, "start", NULL},
	{"[\"a.c\"]", -EINVAL, NULL, "are valid JSON, but not an object"},
	{"\"a.c\"", -EINVAL, NULL, "are valid JSON, but not an object"},
	{"42", -EINVAL, NULL, "are valid JSON, but not an object"},
	{"null", -EINVAL, NULL, "are valid JSON, but not an object"},
	{"{\"path\": \"a.c\"", -EINVAL, NULL, "are not a JSON object ("},
	{"{\"path\": 'a.c'}", -EINVAL, NULL, "line 1, column"},
	{"{\"path\": \"a\",\n \"path\": \"b\"}", -EINVAL, NULL, "duplicate object key"},
	{"{\"path\": \"a\"} trailing", -EINVAL, NULL, "are not a JSON object ("},
	{"{\"a\":\n\n}", -EINVAL, NULL, "at line 3"},
};

TEST(parse_args_table)
{
	struct buf why = BUF_INIT;

	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		json_t *args = (json_t *)1;
		buf_reset(&why);
		int ret = tools_parse_args(c->text, &args, &why);
		CHECK_INT(ret, c->ret);
		if (c->ret == 0) {
			CHECK(json_is_object(args));
			if (c->key)
				CHECK(json_object_get(args, c->key) != NULL);
			else
				CHECK_INT(json_object_size(args), 0);
		} else {
			CHECK(args == NULL);
			CHECK_CONTAINS(why.s, c->why);
		}
		json_decref(args);
	}
	json_t *args = NULL;
	CHECK_INT(tools_parse_args(NULL, &args, &why), 0); /* NULL is "" */
	CHECK(json_is_object(args));
	json_decref(args);
	buf_release(&why);
}

struct main_arg_case {
	const char *args;
	const char *main;
};

static const struct main_arg_case main_arg_cases[] = {
	{"{\"path\": \"src/a.c\", \"pattern\": \"x\"}", "src/a.c"},
	{"{\"command\": \"make test\"}", "make test"},
	{"{\"pattern\": \"TODO\", \"glob\": \"*.c\"}", "TODO"},
	{"{\"glob\": \"src/**\"}", "src/**"},
	{"{\"path\": 3, \"command\": \"ls\"}", "ls"}, /* not a string: the next key */
	{"{\"content\": \"x\"}", ""},
	{"{}", ""},
};

TEST(main_arg_table)
{
	for (size_t i = 0; i < sizeof(main_arg_cases) / sizeof(main_arg_cases[0]); i++) {
		json_t *args = json_loads(main_arg_cases[i].args, 0, NULL);
		CHECK(args != NULL);
		CHECK_STR(tools_main_arg(args), main_arg_cases[i].main);
		json_decref(args);
	}
}

struct rule_case {
	const char *tool, *arg;
	int ok;
	const char *why;
};

static struct policy *tool_policy(const char *const *allow, const char *const *deny)
{
	struct policy *p = policy_new();
	for (; allow && *allow; allow++)
		strlist_push(&p->tools_allow, *allow);
	for (; deny && *deny; deny++)
		strlist_push(&p->tools_deny, *deny);
	policy_finalize(p);
	return p;
}

static void check_rules(const struct policy *p, const struct rule_case *cases, size_t n)
{
	struct buf why = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		CHECK_INT(policy_check_tool(p, cases[i].tool, cases[i].arg, &why),
			  cases[i].ok);
		CHECK_STR(why.s ? why.s : "", cases[i].why);
	}
	buf_release(&why);
}

TEST(tool_rules_deny_wins_allow_is_exhaustive)
{
	static const char *const allow[] = {"read_*", "search", "run:make *",
					    "edit:src/*", NULL};
	static const char *const deny[] = {"run:*rm *", "edit:src/secret*", "write_file",
					   NULL};
	static const struct rule_case cases[] = {
		{"read_file", "a.c", 1, "tools.allow 'read_*'"},
		{"search", "TODO", 1, "tools.allow 'search'"},
		{"run", "make test", 1, "tools.allow 'run:make *'"},
		{"run", "make clean; rm -rf /", 0, "tools.deny 'run:*rm *'"},
		{"run", "ls", 0, "not in tools.allow"},
		{"edit", "src/a.c", 1, "tools.allow 'edit:src/*'"},
		{"edit", "src/secret.h", 0, "tools.deny 'edit:src/secret*'"},
		{"edit", "docs/a.md", 0, "not in tools.allow"},
		{"write_file", "src/a.c", 0, "tools.deny 'write_file'"},
		{"list_files", "*", 0, "not in tools.allow"},
		{"run_gates", "", 0, "not in tools.allow"},
	};
	struct policy *p = tool_policy(allow, deny);
	check_rules(p, cases, sizeof(cases) / sizeof(cases[0]));
	policy_free(p);
}

TEST(tool_rules_empty_allow_and_no_policy)
{
	static const char *const deny[] = {"run", NULL};
	static const struct rule_case cases[] = {
		{"run", "make", 0, "tools.deny 'run'"},
		{"read_file", "a.c", 1, ""},
		{"mcp__fs__read", "x", 1, ""},
	};
	struct policy *p = tool_policy(NULL, deny);
	check_rules(p, cases, sizeof(cases) / sizeof(cases[0]));
	policy_free(p);

	struct buf why = BUF_INIT;
	CHECK_INT(policy_check_tool(NULL, "run", "rm -rf /", &why), 1);
	CHECK_INT(policy_check_tool(NULL, "run", NULL, &why), 1);
	buf_release(&why);
}

TEST(tool_rules_from_yaml)
{
	static const char text[] = "gates: [true]\npolicy:\n  tools:\n"
				   "    allow: [read_file, \"run:make*\"]\n"
				   "    deny: [\"run:make clean*\"]\n";
	struct config c;
	struct buf err = BUF_INIT, why = BUF_INIT;

	config_init(&c);
	CHECK_INT(config_load_string(&c, "t.yaml", text, strlen(text), &err), 0);
	CHECK_INT(config_finalize_gates(&c, &err), 0);
	CHECK(c.policy != NULL);
	if (c.policy) {
		CHECK_INT(policy_check_tool(c.policy, "run", "make -j2", &why), 1);
		CHECK_INT(policy_check_tool(c.policy, "run", "make clean all", &why), 0);
		CHECK_STR(why.s, "tools.deny 'run:make clean*'");
		CHECK_INT(policy_check_tool(c.policy, "edit", "a.c", &why), 0);
		CHECK_STR(why.s, "not in tools.allow");
	}
	config_release(&c);
	buf_release(&err);
	buf_release(&why);
}

int main(void)
{
	RUN(parse_args_table);
	RUN(main_arg_table);
	RUN(tool_rules_deny_wins_allow_is_exhaustive);
	RUN(tool_rules_empty_allow_and_no_policy);
	RUN(tool_rules_from_yaml);
	return unit_done();
}
