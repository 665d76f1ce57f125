/*
 * cmd_verify.c: `loopgate verify`: a panel of voting verifiers judges a
 * file no test can (research notes, a design, a generated answer).  The
 * panel is engine/verify.h's; this file parses flags and prints.
 */
#include "cli/cmd.h"
#include "base/clock.h"
#include "base/saferead.h"
#include "config/config.h"
#include "engine/verify.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"usage: loopgate verify --input FILE --question TEXT [--brief TEXT]...\n"
	"                       [--config FILE] [--model SPEC] [--base-url URL]\n"
	"                       [--accept M] [--max-cost USD] [--max-tokens N] [--json]\n"
	"\n"
	"Asks each verifier (its own perspective, its own model) for a structured\n"
	"verdict on FILE against the question, and prints the panel's verdict with\n"
	"every vote: dissent is shown, not hidden.  The verifiers are the --brief\n"
	"texts (brief-1, brief-2, ...), else verifiers: in the config file\n"
	"(--config, else ./loopgate.yaml when present).  A verifier's model is its\n"
	"model:, else roles.verifier, else --model / model:.\n"
	"\n"
	"  --input FILE     the material judged (UTF-8 text, at most 256 KiB)\n"
	"  --question TEXT  what every verifier answers\n"
	"  --brief TEXT     a verifier's perspective (repeatable; replaces the\n"
	"                   config's verifiers)\n"
	"  --accept M       M of the K verifiers must accept (default: a majority)\n"
	"  --max-cost USD, --max-tokens N   a budget for all the calls together\n"
	"  --json           one JSON object on stdout\n"
	"\n"
	"Exit status: 0 accepted, 1 rejected, 2 usage or configuration error,\n"
	"3 could not run (the budget could not carry a call, interrupted).\n";

#define INPUT_MAX (256 * 1024)

enum {
	O_INPUT = 256,
	O_QUESTION,
	O_BRIEF,
	O_CONFIG,
	O_MODEL,
	O_BASE_URL,
	O_ACCEPT,
	O_MAX_COST,
	O_MAX_TOKENS,
	O_JSON
};

static const struct option options[] = {
	{"input", required_argument, NULL, O_INPUT},
	{"question", required_argument, NULL, O_QUESTION},
	{"brief", required_argument, NULL, O_BRIEF},
	{"config", required_argument, NULL, O_CONFIG},
	{"model", required_argument, NULL, O_MODEL},
	{"base-url", required_argument, NULL, O_BASE_URL},
	{"accept", required_argument, NULL, O_ACCEPT},
	{"max-cost", required_argument, NULL, O_MAX_COST},
	{"max-tokens", required_argument, NULL, O_MAX_TOKENS},
	{"json", no_argument, NULL, O_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct verify_args {
	const char *input, *question, *config;
	struct strlist briefs;
	int json;
};

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "loopgate verify: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage);
	return 2;
}

static int positive(const char *s, double *out, int integer)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v >= 0) || (integer && (v < 1 || v != (long)v)))
		return -1;
	*out = v;
	return 0;
}

/* Flags into a and over the config flags (applied after the file). */
static int parse(int argc, char **argv, struct verify_args *a, struct config *fl)
{
	int c;
	double v;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case O_INPUT:
			a->input = optarg;
			break;
		case O_QUESTION:
			a->question = optarg;
			break;
		case O_BRIEF:
			strlist_push(&a->briefs, optarg);
			break;
		case O_CONFIG:
			a->config = optarg;
			break;
		case O_JSON:
			a->json = 1;
			break;
		case O_MODEL:
			free(fl->model);
			fl->model = xstrdup(optarg);
			break;
		case O_BASE_URL:
			free(fl->base_url);
			fl->base_url = xstrdup(optarg);
			break;
		case O_ACCEPT:
			if (positive(optarg, &v, 1) < 0)
				return bad(
					"--accept expects a positive integer, not '%s'",
					optarg);
			fl->verify_accept = (long)v;
			break;
		case O_MAX_COST:
			if (positive(optarg, &v, 0) < 0)
				return bad(
					"--max-cost expects an amount in USD, not '%s'",
					optarg);
			fl->max_cost = v;
			break;
		case O_MAX_TOKENS:
			if (positive(optarg, &v, 1) < 0)
				return bad("--max-tokens expects a positive integer, not "
					   "'%s'",
					   optarg);
			fl->max_tokens = (long)v;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc)
		return bad("unexpected argument '%s'", argv[optind]);
	if (!a->input || !a->question || !*a->question)
		return bad("%s", "--input FILE and --question TEXT are needed");
	for (size_t i = 0; i < a->briefs.n; i++) {
		struct verifier_brief *b;
		char name[32];
		if (!*a->briefs.v[i])
			return bad("%s", "--brief is empty");
		snprintf(name, sizeof(name), "brief-%zu", i + 1);
		fl->verifiers = xrealloc(fl->verifiers,
					 (fl->nverifiers + 1) * sizeof(*b));
		b = &fl->verifiers[fl->nverifiers++];
		memset(b, 0, sizeof(*b));
		b->name = xstrdup(name);
		b->brief = xstrdup(a->briefs.v[i]);
		b->samples = -1;
	}
	return -1;
}

/* The config file (optional unless named), flags over it, finalized. */
static int load(const struct verify_args *a, struct config *fl, struct config *c,
		struct buf *err)
{
	int ret = 0;
	if (a->config)
		ret = config_load_file(c, a->config, err);
	else if (access("loopgate.yaml", F_OK) == 0)
		ret = config_load_file(c, "loopgate.yaml", err);
	if (ret == -ENOENT && a->config)
		ret = err_set(err, ret, "the config file %s does not exist", a->config);
	if (ret < 0)
		return ret;
	config_overlay(c, fl);
	return config_finalize_verify(c, err);
}

static void print_votes(const json_t *brief)
{
	size_t i, j;
	json_t *v, *r;
	json_array_foreach(json_object_get(brief, "votes"), i, v)
	{
		const char *verdict = json_string_value(json_object_get(v, "verdict"));
		const json_t *err = json_object_get(v, "error");
		printf("  %-12s %-7s", json_string_value(json_object_get(brief, "name")),
		       verdict);
		if (json_array_size(json_object_get(brief, "votes")) > 1)
			printf(" sample %zu", i + 1);
		if (json_is_string(err))
			printf(" %s", json_string_value(err));
		else
			printf(" confidence %.2f",
			       json_number_value(json_object_get(v, "confidence")));
		printf("\n");
		json_array_foreach(json_object_get(v, "reasons"), j, r)
		{
			const json_t *file = json_object_get(r, "file"),
				     *line = json_object_get(r, "line");
			printf("      - ");
			if (json_is_string(file))
				printf("%s%s", json_string_value(file),
				       json_is_integer(line) ? ":" : ": ");
			if (json_is_string(file) && json_is_integer(line))
				printf("%lld: ", (long long)json_integer_value(line));
			printf("%s\n", json_string_value(json_object_get(r, "text")));
		}
	}
}

static void print_out(const struct verify_out *o, const struct budget *b, int json)
{
	size_t i;
	json_t *br;
	if (json) {
		json_t *j = json_pack(
			"{s:s,s:b,s:I,s:I,s:I,s:s,s:O,s:I,s:I,s:I,s:f}", "verdict",
			o->accepted ? "accept" : "reject", "accepted", o->accepted,
			"accepts", (json_int_t)o->accepts, "needed",
			(json_int_t)o->needed, "of", (json_int_t)o->k, "summary",
			o->summary.s, "briefs", o->briefs, "tokens_in",
			(json_int_t)b->tokens_in, "tokens_out", (json_int_t)b->tokens_out,
			"calls", (json_int_t)b->calls, "cost_usd", b->cost);
		char *s = json_dumps(j, JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
		printf("%s\n", s ? s : "{}");
		free(s);
		json_decref(j);
		return;
	}
	printf("verdict: %s (%zu of %zu verifiers accept, %zu needed)\n",
	       o->accepted ? "accept" : "reject", o->accepts, o->k, o->needed);
	json_array_foreach(o->briefs, i, br) print_votes(br);
	printf("%s\n", o->summary.s);
	printf("spent: %ld calls, %ld in / %ld out tokens, $%.4f\n", b->calls,
	       b->tokens_in, b->tokens_out, b->cost);
}

static int cmd_verify(int argc, char **argv)
{
	struct verify_args a = {0};
	struct config fl, c;
	struct buf err = BUF_INIT, input = BUF_INIT;
	struct budget b;
	struct verify_out o = VERIFY_OUT_INIT;
	int code;

	config_init(&fl);
	config_init(&c);
	if ((code = parse(argc, argv, &a, &fl)) >= 0)
		goto out;
	code = 2;
	if (load(&a, &fl, &c, &err) < 0 ||
	    saferead_user(a.input, "input file", INPUT_MAX, 0, &input, &err) < 0) {
		fprintf(stderr, "loopgate verify: %s\n", err.s);
		goto out;
	}
	if (input.truncated || strlen(input.s) != input.len) {
		fprintf(stderr,
			"loopgate verify: %s is larger than 256 KiB or holds NUL bytes: "
			"verifiers judge text they see whole\n",
			a.input);
		goto out;
	}
	budget_init(&b);
	b.max_cost = c.max_cost;
	b.max_tokens = c.max_tokens > 0 ? c.max_tokens : 0;
	interrupt_install();
	{
		struct buf subject = BUF_INIT;
		struct verify_in in = {.cfg = &c,
				       .briefs = c.verifiers,
				       .nbriefs = c.nverifiers,
				       .accept = c.verify_accept,
				       .k = c.verify_k >= 0 ? c.verify_k : 1,
				       .question = a.question,
				       .budget = &b};
		buf_addf(&subject, "# The material: %s\n\n````text\n%s\n````\n", a.input,
			 input.s);
		in.subject = subject.s;
		code = verify_panel(&in, &o, &err);
		buf_release(&subject);
	}
	if (code == -EINVAL) {
		fprintf(stderr, "loopgate verify: %s\n", err.s);
		code = 2;
	} else if (code < 0) {
		fprintf(stderr, "loopgate verify: %s\n", err.s);
		code = 3;
	} else {
		print_out(&o, &b, a.json);
		code = o.accepted ? 0 : 1;
	}
out:
	verify_out_release(&o);
	strlist_clear(&a.briefs);
	config_release(&fl);
	config_release(&c);
	buf_release(&err);
	buf_release(&input);
	return code;
}

const struct cmd_entry cmd_verify_entry = {
	.name = "verify",
	.summary = "judge a file with a panel of voting verifiers",
	.exec = cmd_verify,
};
