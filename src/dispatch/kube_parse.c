/*
 * kube_parse: see kube_parse.h.
 */
#include "dispatch/kube_parse.h"

#include <stdio.h>
#include <string.h>

json_t *kube_condition_true(json_t *obj, const char *type)
{
	json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions");
	json_t *c;
	size_t i;

	json_array_foreach(conds, i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *s = json_string_value(json_object_get(c, "status"));
		if (t && s && !strcmp(t, type) && !strcmp(s, "True"))
			return c;
	}
	return NULL;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static void set(struct executor_status *st, enum worker_state s, const char *native,
		json_t *cond)
{
	const char *reason = str(cond, "reason"), *msg = str(cond, "message");

	st->state = s;
	snprintf(st->native, sizeof(st->native), "%s", native);
	if (*reason && *msg)
		snprintf(st->reason, sizeof(st->reason), "%s: %s", reason, msg);
	else
		snprintf(st->reason, sizeof(st->reason), "%s", *reason ? reason : msg);
}

/* The Job's own verdict, when it has one. */
static int job_final(json_t *job, struct executor_status *st)
{
	json_t *c;

	if ((c = kube_condition_true(job, "Complete"))) {
		set(st, WS_SUCCEEDED, "Complete", c);
		st->exit_code = 0;
		return 1;
	}
	if ((c = kube_condition_true(job, "Failed"))) {
		set(st, WS_FAILED, "Failed", c);
		return 1;
	}
	return 0;
}

static void workload_state(json_t *wl, struct executor_status *st)
{
	json_t *c;

	if ((c = kube_condition_true(wl, "Finished"))) {
		set(st, strcmp(str(c, "reason"), "Succeeded") ? WS_FAILED : WS_SUCCEEDED,
		    "Finished", c);
		if (st->state == WS_SUCCEEDED)
			st->exit_code = 0;
	} else if ((c = kube_condition_true(wl, "Admitted"))) {
		set(st, WS_RUNNING, "Admitted", c);
	} else if ((c = kube_condition_true(wl, "Evicted"))) {
		/* Preempted: Kueue suspended the Job and requeues it; any
		 * other eviction (PodsReadyTimeout, a stopped queue) waits */
		set(st, strcmp(str(c, "reason"), "Preempted") ? WS_QUEUED : WS_PREEMPTED,
		    "Evicted", c);
	} else if ((c = kube_condition_true(wl, "QuotaReserved"))) {
		set(st, WS_QUEUED, "QuotaReserved", c);
		snprintf(st->reason, sizeof(st->reason),
			 "quota reserved, waiting for "
			 "admission checks");
	} else {
		/* QuotaReserved False: Kueue's message says what is short */
		json_t *conds = json_object_get(json_object_get(wl, "status"),
						"conditions");
		json_t *q = NULL, *x;
		size_t i;
		json_array_foreach(conds, i,
				   x) if (!strcmp(str(x, "type"), "QuotaReserved")) q = x;
		set(st, WS_QUEUED, "Pending", q);
		if (!st->reason[0])
			snprintf(st->reason, sizeof(st->reason), "waiting for quota");
	}
}

void kube_job_state(json_t *job, json_t *workload, struct executor_status *st)
{
	json_t *spec = json_object_get(job, "spec");

	if (!json_is_object(job)) {
		st->state = WS_LOST;
		snprintf(st->reason, sizeof(st->reason), "the Job is gone");
		return;
	}
	if (job_final(job, st))
		return;
	if (json_is_object(workload)) {
		workload_state(workload, st);
		return;
	}
	if (json_is_true(json_object_get(spec, "suspend"))) {
		st->state = WS_QUEUED;
		snprintf(st->native, sizeof(st->native), "Suspended");
		snprintf(st->reason, sizeof(st->reason),
			 "suspended, no Kueue Workload yet (is Kueue running, and the "
			 "LocalQueue there?)");
		return;
	}
	st->state = WS_RUNNING;
	snprintf(st->native, sizeof(st->native), "Active");
}

int kube_pod_exit_code(json_t *pod)
{
	json_t *cs = json_object_get(json_object_get(pod, "status"), "containerStatuses");
	json_t *term = json_object_get(json_object_get(json_array_get(cs, 0), "state"),
				       "terminated");
	json_t *code = json_object_get(term, "exitCode");
	return json_is_integer(code) ? (int)json_integer_value(code) : -1;
}

const char *kube_resource_version(json_t *obj)
{
	return json_string_value(
		json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
}
