/*
 * kube_parse: a Job and its Kueue Workload (JSON, as the API server sends
 * them) into struct executor_status.  Pure; tables in
 * tests/unit/test_kube_parse.c.
 *
 *   kube_job_state(job, workload, &st);   workload may be NULL (not yet made)
 *   kube_pod_exit_code(pod)               the container's exit code, or -1
 *   kube_resource_version(obj)            metadata.resourceVersion or NULL
 *
 * The order, most final first: the Job's Complete or Failed condition; the
 * Workload's Finished; Admitted=True (running); Evicted=True (preempted
 * when its reason is Preempted, else queued with that reason); QuotaReserved
 * (queued: waiting for admission checks, or Kueue's message why not).  A Job
 * with no Workload yet is queued while suspended.  Kueue's words (API
 * kueue.x-k8s.io/v1beta1) are kept in st->native.
 */
#ifndef LOOPGATE_KUBE_PARSE_H
#define LOOPGATE_KUBE_PARSE_H

#include <jansson.h>

#include "dispatch/executor.h"

void kube_job_state(json_t *job, json_t *workload, struct executor_status *st);
int kube_pod_exit_code(json_t *pod);
const char *kube_resource_version(json_t *obj);
/* The condition of that type with status "True", or NULL. */
json_t *kube_condition_true(json_t *obj, const char *type);

#endif
