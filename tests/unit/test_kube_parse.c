/*
 * test_kube_parse: a Job and its Kueue Workload (the API server's JSON)
 * into executor states, as a table; the names and labels loopgate makes;
 * the Job manifest's fixed parts.
 */
#include "dispatch/kube_manifest.h"
#include "dispatch/kube_parse.h"
#include "unit.h"

#define SUSPENDED "{\"metadata\":{\"name\":\"j\"},\"spec\":{\"suspend\":true}}"
#define ACTIVE	  "{\"spec\":{\"suspend\":false},\"status\":{\"active\":1}}"
#define COND(t, s, r, m)                                                                 \
	"{\"type\":\"" t "\",\"status\":\"" s "\",\"reason\":\"" r "\",\"message\":\"" m \
	"\",\"lastTransitionTime\":\"2026-12-05T00:00:00Z\"}"
#define WL(c) "{\"status\":{\"conditions\":[" c "]}}"

TEST(states)
{
	static const struct {
		const char *job, *wl; /* wl NULL: no Workload (yet) */
		enum worker_state state;
		const char *native, *reason;
		int exit_code;
	} t[] = {
		{SUSPENDED, NULL, WS_QUEUED, "Suspended",
		 "suspended, no Kueue Workload yet", -1},
		{SUSPENDED,
		 WL(COND("QuotaReserved", "False", "Pending",
			 "couldn't assign flavors to pod set main: insufficient unused "
			 "quota")),
		 WS_QUEUED, "Pending", "Pending: couldn't assign flavors", -1},
		{SUSPENDED, WL(""), WS_QUEUED, "Pending", "waiting for quota", -1},
		{SUSPENDED,
		 WL(COND("QuotaReserved", "False", "Inadmissible",
			 "LocalQueue x doesn't exist")),
		 WS_QUEUED, "Pending", "Inadmissible: LocalQueue x", -1},
		{SUSPENDED, WL(COND("QuotaReserved", "True", "QuotaReserved", "")),
		 WS_QUEUED, "QuotaReserved",
		 "quota reserved, waiting for admission checks", -1},
		{ACTIVE,
		 WL(COND("QuotaReserved", "True", "QuotaReserved", "") "," COND(
			 "Admitted", "True", "Admitted", "The workload is admitted")),
		 WS_RUNNING, "Admitted", "Admitted: The workload is admitted", -1},
		{SUSPENDED,
		 WL(COND("Evicted", "True", "Preempted",
			 "Preempted to accommodate") "," COND("Preempted", "True",
							      "InClusterQueue",
							      "x") "," COND("QuotaReserve"
									    "d",
									    "False",
									    "Preempted",
									    "x")),
		 WS_PREEMPTED, "Evicted", "Preempted: Preempted to accommodate", -1},
		/* readmitted after a preemption: Admitted wins over an old Evicted */
		{ACTIVE,
		 WL(COND("Evicted", "False", "QuotaReserved",
			 "Previously: x") "," COND("Admitted", "True", "Admitted", "")),
		 WS_RUNNING, "Admitted", "Admitted", -1},
		{SUSPENDED, WL(COND("Evicted", "True", "PodsReadyTimeout", "not ready")),
		 WS_QUEUED, "Evicted", "PodsReadyTimeout: not ready", -1},
		{ACTIVE,
		 WL(COND("Finished", "True", "Succeeded", "Job finished successfully")),
		 WS_SUCCEEDED, "Finished", "Succeeded", 0},
		{ACTIVE, WL(COND("Finished", "True", "Failed", "backoff")), WS_FAILED,
		 "Finished", "Failed: backoff", -1},
		/* the Job's own condition is the most final */
		{"{\"status\":{\"conditions\":[" COND("Complete", "True", "", "") "]}}",
		 WL(COND("Admitted", "True", "Admitted", "")), WS_SUCCEEDED, "Complete",
		 "", 0},
		{"{\"status\":{\"conditions\":[" COND("Failed", "True",
						      "DeadlineExceeded",
						      "Job was active longer") "]}}",
		 NULL, WS_FAILED, "Failed", "DeadlineExceeded: Job was active", -1},
		{"{\"status\":{\"conditions\":[" COND("Complete", "False", "", "") "]}}",
		 NULL, WS_RUNNING, "Active", "", -1},
		{NULL, NULL, WS_LOST, "", "the Job is gone", -1},
	};
	size_t i;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct executor_status st = EXECUTOR_STATUS_INIT;
		json_t *job = t[i].job ? json_loads(t[i].job, 0, NULL) : NULL;
		json_t *wl = t[i].wl ? json_loads(t[i].wl, 0, NULL) : NULL;
		CHECK(!t[i].job || job);
		CHECK(!t[i].wl || wl);
		kube_job_state(job, wl, &st);
		CHECK_STR(worker_state_name(st.state), worker_state_name(t[i].state));
		CHECK_STR(st.native, t[i].native);
		CHECK(!strncmp(st.reason, t[i].reason, strlen(t[i].reason)));
		CHECK_INT(st.exit_code, t[i].exit_code);
		json_decref(job);
		json_decref(wl);
	}
}

TEST(pod_exit)
{
	static const struct {
		const char *pod;
		int code;
	} t[] = {
		{"{\"status\":{\"containerStatuses\":[{\"state\":{\"terminated\":{"
		 "\"exitCode\":3}}}]}}",
		 3},
		{"{\"status\":{\"containerStatuses\":[{\"state\":{\"running\":{}}}]}}",
		 -1},
		{"{\"status\":{}}", -1},
		{"{}", -1},
	};
	size_t i;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		json_t *p = json_loads(t[i].pod, 0, NULL);
		CHECK_INT(kube_pod_exit_code(p), t[i].code);
		json_decref(p);
	}
}

TEST(names)
{
	static const struct {
		const char *run, *worker, *name;
	} t[] = {
		{"0a1b2c3d4e5f60718293", "a", "lg-0a1b2c3d4e5f60718293-a"},
		/* two runs of the same minute: their names differ */
		{"20261205-142506-acf2bf", "w1", "lg-20261205-142506-acf2bf-w1"},
		{"20261205-142506-0d4e11", "w1", "lg-20261205-142506-0d4e11-w1"},
		{"x123456789012345678901234567890123456789012345678901234567890", "w1",
		 "lg-1234567890123456789012345678901234567890-w1"},
		{"ABC", "Worker_1", "lg-abc-worker-1"},
		{"r", "w-", "lg-r-w"},
		{"0123456789abcdef",
		 "a-very-long-worker-name-that-goes-on-and-on-past-sixty-three-"
		 "characters",
		 "lg-0123456789abcdef-a-very-long-worker-name-that-goes-on-and-on"},
	};
	static const struct {
		const char *in, *out;
	} lv[] = {
		{"team-a", "team-a"},
		{"-x-", "x"},
		{"a b/c", "a-b-c"},
		{"...", ""},
	};
	char out[64];
	size_t i;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct executor_job j = EXECUTOR_JOB_INIT;
		j.run_id = t[i].run;
		j.worker_id = t[i].worker;
		executor_job_name(&j, out);
		CHECK_STR(out, t[i].name);
		CHECK(strlen(out) <= 63);
	}
	for (i = 0; i < sizeof(lv) / sizeof(lv[0]); i++) {
		kube_label_value(lv[i].in, out);
		CHECK_STR(out, lv[i].out);
	}
}

TEST(job_manifest)
{
	const char *argv[] = {"loopgate", "run", NULL};
	struct executor_job j = EXECUTOR_JOB_INIT;
	struct executor_opts o = EXECUTOR_OPTS_INIT;
	struct buf err = BUF_INIT;
	json_t *m, *c, *res;
	char *s;

	j.run_id = "r1";
	j.worker_id = "w";
	j.argv = argv;
	j.gpus = 2;
	j.secret_env = "OPENAI_API_KEY";
	CHECK(!kube_job_manifest(&j, &o, "ns", &err));
	CHECK_CONTAINS(err.s, "LocalQueue (--queue)");
	o.kube_queue = "q";
	o.kube_image = "img";
	CHECK(!kube_job_manifest(&j, &o, "ns", &err));
	CHECK_CONTAINS(err.s, "name it (--secret)");
	o.kube_secret = "s";
	m = kube_job_manifest(&j, &o, "ns", &err);
	CHECK(m);
	s = json_dumps(m, JSON_SORT_KEYS | JSON_COMPACT);
	CHECK_CONTAINS(s, "\"suspend\":true");
	CHECK_CONTAINS(s, "\"kueue.x-k8s.io/queue-name\":\"q\"");
	CHECK_CONTAINS(s, "\"secretKeyRef\":{\"key\":\"OPENAI_API_KEY\",\"name\":\"s\"}");
	c = json_array_get(
		json_object_get(
			json_object_get(
				json_object_get(json_object_get(m, "spec"), "template"),
				"spec"),
			"containers"),
		0);
	res = json_object_get(c, "resources");
	/* an extended resource: request and limit the same */
	CHECK_STR(json_string_value(json_object_get(json_object_get(res, "requests"),
						    "nvidia.com/gpu")),
		  "2");
	CHECK_STR(json_string_value(json_object_get(json_object_get(res, "limits"),
						    "nvidia.com/gpu")),
		  "2");
	/* the pods do not carry the queue label: only the Job does */
	CHECK(!strstr(strstr(s, "\"template\""), "queue-name"));
	free(s);
	json_decref(m);
	buf_release(&err);
}

int main(void)
{
	RUN(states);
	RUN(pod_exit);
	RUN(names);
	RUN(job_manifest);
	return unit_done();
}
