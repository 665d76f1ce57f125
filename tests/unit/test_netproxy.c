/*
 * test_netproxy.c: host matching and request parsing of the network proxy
 * (netproxy_match.c), and the relay wrapped around a sandboxed command.
 */
#include "unit.h"
#include "exec/netproxy.h"
#include "exec/sandbox.h"

#include <stdlib.h>

static struct strlist list(const char *const *v)
{
	struct strlist l = { NULL, 0 };
	for (; *v; v++)
		strlist_push(&l, *v);
	return l;
}

/* 1 when host:port is allowed, rule then the matching rule. */
static int allows(const struct strlist *l, const char *host, int port, const char **rule)
{
	char h[256];
	if (hostrule_norm(host, strlen(host), h, sizeof(h)) < 0)
		return -1;
	return hostrule_match(l, h, port, rule);
}

TEST(exact_names_wildcards_ips_ports)
{
	static const char *const rules[] = { "api.example.com", "127.0.0.1:8080",
		"*.pypi.org", "[::1]:9000", "10.0.0.1", "Mixed.Case.ORG:443", NULL };
	struct strlist l = list(rules);
	const char *rule = NULL;

	CHECK_INT(allows(&l, "api.example.com", 443, &rule), 1);
	CHECK_STR(rule, "api.example.com");
	CHECK_INT(allows(&l, "API.Example.COM.", 80, &rule), 1);	/* case, trailing dot */
	CHECK_INT(allows(&l, "example.com", 443, &rule), 0);
	CHECK(rule == NULL);
	CHECK_INT(allows(&l, "evil-api.example.com", 443, &rule), 0);
	CHECK_INT(allows(&l, "api.example.com.evil.net", 443, &rule), 0);
	CHECK_INT(allows(&l, "127.0.0.1", 8080, &rule), 1);
	CHECK_STR(rule, "127.0.0.1:8080");
	CHECK_INT(allows(&l, "127.0.0.1", 8081, &rule), 0);
	CHECK_INT(allows(&l, "files.pypi.org", 443, &rule), 1);
	CHECK_STR(rule, "*.pypi.org");
	CHECK_INT(allows(&l, "a.b.pypi.org", 80, &rule), 1);
	CHECK_INT(allows(&l, "pypi.org", 443, &rule), 0);	/* the suffix alone: no */
	CHECK_INT(allows(&l, "notpypi.org", 443, &rule), 0);
	CHECK_INT(allows(&l, "::1", 9000, &rule), 1);
	CHECK_INT(allows(&l, "0:0::1", 9000, &rule), 1);	/* one address, two spellings */
	CHECK_INT(allows(&l, "::1", 9001, &rule), 0);
	CHECK_INT(allows(&l, "10.0.0.1", 1, &rule), 1);	/* no port: any port */
	CHECK_INT(allows(&l, "10.0.0.2", 1, &rule), 0);
	CHECK_INT(allows(&l, "mixed.case.org", 443, &rule), 1);
	CHECK_INT(allows(&l, "mixed.case.org", 80, &rule), 0);
	strlist_clear(&l);
}

TEST(numeric_tricks_and_odd_hosts_are_not_hosts)
{
	char h[256];
	static const char *const bad[] = { "2130706433", "0x7f.0.0.1", "127.1",
		"0177.0.0.1", "a b", "a/b", "a@b", "", ".", "..x", "x..y", "-x",
		"a%00b", NULL };
	for (int i = 0; bad[i]; i++) {
		int r = hostrule_norm(bad[i], strlen(bad[i]), h, sizeof(h));
		if (r != -1)
			fprintf(stderr, "accepted: '%s'\n", bad[i]);
		CHECK_INT(r, -1);
	}
	CHECK_INT(hostrule_norm("127.0.0.1", 9, h, sizeof(h)), 0);
	CHECK_STR(h, "127.0.0.1");
	CHECK_INT(hostrule_norm("FE80:0:0::1", 11, h, sizeof(h)), 0);
	CHECK_STR(h, "fe80::1");
}

TEST(rules_are_checked)
{
	const char *why = NULL;
	CHECK_INT(hostrule_check("api.example.com", &why), 0);
	CHECK_INT(hostrule_check("*.pypi.org:443", &why), 0);
	CHECK_INT(hostrule_check("[::1]:80", &why), 0);
	CHECK_INT(hostrule_check("::1", &why), 0);
	CHECK_INT(hostrule_check("http://pypi.org/", &why), -1);
	CHECK_INT(hostrule_check("pypi.org:0", &why), -1);
	CHECK_INT(hostrule_check("pypi.org:99999", &why), -1);
	CHECK_INT(hostrule_check("*pypi.org", &why), -1);
	CHECK_CONTAINS(why, "'*' is only allowed");
	CHECK_INT(hostrule_check("a.*.org", &why), -1);
	CHECK_INT(hostrule_check("user@pypi.org", &why), -1);
}

static int parse(const char *line, char *host, int *port, int *conn, const char **why)
{
	size_t po, pl;
	return hostrule_parse_request(line, strlen(line), host, 256, port, conn, &po, &pl, why);
}

TEST(requests_are_parsed)
{
	char host[256];
	const char *why = NULL, *line;
	size_t po = 0, pl = 0;
	int port = 0, conn = 0;

	CHECK_INT(parse("CONNECT Files.PyPI.org:443 HTTP/1.1", host, &port, &conn, &why), 0);
	CHECK_STR(host, "files.pypi.org");
	CHECK_INT(port, 443);
	CHECK_INT(conn, 1);
	CHECK_INT(parse("CONNECT [::1]:8443 HTTP/1.1", host, &port, &conn, &why), 0);
	CHECK_STR(host, "::1");
	CHECK_INT(port, 8443);
	line = "GET http://127.0.0.1:8080/a/b?c=d HTTP/1.1";
	CHECK_INT(hostrule_parse_request(line, strlen(line), host, sizeof(host), &port,
					 &conn, &po, &pl, &why), 0);
	CHECK_STR(host, "127.0.0.1");
	CHECK_INT(port, 8080);
	CHECK_INT(conn, 0);
	CHECK_INT(pl, 8);
	CHECK(!strncmp(line + po, "/a/b?c=d", pl));
	CHECK_INT(parse("GET http://example.com HTTP/1.0", host, &port, &conn, &why), 0);
	CHECK_INT(port, 80);
	/* refused, with the reason */
	CHECK_INT(parse("GET http://allowed.com@evil.com/ HTTP/1.1", host, &port, &conn, &why), -1);
	CHECK_STR(why, "userinfo in the URL");
	CHECK_INT(parse("CONNECT user@evil.com:443 HTTP/1.1", host, &port, &conn, &why), -1);
	CHECK_STR(why, "userinfo in the address");
	CHECK_INT(parse("CONNECT evil.com HTTP/1.1", host, &port, &conn, &why), -1);
	CHECK_STR(why, "CONNECT needs host:port");
	CHECK_INT(parse("GET /local HTTP/1.1", host, &port, &conn, &why), -1);
	CHECK_STR(why, "not an absolute http:// URL");
	CHECK_INT(parse("GET https://x.org/ HTTP/1.1", host, &port, &conn, &why), -1);
	CHECK_INT(parse("GET http://2130706433/ HTTP/1.1", host, &port, &conn, &why), -1);
	CHECK_STR(why, "not a host name or an IP address");
	CHECK_INT(parse("GET http://x.org:0/ HTTP/1.1", host, &port, &conn, &why), -1);
	CHECK_INT(parse("GET http://x.org/ HTTP/2", host, &port, &conn, &why), -1);
	CHECK_INT(parse("get http://x.org/ HTTP/1.1", host, &port, &conn, &why), -1);
}

TEST(loopback_rules_turn_no_proxy_off)
{
	static const char *const a[] = { "pypi.org", "*.example.com", NULL };
	static const char *const b[] = { "pypi.org", "127.0.0.1:8080", NULL };
	static const char *const c[] = { "LocalHost", NULL };
	struct strlist la = list(a), lb = list(b), lc = list(c);
	CHECK_INT(hostrule_lists_loopback(&la), 0);
	CHECK_INT(hostrule_lists_loopback(&lb), 1);
	CHECK_INT(hostrule_lists_loopback(&lc), 1);
	strlist_clear(&la);
	strlist_clear(&lb);
	strlist_clear(&lc);
}

TEST(argv_wraps_the_command_in_the_relay)
{
	struct sandbox sb;
	struct strlist a = { NULL, 0 };
	const char *const argv[] = { "/bin/sh", "-c", "true", NULL };
	size_t i;

	memset(&sb, 0, sizeof(sb));
	sb.bwrap = "bwrap";
	sb.tree = "/t";
	sb.network = POLICY_NET_HOSTS;
	sb.self_exe = "/opt/loopgate";
	strlist_push(&sb.hosts, "pypi.org");
	sandbox_argv(&sb, argv, -1, 9, NULL, &a);
	for (i = 0; i < a.n && strcmp(a.v[i], "--"); i++)
		;
	CHECK(i + 9 == a.n);
	CHECK_STR(a.v[i + 1], "/opt/loopgate");
	CHECK_STR(a.v[i + 2], "__netrelay");
	CHECK_STR(a.v[i + 3], "9");
	CHECK_STR(a.v[i + 4], "localhost,127.0.0.1,::1");
	CHECK_STR(a.v[i + 5], "--");
	CHECK_STR(a.v[i + 6], "/bin/sh");
	/* the namespace stays: loopback only */
	for (i = 0; i < a.n && strcmp(a.v[i], "--unshare-net"); i++)
		;
	CHECK(i < a.n);
	strlist_clear(&a);
	/* no relay descriptor: the command as it is */
	sandbox_argv(&sb, argv, -1, -1, NULL, &a);
	CHECK_STR(a.v[a.n - 3], "/bin/sh");
	strlist_clear(&a);
	strlist_clear(&sb.hosts);
}

int main(void)
{
	RUN(exact_names_wildcards_ips_ports);
	RUN(numeric_tricks_and_odd_hosts_are_not_hosts);
	RUN(rules_are_checked);
	RUN(requests_are_parsed);
	RUN(loopback_rules_turn_no_proxy_off);
	RUN(argv_wraps_the_command_in_the_relay);
	return unit_done();
}
