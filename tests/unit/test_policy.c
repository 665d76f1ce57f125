/*
 * test_policy.c: policy matching, layering and the policy: schema.
 */
#include "unit.h"
#include "base/buf.h"
#include "config/config.h"
#include "config/policy.h"

#include <errno.h>
#include <stdlib.h>

static struct policy *pol(const char *const *allow, const char *const *deny)
{
	struct policy *p = policy_new();
	for (; allow && *allow; allow++)
		strlist_push(&p->allow, *allow);
	for (; deny && *deny; deny++)
		strlist_push(&p->deny, *deny);
	policy_finalize(p);
	return p;
}

TEST(program_name)
{
	struct buf b = BUF_INIT;
	policy_program("  /usr/bin/curl -s x", &b);
	CHECK_STR(b.s, "curl");
	policy_program("FOO=1 BAR=x/y make -j2", &b);
	CHECK_STR(b.s, "make");
	policy_program("./run-tests.sh", &b);
	CHECK_STR(b.s, "run-tests.sh");
	policy_program("   ", &b);
	CHECK(!b.s || !*b.s);
	buf_release(&b);
}

TEST(deny_wins_and_names_the_rule)
{
	static const char *const allow[] = { "curl", "make", NULL };
	static const char *const deny[] = { "curl*", "rm -rf *", NULL };
	struct policy *p = pol(allow, deny);
	struct buf why = BUF_INIT;

	CHECK_INT(policy_check_command(p, "curl -s http://x", &why), 0);
	CHECK_STR(why.s, "commands.deny 'curl*'");
	CHECK_INT(policy_check_command(p, "rm -rf /", &why), 0);
	CHECK_STR(why.s, "commands.deny 'rm -rf *'");
	CHECK_INT(policy_check_command(p, "make test", &why), 1);
	CHECK_STR(why.s, "commands.allow 'make'");
	CHECK_INT(policy_check_command(p, "python3 -m pytest", &why), 0);
	CHECK_STR(why.s, "not in commands.allow");
	policy_free(p);
	buf_release(&why);
}

TEST(empty_allow_allows_what_is_not_denied)
{
	static const char *const deny[] = { "wget", NULL };
	struct policy *p = pol(NULL, deny);
	struct buf why = BUF_INIT;

	CHECK_INT(policy_check_command(p, "pytest -q", &why), 1);
	CHECK_CONTAINS(why.s, "no rule matched");
	CHECK_INT(policy_check_command(p, "/usr/bin/wget x", &why), 0);
	CHECK_INT(policy_check_command(NULL, "anything", &why), 1);
	policy_free(p);
	buf_release(&why);
}

TEST(defaults_and_overlay)
{
	struct policy *a = policy_new(), *b = policy_new(), *d = NULL;

	strlist_push(&a->deny, "curl*");
	a->lim.processes = 64;
	a->network = POLICY_NET_ON;
	strlist_push(&b->deny, "perl*");
	b->lim.memory_mb = 512;
	policy_overlay(&d, a);
	policy_overlay(&d, b);
	policy_finalize(d);
	CHECK_INT(d->deny.n, 1);
	CHECK_STR(d->deny.v[0], "perl*");	/* a list replaces a list */
	CHECK_INT(d->lim.processes, 64);	/* key by key */
	CHECK_INT(d->lim.memory_mb, 512);
	CHECK_INT(d->lim.file_size_mb, POLICY_DEFAULT_FILE_SIZE_MB);
	CHECK_INT(d->lim.output_bytes, POLICY_DEFAULT_OUTPUT_BYTES);
	CHECK_INT(d->lim.cpu_seconds, 0);
	CHECK_INT(d->network, POLICY_NET_ON);
	policy_free(a);
	policy_free(b);
	policy_free(d);
}

static int load(struct config *c, const char *text, struct buf *err)
{
	config_init(c);
	return config_load_string(c, "t.yaml", text, strlen(text), err);
}

TEST(schema)
{
	struct config c;
	struct buf err = BUF_INIT;

	CHECK_INT(load(&c, "policy:\n  commands:\n    allow: [make]\n    deny: [\"curl*\"]\n"
		  "  write: [/var/cache/x]\n  read_deny: [\"~/.netrc\"]\n  network: off\n"
		  "  env: [CI]\n  actor_env: [ANTHROPIC_API_KEY]\n"
		  "  limits: { cpu_seconds: 60, memory_mb: 256, processes: 50,"
		  " file_size_mb: 10, output_bytes: 65536, wall_seconds: 120 }\n"
		  "sandbox: false\nbwrap: /opt/bwrap\n", &err), 0);
	CHECK(c.policy != NULL);
	if (c.policy) {
		CHECK_STR(c.policy->allow.v[0], "make");
		CHECK_STR(c.policy->deny.v[0], "curl*");
		CHECK_STR(c.policy->write.v[0], "/var/cache/x");
		CHECK_STR(c.policy->read_deny.v[0], "~/.netrc");
		CHECK_INT(c.policy->network, POLICY_NET_OFF);
		CHECK_STR(c.policy->env.v[0], "CI");
		CHECK_STR(c.policy->actor_env.v[0], "ANTHROPIC_API_KEY");
		CHECK_INT(c.policy->lim.cpu_seconds, 60);
		CHECK_INT(c.policy->lim.wall_seconds, 120);
		CHECK_INT(c.policy->lim.output_bytes, 65536);
	}
	CHECK_INT(c.sandbox, 0);
	CHECK_STR(c.bwrap, "/opt/bwrap");
	config_release(&c);

	CHECK_INT(load(&c, "policy:\n  netwrok: on\n", &err), -EINVAL);
	CHECK_STR(err.s, "t.yaml:2: key 'policy.netwrok': unknown key; did you mean 'network'?");
	config_release(&c);
	CHECK_INT(load(&c, "policy:\n  network: maybe\n", &err), -EINVAL);
	CHECK_STR(err.s, "t.yaml:2: key 'policy.network': expected off, on or a list of hosts, got maybe");
	config_release(&c);
	CHECK_INT(load(&c, "policy:\n  limits:\n    processes: 2\n", &err), -EINVAL);
	CHECK_CONTAINS(err.s, "t.yaml:3: key 'policy.limits.processes': expected an integer from 8");
	config_release(&c);
	CHECK_INT(load(&c, "policy:\n  commands: [make]\n", &err), -EINVAL);
	CHECK_CONTAINS(err.s, "key 'policy.commands': expected a mapping");
	config_release(&c);
	CHECK_INT(load(&c, "policy:\n  actor_env: [lower]\n", &err), -EINVAL);
	CHECK_CONTAINS(err.s, "'lower' is not an environment variable name");
	config_release(&c);
	buf_release(&err);
}

TEST(finalize_checks_gates_and_hosts)
{
	struct config c;
	struct buf err = BUF_INIT;

	CHECK_INT(load(&c, "gates: [\"sh test.sh\", \"curl -s x\"]\n"
		  "policy:\n  commands:\n    deny: [curl]\n", &err), 0);
	CHECK_INT(config_finalize_gates(&c, &err), -EINVAL);
	CHECK_CONTAINS(err.s, "gate 2 `curl -s x` is denied by the policy (commands.deny 'curl')");
	config_release(&c);
	CHECK_INT(load(&c, "gates: [true]\npolicy:\n  network: [pypi.org]\n", &err), 0);
	CHECK_INT(config_finalize_gates(&c, &err), 0);
	config_release(&c);
	CHECK_INT(load(&c, "gates: [true]\npolicy:\n  network: [\"https://pypi.org/\"]\n", &err), 0);
	CHECK_INT(config_finalize_gates(&c, &err), -EINVAL);
	CHECK_CONTAINS(err.s, "policy.network: 'https://pypi.org/': not a host name or an IP address");
	config_release(&c);
	CHECK_INT(load(&c, "gates: [true]\nsandbox: false\npolicy:\n  network: [pypi.org]\n", &err), 0);
	CHECK_INT(config_finalize_gates(&c, &err), -EINVAL);
	CHECK_CONTAINS(err.s, "cannot be enforced with --no-sandbox");
	config_release(&c);
	CHECK_INT(load(&c, "gates: [true]\npolicy:\n  env: [CI, OPENAI_API_KEY]\n", &err), 0);
	CHECK_INT(config_finalize_gates(&c, &err), -EINVAL);
	CHECK_CONTAINS(err.s, "policy.env: OPENAI_API_KEY holds an API key");
	config_release(&c);
	CHECK_INT(load(&c, "gates: [true]\npolicy:\n  actor_env: [OPENAI_API_KEY]\n", &err), 0);
	CHECK_INT(config_finalize_gates(&c, &err), 0);
	config_release(&c);
	CHECK_INT(load(&c, "gates: [true]\n", &err), 0);
	CHECK_INT(config_finalize_gates(&c, &err), 0);
	CHECK(c.policy != NULL);
	CHECK_INT(c.sandbox, 1);
	if (c.policy)
		CHECK_INT(c.policy->lim.memory_mb, POLICY_DEFAULT_MEMORY_MB);
	config_release(&c);
	buf_release(&err);
}

int main(void)
{
	RUN(program_name);
	RUN(deny_wins_and_names_the_rule);
	RUN(empty_allow_allows_what_is_not_denied);
	RUN(defaults_and_overlay);
	RUN(schema);
	RUN(finalize_checks_gates_and_hosts);
	return unit_done();
}
