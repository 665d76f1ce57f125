/*
 * ledger.c: the fan-out's shared budget file.  See ledger.h.
 */
#include "engine/ledger.h"
#include "base/ckd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define LEDGER_MAGIC	 "lgledg1"
#define LEDGER_MAX_SLOTS 4096

/* On disk, native byte order: the file never leaves this machine. */
struct head {
	char magic[8];
	int64_t nslots;
	int64_t max_iterations, max_tokens;
	double max_cost;
};
struct slot {
	int64_t iterations, tokens, calls;
	double cost;
	int64_t res_iterations, res_tokens;
	double res_cost;
};

struct ledger {
	int fd;
	size_t slot;
	struct head h;
};

static int full_io(int fd, void *p, size_t n, off_t off, int write_it)
{
	ssize_t got = write_it ? pwrite(fd, p, n, off) : pread(fd, p, n, off);
	if (got < 0)
		return -errno;
	return (size_t)got == n ? 0 : -EIO;
}

static off_t slot_off(size_t i)
{
	return (off_t)(sizeof(struct head) + i * sizeof(struct slot));
}

int ledger_create(const char *path, size_t nslots, const struct ledger_ceil *ceil,
		  struct buf *err)
{
	struct head h;
	struct slot zero;
	int fd, ret = 0;

	if (!nslots || nslots > LEDGER_MAX_SLOTS)
		return err_set(err, -EINVAL, "a ledger holds 1 to %d workers",
			       LEDGER_MAX_SLOTS);
	memset(&h, 0, sizeof(h));
	memset(&zero, 0, sizeof(zero));
	memcpy(h.magic, LEDGER_MAGIC, sizeof(h.magic));
	h.nslots = (int64_t)nslots;
	h.max_iterations = ceil->max_iterations;
	h.max_tokens = ceil->max_tokens;
	h.max_cost = ceil->max_cost;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set(err, -errno, "cannot create the budget ledger %s: %s",
			       path, strerror(errno));
	ret = full_io(fd, &h, sizeof(h), 0, 1);
	for (size_t i = 0; ret == 0 && i < nslots; i++)
		ret = full_io(fd, &zero, sizeof(zero), slot_off(i), 1);
	if (ret == 0 && fsync(fd) < 0)
		ret = -errno;
	close(fd);
	if (ret < 0)
		return err_set(err, ret, "cannot write the budget ledger %s: %s", path,
			       strerror(-ret));
	return 0;
}

static int read_head(int fd, struct head *h)
{
	int ret = full_io(fd, h, sizeof(*h), 0, 0);
	if (ret == 0 && (memcmp(h->magic, LEDGER_MAGIC, sizeof(h->magic)) ||
			 h->nslots < 1 || h->nslots > LEDGER_MAX_SLOTS))
		ret = -EBADMSG;
	return ret;
}

struct ledger *ledger_open(const char *path, size_t slot, struct buf *err)
{
	struct ledger *l = xcalloc(1, sizeof(*l));
	int ret;

	l->slot = slot;
	l->fd = open(path, O_RDWR | O_CLOEXEC);
	if (l->fd < 0) {
		err_set(err, -errno, "cannot open the budget ledger %s: %s", path,
			strerror(errno));
		free(l);
		return NULL;
	}
	ret = read_head(l->fd, &l->h);
	if (ret == 0 && slot >= (size_t)l->h.nslots)
		ret = -ERANGE;
	if (ret < 0) {
		err_set(err, ret, "the budget ledger %s is not usable (slot %zu): %s",
			path, slot, strerror(-ret));
		ledger_close(l);
		return NULL;
	}
	return l;
}

void ledger_close(struct ledger *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	free(l);
}

static int lock(int fd)
{
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static void set_spent(struct slot *s, const struct ledger_use *u)
{
	s->iterations = u->iterations;
	s->tokens = u->tokens;
	s->cost = u->cost;
	s->calls = u->calls;
}

/* The other slots' spent plus reserved. */
static int others(const struct ledger *l, struct slot *sum)
{
	struct slot s;
	int ret;

	memset(sum, 0, sizeof(*sum));
	for (size_t i = 0; i < (size_t)l->h.nslots; i++) {
		if (i == l->slot)
			continue;
		if ((ret = full_io(l->fd, &s, sizeof(s), slot_off(i), 0)) < 0)
			return ret;
		sum->iterations = ckd_add(sum->iterations,
					  ckd_add(s.iterations, s.res_iterations));
		sum->tokens = ckd_add(sum->tokens, ckd_add(s.tokens, s.res_tokens));
		sum->cost += s.cost + s.res_cost;
	}
	return 0;
}

/* 0 when mine (spent + reserved) fits beside the others'. */
static int fits(const struct ledger *l, const struct slot *o, const struct slot *m,
		struct buf *why)
{
	const struct head *h = &l->h;
	long iters = ckd_add(ckd_add(o->iterations, m->iterations), m->res_iterations);
	long toks = ckd_add(ckd_add(o->tokens, m->tokens), m->res_tokens);
	double cost = o->cost + m->cost + m->res_cost;

	if (h->max_iterations > 0 && m->res_iterations > 0 && iters > h->max_iterations)
		return err_set(why, -ENOSPC,
			       "the run's --max-iterations %ld is used up across its "
			       "workers (%ld done or under way)",
			       (long)h->max_iterations,
			       (long)(o->iterations + m->iterations));
	if (h->max_tokens > 0 && toks > h->max_tokens)
		return err_set(why, -ENOSPC,
			       "the run's --max-tokens %ld would be passed across its "
			       "workers (%ld used or reserved, %ld more asked)",
			       (long)h->max_tokens, (long)(o->tokens + m->tokens),
			       (long)m->res_tokens);
	if (h->max_cost >= 0 && cost > h->max_cost + 1e-12)
		return err_set(why, -ENOSPC,
			       "the run's --max-cost $%.4f would be passed across its "
			       "workers ($%.4f spent or reserved, $%.4f more asked)",
			       h->max_cost, o->cost + m->cost, m->res_cost);
	return 0;
}

int ledger_reserve(struct ledger *l, const struct ledger_use *req, struct buf *why)
{
	struct slot o, m;
	int ret;

	if ((ret = lock(l->fd)) < 0)
		return err_set(why, ret, "cannot lock the budget ledger: %s",
			       strerror(-ret));
	if ((ret = full_io(l->fd, &m, sizeof(m), slot_off(l->slot), 0)) < 0 ||
	    (ret = others(l, &o)) < 0) {
		err_set(why, ret, "cannot read the budget ledger: %s", strerror(-ret));
		goto out;
	}
	set_spent(&m, req);
	if (req->res_iterations >= 0)
		m.res_iterations = req->res_iterations;
	if (req->res_tokens >= 0)
		m.res_tokens = req->res_tokens;
	if (req->res_cost >= 0)
		m.res_cost = req->res_cost;
	if ((ret = fits(l, &o, &m, why)) < 0) {
		/* refused: keep what was reserved before, record the spend */
		struct slot keep;
		if (full_io(l->fd, &keep, sizeof(keep), slot_off(l->slot), 0) == 0) {
			set_spent(&keep, req);
			full_io(l->fd, &keep, sizeof(keep), slot_off(l->slot), 1);
		}
		goto out;
	}
	if ((ret = full_io(l->fd, &m, sizeof(m), slot_off(l->slot), 1)) < 0)
		err_set(why, ret, "cannot write the budget ledger: %s", strerror(-ret));
out:
	flock(l->fd, LOCK_UN);
	return ret;
}

int ledger_settle(struct ledger *l, const struct ledger_use *spent)
{
	struct slot m;
	int ret;

	if ((ret = lock(l->fd)) < 0)
		return ret;
	ret = full_io(l->fd, &m, sizeof(m), slot_off(l->slot), 0);
	if (ret == 0) {
		long done = spent->iterations - m.iterations;
		m.res_iterations = done >= m.res_iterations ? 0 : m.res_iterations - done;
		if (m.res_iterations < 0)
			m.res_iterations = 0;
		set_spent(&m, spent);
		m.res_tokens = 0;
		m.res_cost = 0;
		ret = full_io(l->fd, &m, sizeof(m), slot_off(l->slot), 1);
	}
	flock(l->fd, LOCK_UN);
	return ret;
}

long ledger_read(const char *path, struct ledger_use *use, size_t n,
		 struct ledger_ceil *ceil, struct buf *err)
{
	struct head h;
	struct slot s;
	size_t i;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return err_set(err, -errno, "cannot open the budget ledger %s: %s", path,
			       strerror(errno));
	if ((ret = lock(fd)) == 0)
		ret = read_head(fd, &h);
	for (i = 0; ret == 0 && i < n && i < (size_t)h.nslots; i++) {
		if ((ret = full_io(fd, &s, sizeof(s), slot_off(i), 0)) < 0)
			break;
		use[i] = (struct ledger_use){.iterations = s.iterations,
					     .tokens = s.tokens,
					     .cost = s.cost,
					     .calls = s.calls,
					     .res_iterations = s.res_iterations,
					     .res_tokens = s.res_tokens,
					     .res_cost = s.res_cost};
	}
	if (ret == 0 && ceil)
		*ceil = (struct ledger_ceil){.max_iterations = h.max_iterations,
					     .max_tokens = h.max_tokens,
					     .max_cost = h.max_cost};
	close(fd);
	if (ret < 0)
		return err_set(err, ret, "cannot read the budget ledger %s: %s", path,
			       strerror(-ret));
	return (long)i;
}
