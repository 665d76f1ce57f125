/*
 * config_workers.c: the fan-out's settings (workers:, tasks:, executor:):
 * their lists, a worker's config made from the run's, and their checks.
 * See config.h and docs/design/fanout.md.
 */
#include "config/config.h"
#include "config/config_impl.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void config_worker_specs_clear(struct config *c)
{
	for (size_t i = 0; i < c->nworker_specs; i++)
		config_release(&c->worker_specs[i]);
	free(c->worker_specs);
	c->worker_specs = NULL;
	c->nworker_specs = 0;
	for (size_t i = 0; i < c->ntask_specs; i++)
		config_release(&c->task_specs[i]);
	free(c->task_specs);
	c->task_specs = NULL;
	c->ntask_specs = 0;
	free(c->worker_name);
	free(c->instructions);
	c->worker_name = c->instructions = NULL;
}

struct config *config_task_spec_add(struct config *c)
{
	struct config *s;
	c->task_specs = xrealloc(c->task_specs,
				 (c->ntask_specs + 1) * sizeof(*c->task_specs));
	s = &c->task_specs[c->ntask_specs++];
	config_init(s);
	return s;
}

struct config *config_worker_spec_add(struct config *c)
{
	struct config *s;
	c->worker_specs = xrealloc(c->worker_specs,
				   (c->nworker_specs + 1) * sizeof(*c->worker_specs));
	s = &c->worker_specs[c->nworker_specs++];
	config_init(s);
	return s;
}

void config_worker_config(struct config *d, const struct config *spec)
{
	char *goal;
	if (!spec)
		goto one;
	/* the actor is one setting: a worker that names one replaces it */
	if (spec->model || spec->agent_cmd || spec->agent) {
		free(d->model);
		free(d->agent_cmd);
		d->model = d->agent_cmd = NULL;
	}
	if (spec->agent_cmd || spec->agent) {
		free(d->agent);
		free(d->agent_bin);
		d->agent = d->agent_bin = NULL;
	}
	config_keys_overlay(config_worker_keys, d, spec);
	if (spec->goal) { /* a task's own goal and gates */
		free(d->goal);
		free(d->goal_file);
		d->goal = xstrdup(spec->goal);
		d->goal_file = NULL;
	}
	if (spec->gates.n) {
		config_gate_opts_clear(d);
		strlist_clear(&d->gates);
		config_overlay_gates(d, spec);
	}
	if (spec->instructions && d->goal) {
		goal = xasprintf("%s\n\n%s", d->goal, spec->instructions);
		free(d->goal);
		d->goal = goal;
	}
one: /* a worker is one loop */
	config_worker_specs_clear(d);
	d->workers = 1;
}

int config_finalize_workers(struct config *c, struct buf *err)
{
	if (c->tools && strcmp(c->tools, "on") && strcmp(c->tools, "off") &&
	    strcmp(c->tools, "auto"))
		return err_set(
			err, -EINVAL,
			"tools: '%s' is not one of on (the model calls tools), off "
			"(edit blocks only) or auto (on unless the server refuses)",
			c->tools);
	if (c->executor && strcmp(c->executor, "local") && strcmp(c->executor, "slurm") &&
	    strcmp(c->executor, "kueue"))
		return err_set(err, -EINVAL,
			       "executor: '%s' is not one: local (processes on this "
			       "machine), slurm (batch jobs) or kueue (Kubernetes Jobs "
			       "queued by Kueue)",
			       c->executor);
	if (c->executor && !strcmp(c->executor, "kueue") &&
	    (!c->kube_queue || !c->kube_image))
		return err_set(err, -EINVAL,
			       "executor: kueue needs the LocalQueue (kube_queue:, "
			       "--kube-queue) and the loopgate image (kube_image:, "
			       "--kube-image); `loopgate kueue manifests` prints what a "
			       "tenant needs");
	if (c->select && strcmp(c->select, "first") && strcmp(c->select, "best"))
		return err_set(err, -EINVAL,
			       "select: '%s' is not a selection policy: first (the "
			       "first verified candidate wins) or best (wait for all, "
			       "the smallest verified diff wins)",
			       c->select);
	if (c->workers >= 0 && (size_t)c->workers < c->nworker_specs)
		return err_set(err, -EINVAL,
			       "--workers %ld is fewer than the %zu workers the workers: "
			       "list describes",
			       c->workers, c->nworker_specs);
	if (c->workers < 0 && c->nworker_specs)
		c->workers = (long)c->nworker_specs;
	if (c->ntask_specs && (c->nworker_specs || c->workers > 1))
		return err_set(err, -EINVAL,
			       "tasks: runs one worker per task; it cannot be combined "
			       "with workers: or --workers");
	for (size_t i = 0; i < c->ntask_specs; i++)
		if (!c->task_specs[i].goal || !c->task_specs[i].gates.n)
			return err_set(
				err, -EINVAL,
				"tasks[%zu]: a task needs its own goal: and gates:", i);
	if (c->nworker_specs > CONFIG_MAX_WORKERS)
		return err_set(err, -EINVAL, "workers: lists more than %d workers",
			       CONFIG_MAX_WORKERS);
	return 0;
}

int config_check_workers(const struct config *c, struct buf *err)
{
	int tasks = c->ntask_specs > 0;
	size_t n = tasks ? c->ntask_specs : c->nworker_specs;
	const struct config *specs = tasks ? c->task_specs : c->worker_specs;

	for (size_t i = 0; i < n; i++) {
		struct config wc;
		void *j = NULL;
		int ret;

		config_init(&wc);
		config_to_json(c, &j);
		ret = config_from_json(&wc, j, err);
		json_decref(j);
		if (ret == 0) {
			config_worker_config(&wc, &specs[i]);
			ret = config_finalize(&wc, err);
		}
		config_release(&wc);
		if (ret < 0) {
			struct buf msg = BUF_INIT;
			buf_addf(&msg, "%s[%zu]%s%s%s: %s", tasks ? "tasks" : "workers",
				 i, specs[i].worker_name ? " (" : "",
				 specs[i].worker_name ? specs[i].worker_name : "",
				 specs[i].worker_name ? ")" : "", err->s);
			buf_sets(err, msg.s);
			buf_release(&msg);
			return ret;
		}
	}
	return 0;
}

/* A workers: list that names an actor for every worker. */
int config_every_worker_acts(const struct config *c)
{
	if (c->ntask_specs) {
		for (size_t i = 0; i < c->ntask_specs; i++)
			if (!c->task_specs[i].model && !c->task_specs[i].agent_cmd &&
			    !c->task_specs[i].agent)
				return 0;
		return 1;
	}
	if (!c->nworker_specs ||
	    (c->workers > 0 && (size_t)c->workers > c->nworker_specs))
		return 0;
	for (size_t i = 0; i < c->nworker_specs; i++) {
		const struct config *s = &c->worker_specs[i];
		if (!s->model && !s->agent_cmd && !s->agent)
			return 0;
	}
	return 1;
}
