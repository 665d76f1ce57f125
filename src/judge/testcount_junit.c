/*
 * testcount_junit: counts from a JUnit XML report (testcount_parse_junit,
 * declared in testcount.h).
 *
 * Not an XML parser: a scan for the tags and attributes that carry counts,
 * which skips comments, CDATA, processing instructions and DOCTYPEs, and
 * ignores everything else.
 */
#include "judge/testcount.h"
#include "judge/testcount_impl.h"

#include <string.h>

/* Attributes of one outermost <testsuite> (or the <testsuites> wrapper);
 * -1 when absent. */
struct jsuite {
	long tests, failures, errors, skipped, disabled;
	long cases, case_failed, case_skipped; /* from <testcase> elements */
};

struct jscan {
	struct jsuite suite, wrapper;
	int depth, wrapped, in_case;
	int case_state; /* 1 failed, 2 skipped */
	struct tally total;
};

/* Skips "<!-- -->", "<![CDATA[ ]]>", "<? ?>" and "<!DOCTYPE ...>" at p;
 * NULL when p starts none of them. */
static const char *xml_special(const char *p, const char *e)
{
	struct {
		const char *open, *close;
	} k[] = {
		{"<!--", "-->"},
		{"<![CDATA[", "]]>"},
		{"<?", "?>"},
		{"<!", ">"},
	};
	size_t i, left = (size_t)(e - p);
	const char *end;

	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		if (left < strlen(k[i].open) || memcmp(p, k[i].open, strlen(k[i].open)))
			continue;
		end = memmem(p, left, k[i].close, strlen(k[i].close));
		return end ? end + strlen(k[i].close) : e;
	}
	return NULL;
}

static int name_is(const char *p, size_t n, const char *name)
{
	return n == strlen(name) && !memcmp(p, name, n);
}

/* One attribute value into the suite record, when it is one we count. */
static void junit_attr(struct jsuite *s, const char *name, size_t nlen, const char *val,
		       size_t vlen)
{
	struct cur c = {val, val + vlen};
	long v, *into = NULL;

	if (name_is(name, nlen, "tests"))
		into = &s->tests;
	else if (name_is(name, nlen, "failures"))
		into = &s->failures;
	else if (name_is(name, nlen, "errors"))
		into = &s->errors;
	else if (name_is(name, nlen, "skipped"))
		into = &s->skipped;
	else if (name_is(name, nlen, "disabled"))
		into = &s->disabled;
	spaces(&c);
	if (into && num(&c, &v) && (spaces(&c), at_end(&c)))
		*into = v;
}

static int xml_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Reads the attributes of the tag whose name ends at p, into s (may be
 * NULL).  Returns the end of the tag; *selfclose for "/>". */
static const char *junit_attrs(const char *p, const char *e, struct jsuite *s,
			       int *selfclose)
{
	const char *name, *val;
	size_t nlen;
	char q;

	*selfclose = 0;
	while (p < e && *p != '>') {
		if (*p == '/' || xml_ws(*p)) {
			*selfclose = *p == '/' && p + 1 < e && p[1] == '>';
			p++;
			continue;
		}
		for (name = p;
		     p < e && *p != '=' && *p != '>' && *p != '/' && !xml_ws(*p); p++)
			;
		nlen = (size_t)(p - name);
		while (p < e && xml_ws(*p))
			p++;
		if (p >= e || *p != '=')
			continue;
		for (p++; p < e && xml_ws(*p); p++)
			;
		if (p >= e || (*p != '"' && *p != '\''))
			continue;
		for (q = *p++, val = p; p < e && *p != q; p++)
			; /* a quoted '>' is legal XML */
		if (s)
			junit_attr(s, name, nlen, val, (size_t)(p - val));
		if (p < e)
			p++;
	}
	return p < e ? p + 1 : e;
}

static void junit_suite_done(struct jscan *js, const struct jsuite *s)
{
	long run, failed;

	if (s->tests >= 0) {
		run = clamp(s->tests - clamp(s->skipped) - clamp(s->disabled));
		failed = clamp(s->failures) + clamp(s->errors);
		failed = failed > run ? run : failed;
		tally_add(&js->total, run - failed, failed,
			  clamp(s->skipped) + clamp(s->disabled));
	} else if (s->cases) {
		tally_add(&js->total, s->cases - s->case_failed - s->case_skipped,
			  s->case_failed, s->case_skipped);
	}
}

static void junit_case_done(struct jscan *js)
{
	if (!js->in_case)
		return;
	js->suite.cases++;
	if (js->case_state == 1)
		js->suite.case_failed++;
	else if (js->case_state == 2)
		js->suite.case_skipped++;
	js->in_case = 0;
}

static void junit_tag(struct jscan *js, const char *name, size_t n, int closing,
		      int selfclose)
{
	if (name_is(name, n, "testsuite")) {
		if (closing && js->depth > 0 && --js->depth == 0)
			junit_suite_done(js, &js->suite);
		else if (!closing && js->depth == 0 && selfclose)
			junit_suite_done(js, &js->suite);
		else if (!closing)
			js->depth++;
	} else if (name_is(name, n, "testcase") && js->depth > 0) {
		junit_case_done(js);
		js->in_case = !closing;
		js->case_state = 0;
		if (selfclose)
			junit_case_done(js);
	} else if (js->in_case && !closing) {
		if (name_is(name, n, "failure") || name_is(name, n, "error"))
			js->case_state = 1;
		else if (name_is(name, n, "skipped") && !js->case_state)
			js->case_state = 2;
	}
}

int testcount_parse_junit(const char *xml, size_t len, struct testcount *tc)
{
	static const struct jsuite none = {-1, -1, -1, -1, -1, 0, 0, 0};
	const char *p = xml, *e, *name, *skip;
	struct jscan js;
	struct jsuite *attrs;
	int closing, selfclose;
	size_t n;

	memset(&js, 0, sizeof(js));
	js.wrapper = none;
	*tc = (struct testcount)TESTCOUNT_INIT;
	if (!len)
		return 0;
	e = xml + len;
	while (p < e && (p = memchr(p, '<', (size_t)(e - p)))) {
		if ((skip = xml_special(p, e))) {
			p = skip;
			continue;
		}
		closing = p + 1 < e && p[1] == '/';
		for (name = p += 1 + closing;
		     p < e && *p != '>' && *p != '/' && !xml_ws(*p); p++)
			;
		n = (size_t)(p - name);
		/* Only an outermost suite's and the wrapper's attributes count:
		 * a nested suite's tests are already in its parent's. */
		attrs = NULL;
		if (!closing && !js.depth && name_is(name, n, "testsuite")) {
			js.suite = none;
			attrs = &js.suite;
		} else if (!closing && name_is(name, n, "testsuites")) {
			js.wrapped = 1;
			attrs = &js.wrapper;
		}
		p = junit_attrs(p, e, attrs, &selfclose);
		junit_tag(&js, name, n, closing, selfclose);
	}
	if (js.depth > 0) /* cut off: the start tag said enough */
		junit_suite_done(&js, &js.suite);
	if (!js.total.seen && js.wrapped)
		junit_suite_done(&js, &js.wrapper);
	if (!js.total.seen)
		return 0;
	testcount_take(tc, &js.total, "junit");
	return 1;
}
