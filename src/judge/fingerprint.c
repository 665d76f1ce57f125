/*
 * fingerprint: normalisation and the stall fingerprint.  The failing test
 * ids it hashes come from failids.c; the line, escape and duration scanning
 * both share is textscan.c.
 *
 * Everything here works on whole lines of gate output after ANSI escapes and
 * carriage returns are dropped.  Normalise only what provably changes
 * between runs of unchanged code: a false placeholder hides the progress
 * the stall detector must not miss.
 */
#include "judge/fingerprint.h"
#include "base/crypto_api.h"
#include "judge/failids.h"
#include "judge/feedback.h"
#include "base/textscan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Bounds on what one gate output contributes (ids, locations). */
#define FP_LIST_MAX 1024

static int is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_path_char(char c)
{
	return is_word(c) || c == '.' || c == '/' || c == '-' || c == '+' || c == '@' ||
	       c == '~' || c == '%';
}

static long value_of(const char *p, size_t k)
{
	long v = 0;

	while (k--)
		v = v * 10 + (*p++ - '0');
	return v;
}

/* ---- normalisation: times and durations --------------------------------- */

/* [H]H:MM:SS with an optional .fff or ,fff fraction; 0 when absent. */
static size_t clock_len(const char *p, size_t n, size_t i, int need_secs)
{
	size_t h = count_digits(p, n, i), j = i + h, m, s = 0;

	if (h < 1 || h > 2 || j >= n || p[j] != ':')
		return 0;
	m = count_digits(p, n, j + 1);
	if (m != 2 || value_of(p + j + 1, 2) > 59 || value_of(p + i, h) > 23)
		return 0;
	j += 3;
	if (j + 2 < n && p[j] == ':')
		s = count_digits(p, n, j + 1);
	if (s == 2 && value_of(p + j + 1, 2) <= 60)
		j += 3;
	else if (s || need_secs)
		return 0;
	if (j + 1 < n && (p[j] == '.' || p[j] == ',') && is_digit(p[j + 1]))
		j += 1 + count_digits(p, n, j + 1);
	return j - i;
}

/* A time zone after an ISO time: Z, +HH:MM, -HHMM, +HH. */
static size_t zone_len(const char *p, size_t n, size_t j)
{
	size_t k;

	if (j < n && p[j] == 'Z')
		return 1;
	if (j >= n || (p[j] != '+' && p[j] != '-') || count_digits(p, n, j + 1) < 2)
		return 0;
	k = j + 3;
	if (k < n && p[k] == ':' && count_digits(p, n, k + 1) == 2)
		return 6;
	k = count_digits(p, n, j + 1);
	return k == 2 || k == 4 ? k + 1 : 0;
}

/* YYYY-MM-DD or YYYY/MM/DD, with an optional time ("T" or " ") and zone. */
static size_t date_len(const char *p, size_t n, size_t i)
{
	size_t j = i + 4, c;
	long mon, day;

	if (count_digits(p, n, i) != 4 || j + 5 >= n || (p[j] != '-' && p[j] != '/') ||
	    count_digits(p, n, j + 1) != 2 || p[j + 3] != p[j] ||
	    count_digits(p, n, j + 4) != 2)
		return 0;
	mon = value_of(p + j + 1, 2);
	day = value_of(p + j + 4, 2);
	if (mon < 1 || mon > 12 || day < 1 || day > 31)
		return 0;
	j += 6;
	if (j + 1 < n && (p[j] == 'T' || p[j] == ' ') &&
	    (c = clock_len(p, n, j + 1, 0)) != 0) {
		j += 1 + c;
		j += zone_len(p, n, j);
	}
	if (j < n && is_word(p[j]))
		return 0;
	return j - i;
}

/* ---- normalisation: keywords -------------------------------------------- */

/* A number after a keyword: decimal (with a fraction when frac), or 0x hex,
 * optionally negative, not glued to a following word. */
static size_t number_len(const char *p, size_t n, size_t j, int frac)
{
	size_t s = j;

	if (j < n && p[j] == '-')
		j++;
	if (j + 2 < n && p[j] == '0' && (p[j + 1] == 'x' || p[j + 1] == 'X') &&
	    is_hex(p[j + 2])) {
		for (j += 2; j < n && is_hex(p[j]); j++)
			;
	} else {
		size_t k = count_digits(p, n, j);
		if (!k)
			return 0;
		j += k;
		if (frac && j + 1 < n && p[j] == '.' && is_digit(p[j + 1]))
			j += 1 + count_digits(p, n, j + 1);
	}
	return j < n && is_word(p[j]) ? 0 : j - s;
}

/*
 * "kw<sep>number" at p[i] with kw a whole word (case-insensitive) and sep
 * up to three of " =:(".  Returns the whole length, with the separator's
 * in *sn.
 */
static size_t keyword_number(const char *p, size_t n, size_t i, const char *kw, int frac,
			     size_t *sn)
{
	size_t k = strlen(kw), j = i + k, s, num;

	if ((i && is_alnum(p[i - 1])) || !has_prefix_ci(p + i, n - i, kw) ||
	    (j < n && is_word(p[j])))
		return 0;
	for (s = 0; s < 3 && j + s < n && p[j + s] && strchr(" =:(", p[j + s]); s++)
		;
	if (!s || !(num = number_len(p, n, j + s, frac)))
		return 0;
	*sn = s;
	return k + s + num;
}

/* seed=12345, Random seed: 123, --seed 123, -seed=123, @seed(123),
 * -test.shuffle 1700000000: all become "<kw>=<SEED>". */
static size_t match_seed(const char *p, size_t n, size_t i, struct buf *dst)
{
	static const char *const kws[] = {"seed", "shuffle"};
	size_t u, sn, m;

	for (u = 0; u < 2; u++) {
		m = keyword_number(p, n, i, kws[u], 0, &sn);
		if (!m)
			continue;
		if (memchr(p + i + strlen(kws[u]), '(', sn) && i + m < n &&
		    p[i + m] == ')')
			m++;
		buf_add(dst, p + i, strlen(kws[u]));
		buf_adds(dst, "=<SEED>");
		return m;
	}
	return 0;
}

/* "pid 1234", "pid=1234" and node's "duration_ms: 1.23": the keyword and
 * separator stay, the number becomes the placeholder. */
static size_t match_keyed(const char *p, size_t n, size_t i, struct buf *dst)
{
	static const struct {
		const char *kw, *ph;
		int frac;
	} keys[] = {
		{"pid", "<PID>", 0},
		{"duration_ms", "<DUR>", 1},
		{"duration", "<DUR>", 1},
	};
	size_t u, sn, m, k;

	for (u = 0; u < sizeof(keys) / sizeof(keys[0]); u++) {
		m = keyword_number(p, n, i, keys[u].kw, keys[u].frac, &sn);
		if (!m)
			continue;
		k = strlen(keys[u].kw);
		buf_add(dst, p + i, k + sn);
		buf_adds(dst, keys[u].ph);
		return m;
	}
	return 0;
}

/*
 * PIDs in brackets and fences: AddressSanitizer's "==1234==", syslog's
 * "prog[1234]:", uvicorn's "process [1234]" and rust's "thread 'x' (1234)
 * panicked".  A bare "[1234]" is left alone: it is as likely a value.
 */
static size_t match_pid_mark(const char *p, size_t n, size_t i, struct buf *dst)
{
	size_t k, e;

	if (p[i] == '=') {
		if (i + 1 >= n || p[i + 1] != '=' || (i && p[i - 1] == '='))
			return 0;
		k = count_digits(p, n, i + 2);
		if (!k || i + 3 + k >= n || memcmp(p + i + 2 + k, "==", 2))
			return 0;
		buf_adds(dst, "==<PID>==");
		return k + 4;
	}
	k = count_digits(p, n, i + 1);
	e = i + 1 + k;
	if (!k || e >= n)
		return 0;
	if (p[i] == '[' && p[e] == ']' && k >= 3 &&
	    ((i && is_word(p[i - 1]) && e + 1 < n && p[e + 1] == ':') ||
	     (i >= 8 && !strncasecmp(p + i - 8, "process ", 8)))) {
		buf_adds(dst, "[<PID>]");
		return k + 2;
	}
	if (p[i] == '(' && has_prefix(p + e, n - e, ") panicked")) {
		buf_adds(dst, "(<PID>)");
		return k + 2;
	}
	return 0;
}

/* ---- normalisation: paths ----------------------------------------------- */

static const char *const tmp_roots[] = {
	"/tmp/",	 "/var/tmp/", "/private/tmp/", "/private/var/folders/",
	"/var/folders/", "/dev/shm/",
};

/* Python's tempfile names: tmp + 6 or more of [a-z0-9_], maybe ".ext". */
static int is_tmp_name(const char *p, size_t n)
{
	const char *dot = memchr(p, '.', n);
	size_t i, stem = dot ? (size_t)(dot - p) : n;

	if (stem < 9 || memcmp(p, "tmp", 3))
		return 0;
	for (i = 3; i < stem; i++)
		if (!(is_digit(p[i]) || (p[i] >= 'a' && p[i] <= 'z') || p[i] == '_'))
			return 0;
	return 1;
}

/* A file name worth keeping under <TMP>: "test_x.py", "out.txt"; not
 * "tmp.2HiMiHjoo5" or "missing". */
static int keeps_name(const char *p, size_t n)
{
	const char *dot = memrchr(p, '.', n);
	size_t i, ext, letters = 0;

	if (!dot || dot == p || is_tmp_name(p, n))
		return 0;
	ext = n - (size_t)(dot - p) - 1;
	if (ext < 1 || ext > 5)
		return 0;
	for (i = (size_t)(dot - p) + 1; i < n; i++) {
		if (p[i] >= 'a' && p[i] <= 'z')
			letters++;
		else if (!is_digit(p[i]))
			return 0;
	}
	return letters > 0;
}

/* Appends p with each tmp-named component replaced; 1 when it replaced. */
static int add_components(const char *p, size_t n, struct buf *dst)
{
	size_t i = 0, e;
	int changed = 0;

	while (i < n) {
		const char *sl = memchr(p + i, '/', n - i);
		e = sl ? (size_t)(sl - p) : n;
		if (is_tmp_name(p + i, e - i)) {
			const char *dot = memchr(p + i, '.', e - i);
			buf_adds(dst, "<TMP>");
			if (dot)
				buf_add(dst, dot, (size_t)(p + e - dot));
			changed = 1;
		} else {
			buf_add(dst, p + i, e - i);
		}
		if (e < n)
			buf_addch(dst, '/');
		i = e + 1;
	}
	return changed;
}

/* The length of ".../.loopgate/runs/<id>/tree/" at the start of p, 0 if
 * p does not name the run's tree. */
static size_t run_prefix_len(const char *p, size_t n)
{
	static const char mark[] = ".loopgate/runs/";
	const char *m = memmem(p, n, mark, sizeof(mark) - 1);
	size_t j, id;

	if (!m || (m > p && m[-1] != '/'))
		return 0;
	j = (size_t)(m - p) + sizeof(mark) - 1;
	for (id = j; j < n && (is_alnum(p[j]) || p[j] == '-' || p[j] == '_'); j++)
		;
	if (j == id || !has_prefix(p + j, n - j, "/tree") ||
	    (j + 5 < n && p[j + 5] != '/'))
		return 0;
	return j + 5 < n ? j + 6 : n;
}

/* One path token: 1 and the normalised form in dst when anything in it is
 * volatile, 0 (dst untouched) otherwise. */
static int normalise_path(const char *p, size_t n, struct buf *dst)
{
	size_t k = run_prefix_len(p, n), u;

	if (k) {
		if (k == n)
			buf_addch(dst, '.');
		else
			add_components(p + k, n - k, dst);
		return 1;
	}
	for (u = 0; u < sizeof(tmp_roots) / sizeof(tmp_roots[0]); u++) {
		const char *base;
		if (!has_prefix(p, n, tmp_roots[u]))
			continue;
		base = memrchr(p, '/', n) + 1;
		buf_adds(dst, "<TMP>");
		if (keeps_name(base, (size_t)(p + n - base))) {
			buf_addch(dst, '/');
			buf_add(dst, base, (size_t)(p + n - base));
		}
		return 1;
	}
	k = dst->len;
	if (add_components(p, n, dst))
		return 1;
	buf_setlen(dst, k);
	return 0;
}

/* The path token starting at p[i]; trailing dots are sentence, not path. */
static size_t path_token(const char *p, size_t n, size_t i)
{
	size_t j = i;

	while (j < n && is_path_char(p[j]))
		j++;
	while (j > i && p[j - 1] == '.')
		j--;
	return j - i;
}

/* ---- normalisation: the scanner ----------------------------------------- */

static size_t match_number(const char *p, size_t n, size_t i, struct buf *dst)
{
	size_t k;

	if (i && (is_word(p[i - 1]) || p[i - 1] == '.'))
		return 0;
	k = date_len(p, n, i);
	if (!k && (i == 0 || p[i - 1] != ':'))
		k = clock_len(p, n, i, 1);
	if (k) {
		if (i + k < n && p[i + k] == ':' && i + k + 1 < n &&
		    is_digit(p[i + k + 1]))
			return 0;
		buf_adds(dst, "<TIME>");
		return k;
	}
	if (p[i] == '0' && i + 1 < n && (p[i + 1] == 'x' || p[i + 1] == 'X')) {
		for (k = i + 2; k < n && is_hex(p[k]); k++)
			;
		if (k - i - 2 < 8 || (k < n && is_word(p[k])))
			return 0;
		buf_adds(dst, "0xADDR");
		return k - i;
	}
	if ((k = textscan_duration_len(p, n, i)) != 0) {
		buf_adds(dst, "<DUR>");
		return k;
	}
	return 0;
}

static size_t match_at(const char *p, size_t n, size_t i, struct buf *dst)
{
	size_t k;

	if (is_path_char(p[i]) && (i == 0 || !is_path_char(p[i - 1])) &&
	    (k = path_token(p, n, i)) != 0 && memchr(p + i, '/', k) &&
	    normalise_path(p + i, k, dst))
		return k;
	if (is_digit(p[i]))
		return match_number(p, n, i, dst);
	if (is_letter(p[i])) {
		if ((k = match_seed(p, n, i, dst)) != 0)
			return k;
		return match_keyed(p, n, i, dst);
	}
	if (p[i] == '=' || p[i] == '[' || p[i] == '(')
		return match_pid_mark(p, n, i, dst);
	return 0;
}

/* fingerprint_normalise on a line without escapes or carriage returns. */
static void normalise_clean(const char *line, size_t len, struct buf *dst)
{
	size_t i = 0, start = 0, k, mark;

	while (i < len) {
		char c = line[i];
		/* Plain text is copied in runs; only bytes that can start a
		 * match are tried. */
		if (is_path_char(c) || c == '=' || c == '[' || c == '(') {
			buf_add(dst, line + start, i - start);
			start = i;
			mark = dst->len;
			k = match_at(line, len, i, dst);
			if (k) {
				i += k;
				start = i;
				continue;
			}
			buf_setlen(dst, mark);
		}
		i++;
	}
	buf_add(dst, line + start, len - start);
}

void fingerprint_normalise(const char *line, size_t len, struct buf *dst)
{
	struct buf clean = BUF_INIT;

	/* Escapes go first: "\e[31m0.5s" must look like " 0.5s", not "m0.5s". */
	if (!memchr(line, '\x1b', len) && !memchr(line, '\r', len)) {
		normalise_clean(line, len, dst);
		return;
	}
	textscan_clean(line, len, &clean);
	normalise_clean(clean.s, clean.len, dst);
	buf_release(&clean);
}

/* ---- failing test ids (failids.c) -------------------------------------- */

size_t fingerprint_failed_tests(const char *out, size_t len, char ***ids, size_t max)
{
	return failids_extract(out, len, ids, max);
}

void fingerprint_free_list(char **v, size_t n)
{
	failids_free(v, n);
}

/* ---- the fingerprint ---------------------------------------------------- */

/* One hashed element: "test <id>" or "loc <path>:<line>", normalised. */
static char *element(const char *tag, const char *s, long line)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, tag);
	if (line && s[0] == '.' && s[1] == '/')
		s += 2; /* "./src/a.rs:3" is "src/a.rs:3" */
	fingerprint_normalise(s, strlen(s), &b);
	if (line)
		buf_addf(&b, ":%ld", line);
	return buf_detach(&b, NULL);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted, deduplicated element set of a cleaned output. */
static char **collect(const char *s, size_t len, size_t *ret_n)
{
	char **ids, **el;
	struct location *locs;
	size_t nid = fingerprint_failed_tests(s, len, &ids, FP_LIST_MAX);
	size_t nloc = feedback_locations(s, len, &locs, FP_LIST_MAX);
	size_t n = 0, i, u = 0;

	el = xcalloc(nid + nloc + 1, sizeof(*el));
	for (i = 0; i < nid; i++)
		el[n++] = element("test ", ids[i], 0);
	for (i = 0; i < nloc; i++)
		el[n++] = element("loc ", locs[i].path, locs[i].line);
	fingerprint_free_list(ids, nid);
	feedback_locations_free(locs, nloc);
	qsort(el, n, sizeof(*el), cmp_str);
	for (i = 0; i < n; i++) {
		if (u && !strcmp(el[u - 1], el[i]))
			free(el[i]);
		else
			el[u++] = el[i];
	}
	*ret_n = u;
	return el;
}

/* Fields are framed as "<len>:<bytes>," so no two inputs hash alike. */
static int hash_field(EVP_MD_CTX *c, const char *s, size_t n)
{
	char len[32];
	int k = snprintf(len, sizeof(len), "%zu:", n);

	return CR.EVP_DigestUpdate(c, len, (size_t)k) && CR.EVP_DigestUpdate(c, s, n) &&
	       CR.EVP_DigestUpdate(c, ",", 1);
}

static int hash_output(EVP_MD_CTX *c, const char *s, size_t len)
{
	struct buf b = BUF_INIT;
	struct textscan_line *v;
	size_t nv, i;
	int ok = 1;

	v = textscan_lines(s, len, &nv);
	for (i = 0; i < nv && ok; i++) {
		buf_reset(&b);
		normalise_clean(v[i].s, v[i].n, &b);
		buf_rtrim(&b);
		if (b.len)
			ok = hash_field(c, b.s, b.len);
	}
	free(v);
	buf_release(&b);
	return ok;
}

int fingerprint_gate(int gate_index, const char *status_desc, const char *out, size_t len,
		     char hex[65])
{
	static const char version[] = "loopgate-fingerprint-1";
	struct buf clean = BUF_INIT;
	EVP_MD_CTX *c = crypto_api_load(NULL) == 0 ? CR.EVP_MD_CTX_new() : NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdn = 0, i;
	char gate[24], **el;
	size_t n, u;
	int ok;

	if (!status_desc)
		status_desc = "";
	textscan_clean(out, len, &clean);
	el = collect(clean.s, clean.len, &n);
	snprintf(gate, sizeof(gate), "%d", gate_index);
	ok = c && CR.EVP_DigestInit_ex(c, CR.EVP_sha256(), NULL) &&
	     hash_field(c, version, sizeof(version) - 1) &&
	     hash_field(c, gate, strlen(gate)) &&
	     hash_field(c, status_desc, strlen(status_desc));
	if (n) {
		ok = ok && hash_field(c, "set", 3);
		for (u = 0; u < n && ok; u++)
			ok = hash_field(c, el[u], strlen(el[u]));
	} else {
		ok = ok && hash_field(c, "output", 6) &&
		     hash_output(c, clean.s, clean.len);
	}
	ok = ok && CR.EVP_DigestFinal_ex(c, md, &mdn) && mdn == 32;
	if (c)
		CR.EVP_MD_CTX_free(c);
	fingerprint_free_list(el, n);
	buf_release(&clean);
	if (!ok)
		return -EIO;
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return (int)n;
}
