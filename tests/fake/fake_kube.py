#!/usr/bin/env python3
"""fake_kube.py: a fake Kubernetes API server with Kueue's behaviour, for
tests only (tests/t8010-kueue.sh).

Speaks, over TLS on 127.0.0.1, the part of the Kubernetes REST API that
loopgate's Kueue executor uses (src/dispatch/kueue.c), with the same paths,
status codes and Status objects as a real API server:

  POST   /apis/batch/v1/namespaces/NS/jobs               201; 409 AlreadyExists
  GET    /apis/batch/v1/namespaces/NS/jobs[/NAME]        list (labelSelector), get; 404
  GET    .../jobs?watch=1&resourceVersion=RV&allowWatchBookmarks=true&timeoutSeconds=N
         newline-delimited events; a BOOKMARK first; ERROR 410 Expired for a
         compacted RV
  DELETE .../jobs/NAME  (DeleteOptions propagationPolicy)  200; pods and Workload go too
  GET    /apis/kueue.x-k8s.io/v1beta1/namespaces/NS/workloads?labelSelector=...
  GET    /api/v1/namespaces/NS/pods?labelSelector=..., /pods/NAME/log (text)
  GET    /apis/visibility.kueue.x-k8s.io/v1beta1/namespaces/NS/localqueues/LQ/pendingworkloads
         Kueue's on-demand visibility API: a PendingWorkloadsSummary of the
         workloads waiting for quota in admission order, positionInLocalQueue
         and positionInClusterQueue from 0; 404 with --no-visibility or after
         /visibility?on=0 (a Kueue without the VisibilityOnDemand feature)

Kueue, as its Job integration does: a Job labelled kueue.x-k8s.io/queue-name
and created suspended gets a Workload (job-NAME-XXXXX, labelled
kueue.x-k8s.io/job-uid) with QuotaReserved False ("Pending": couldn't
assign flavors ... insufficient unused quota) until it fits in the
ClusterQueue's CPU quota (--quota-cpu, in creation order, BestEffortFIFO);
then QuotaReserved and Admitted True, status.admission, the Job unsuspended
and a Running pod made.  A queue name other than --queue stays Inadmissible.

Auth: "Authorization: Bearer TOKEN" equal to --token, or a client
certificate signed by --client-ca; anything else is 401; --forbidden-token
gets 403 with RBAC's message.

Control (plain HTTP on --control-port-file, for the test):
  POST /finish?job=NAME&exit=N   the pod ends: Job Complete/Failed, Workload Finished
  POST /log?job=NAME             body: the pod's log
  POST /preempt?job=NAME         Evicted(Preempted) + Preempted(InClusterQueue),
                                 Job suspended, pod deleted; the free quota is
                                 taken by a higher-priority workload until /unblock
  POST /unblock                  that workload ends: the preempted is readmitted
  POST /visibility?on=0|1        the visibility API is gone (404) or back
  POST /compact                  every resourceVersion so far is compacted: the
                                 next watch, from whatever version, gets 410

Pods (--run-pods ENTRYPOINT, a kubelet for tests): an admitted Job's pod
really runs, as a local process: ENTRYPOINT (the image's, here
tools/loopgate-worker) with the container's args, the container's env
(value entries as given, secretKeyRef resolved from --secrets, a JSON file
{"secret": {"key": "value"}}; an unknown one fails the pod like
CreateContainerConfigError), PATH from --pod-path first, in a fresh
directory (LOOPGATE_WORKDIR below it, HOME its own: a pod makes its own
audit key).  Its output is the pod's log; its
exit ends the Job as /finish would.  Preemption or deletion kills it.

Log: one JSON line per API request {"method","path","query","body","raw","auth"}.
"""
import argparse
import copy
import datetime
import hashlib
import json
import os
import ssl
import subprocess
import tempfile
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

KUEUE = "kueue.x-k8s.io/v1beta1"
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
FLAVOR = "loopgate-default"


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def cond(typ, status, reason, message):
    return {"type": typ, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": now(), "observedGeneration": 1}


def status_obj(code, reason, message, details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
         "message": message, "reason": reason, "code": code}
    if details:
        s["details"] = details
    return s


def cpu_millis(q):
    q = str(q)
    return int(q[:-1]) if q.endswith("m") else int(float(q) * 1000)


def set_cond(obj, c):
    conds = obj.setdefault("status", {}).setdefault("conditions", [])
    for i, old in enumerate(conds):
        if old["type"] == c["type"]:
            conds[i] = c
            return
    conds.append(c)


def match(labels, selector):
    for term in filter(None, (selector or "").split(",")):
        if "=" in term:
            k, v = term.split("=", 1)
            if labels.get(k.rstrip("=")) != v:
                return False
        elif term not in labels:
            return False
    return True


class Cluster:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Condition()
        self.rv = 100
        self.compacted = 0
        self.expire_next = False
        self.jobs, self.workloads, self.pods, self.logs = {}, {}, {}, {}
        self.events = []  # (rv, type, kind, ns, obj)
        self.blocked = 0  # millicpu taken by a higher-priority workload
        self.order = 0
        self.procs = {}  # pod name -> Popen (--run-pods)
        self.secrets = {}
        if args.secrets:
            with open(args.secrets) as f:
                self.secrets = json.load(f)

    def bump(self, obj):
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        return self.rv

    def emit(self, typ, kind, obj):
        self.events.append((self.rv, typ, kind, obj["metadata"].get("namespace"), copy.deepcopy(obj)))
        self.lock.notify_all()

    def job_cpu(self, job):
        c = job["spec"]["template"]["spec"]["containers"][0]
        return cpu_millis(c.get("resources", {}).get("requests", {}).get("cpu", "1"))

    def used(self):
        return self.blocked + sum(self.job_cpu(self.jobs[k]) for k, wl in self.workloads.items()
                                  if wl.get("status", {}).get("admission") and k in self.jobs)

    # --- Kueue ---------------------------------------------------------
    def make_workload(self, key, job):
        ns, name = key
        h = hashlib.sha256(job["metadata"]["uid"].encode()).hexdigest()[:5]
        self.order += 1
        wl = {"apiVersion": KUEUE, "kind": "Workload",
              "metadata": {"name": "job-%s-%s" % (name, h), "namespace": ns,
                           "uid": str(uuid.uuid4()), "creationTimestamp": now(), "generation": 1,
                           "labels": {"kueue.x-k8s.io/job-uid": job["metadata"]["uid"]},
                           "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": name,
                                                "uid": job["metadata"]["uid"], "controller": True,
                                                "blockOwnerDeletion": True}]},
              "spec": {"queueName": job["metadata"]["labels"][QUEUE_LABEL], "active": True, "priority": 0,
                       "podSets": [{"name": "main", "count": 1, "template": job["spec"]["template"]}]},
              "status": {}, "_order": self.order}
        self.bump(wl)
        self.workloads[key] = wl

    def schedule(self):
        cap = cpu_millis(self.args.quota_cpu)
        for key, wl in sorted(self.workloads.items(), key=lambda kv: kv[1]["_order"]):
            job = self.jobs.get(key)
            st = wl.setdefault("status", {})
            if not job or st.get("admission") or any(c["type"] == "Finished" and c["status"] == "True"
                                                      for c in st.get("conditions", [])):
                continue
            if wl["spec"]["queueName"] != self.args.queue:
                c = cond("QuotaReserved", "False", "Inadmissible",
                         "LocalQueue %s doesn't exist" % wl["spec"]["queueName"])
            elif self.used() + self.job_cpu(job) <= cap:
                self.admit(key, wl, job)
                continue
            else:
                need = self.used() + self.job_cpu(job) - cap
                c = cond("QuotaReserved", "False", "Pending",
                         "couldn't assign flavors to pod set main: insufficient unused quota for cpu "
                         "in flavor %s, %s more needed" % (FLAVOR, "%dm" % need if need % 1000 else need // 1000))
            old = [x for x in st.get("conditions", []) if x["type"] == "QuotaReserved"]
            if not old or old[0]["message"] != c["message"]:
                set_cond(wl, c)
                self.bump(wl)

    def pending(self, ns, queue):
        """The visibility API's PendingWorkloadsSummary for LocalQueue ns/queue."""
        waiting = [(k, wl) for k, wl in sorted(self.workloads.items(), key=lambda kv: kv[1]["_order"])
                   if k in self.jobs and not wl.get("status", {}).get("admission")
                   and wl["spec"]["queueName"] == self.args.queue
                   and not any(c["type"] == "Finished" and c["status"] == "True"
                               for c in wl.get("status", {}).get("conditions", []))]
        items = []
        for i, ((wns, _), wl) in enumerate(waiting):
            if wns == ns and queue == self.args.queue:
                md = {k: wl["metadata"][k] for k in ("name", "namespace", "uid", "creationTimestamp",
                                                     "ownerReferences")}
                items.append({"metadata": md, "priority": wl["spec"]["priority"], "localQueueName": queue,
                              "positionInClusterQueue": i, "positionInLocalQueue": len(items)})
        return {"kind": "PendingWorkloadsSummary", "apiVersion": "visibility.kueue.x-k8s.io/v1beta1",
                "metadata": {"creationTimestamp": None}, "items": items}

    def admit(self, key, wl, job):
        ns, name = key
        wl["status"]["admission"] = {"clusterQueue": "loopgate-" + self.args.queue,
                                     "podSetAssignments": [{"name": "main", "count": 1,
                                                            "flavors": {"cpu": FLAVOR},
                                                            "resourceUsage": {"cpu": "%dm" % self.job_cpu(job)}}]}
        set_cond(wl, cond("QuotaReserved", "True", "QuotaReserved",
                          "Quota reserved in ClusterQueue loopgate-" + self.args.queue))
        set_cond(wl, cond("Admitted", "True", "Admitted", "The workload is admitted"))
        for c in wl["status"]["conditions"]:
            if c["type"] in ("Evicted", "Preempted") and c["status"] == "True":
                c.update(status="False", reason="QuotaReserved", message="Previously: " + c["message"])
        self.bump(wl)
        job["spec"]["suspend"] = False
        job["status"].update(active=1, startTime=now())
        self.bump(job)
        self.emit("MODIFIED", "Job", job)
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "%s-%s" % (name, uuid.uuid4().hex[:5]), "namespace": ns,
                            "uid": str(uuid.uuid4()),
                            "labels": {"batch.kubernetes.io/job-name": name, "job-name": name,
                                       "batch.kubernetes.io/controller-uid": job["metadata"]["uid"]}},
               "spec": copy.deepcopy(job["spec"]["template"]["spec"]),
               "status": {"phase": "Running", "containerStatuses": [
                   {"name": "worker", "ready": True, "restartCount": 0, "image": "x", "imageID": "",
                    "state": {"running": {"startedAt": now()}}}]}}
        self.bump(pod)
        self.pods[(ns, pod["metadata"]["name"])] = pod
        if self.args.run_pods:
            self.start_pod(ns, name, pod)

    # --- the kubelet (--run-pods) --------------------------------------
    def pod_env(self, c):
        env = {"PATH": os.pathsep.join(filter(None, [self.args.pod_path, os.environ.get("PATH")])),
               "HOME": os.environ.get("HOME", "/"), "LC_ALL": "C"}
        for k in ("GIT_CONFIG_NOSYSTEM", "LOOPGATE_TEST_TMP"):
            if k in os.environ:
                env[k] = os.environ[k]
        for e in c.get("env", []):
            if "value" in e:
                env[e["name"]] = e["value"]
            else:
                ref = e["valueFrom"]["secretKeyRef"]
                env[e["name"]] = self.secrets[ref["name"]][ref["key"]]
        return env

    def start_pod(self, ns, job, pod):
        name = pod["metadata"]["name"]
        c = pod["spec"]["containers"][0]
        work = tempfile.mkdtemp(prefix="pod-", dir=self.args.pod_dir)
        try:
            env = self.pod_env(c)
        except KeyError as e:
            self.logs[name] = "Error: secret key %s not found\n" % e
            threading.Thread(target=self.end_pod, args=(job, name, 1, None), daemon=True).start()
            return
        env["LOOPGATE_WORKDIR"] = os.path.join(work, "repo")
        # a container's own file system: nothing of the test's HOME (its
        # audit key, its git config) reaches the pod
        env["HOME"] = os.path.join(work, "home")
        os.makedirs(env["HOME"])
        out = open(os.path.join(work, "log"), "w+")
        proc = subprocess.Popen([self.args.run_pods] + c.get("args", []), cwd=work, env=env,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs[name] = proc
        threading.Thread(target=self.end_pod, args=(job, name, None, (proc, out)), daemon=True).start()

    def end_pod(self, job, name, code, po):
        if po:
            proc, out = po
            code = proc.wait()
            out.seek(0)
            text = out.read()
            out.close()
        with self.lock:
            if po:
                self.logs[name] = text
            alive = self.procs.pop(name, None) is not None or not po
            if alive and any(p["metadata"]["name"] == name for p in self.pods.values()):
                self.finish(job, code if code >= 0 else 128 - code)

    def kill_pod(self, name):
        proc = self.procs.pop(name, None)
        if proc:
            try:
                os.killpg(proc.pid, 9)
            except ProcessLookupError:
                pass

    def job_pods(self, ns, name):
        return [p for (pns, _), p in self.pods.items()
                if pns == ns and p["metadata"]["labels"]["batch.kubernetes.io/job-name"] == name]

    # --- control -------------------------------------------------------
    def find(self, name):
        for key in self.jobs:
            if key[1] == name:
                return key
        raise KeyError(name)

    def finish(self, name, code):
        key = self.find(name)
        job, wl = self.jobs[key], self.workloads[key]
        for p in self.job_pods(*key):
            p["status"]["phase"] = "Succeeded" if code == 0 else "Failed"
            p["status"]["containerStatuses"][0]["state"] = {
                "terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                               "startedAt": now(), "finishedAt": now()}}
            self.bump(p)
        ok = code == 0
        job["status"].update(active=0, completionTime=now()) if ok else job["status"].update(active=0)
        job["status"]["succeeded" if ok else "failed"] = 1
        job["status"].setdefault("conditions", []).append(
            cond("Complete", "True", "", "") if ok else
            cond("Failed", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit"))
        self.bump(job)
        self.emit("MODIFIED", "Job", job)
        set_cond(wl, cond("Finished", "True", "Succeeded" if ok else "Failed",
                          "Job finished successfully" if ok else "Job has reached the specified backoff limit"))
        wl["status"].pop("admission", None)
        self.bump(wl)
        self.schedule()

    def preempt(self, name):
        key = self.find(name)
        job, wl = self.jobs[key], self.workloads[key]
        wl["status"].pop("admission", None)
        # the preemptor takes the freed quota and whatever else was free
        self.blocked = cpu_millis(self.args.quota_cpu) - (self.used() - self.blocked)
        msg = "Preempted to accommodate a workload (UID: %s) due to prioritization in the ClusterQueue" % uuid.uuid4()
        set_cond(wl, cond("Evicted", "True", "Preempted", msg))
        set_cond(wl, cond("Preempted", "True", "InClusterQueue", msg))
        set_cond(wl, cond("QuotaReserved", "False", "Preempted", msg))
        set_cond(wl, cond("Admitted", "False", "NoReservation", "The workload has no reservation"))
        set_cond(wl, cond("Requeued", "True", "Preempted", msg))
        self.order += 1
        wl["_order"] = self.order  # to the back of the queue
        self.bump(wl)
        for p in self.job_pods(*key):
            self.kill_pod(p["metadata"]["name"])
            del self.pods[(key[0], p["metadata"]["name"])]
        job["spec"]["suspend"] = True
        job["status"]["active"] = 0
        self.bump(job)
        self.emit("MODIFIED", "Job", job)
        self.schedule()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    cluster = None
    log_path = None

    def log_message(self, fmt, *a):
        pass

    def reply(self, code, obj, ctype="application/json"):
        data = obj.encode() if isinstance(obj, str) else json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def auth(self):
        a = self.cluster.args
        h = self.headers.get("Authorization", "")
        if h == "Bearer " + a.token:
            return "token"
        if a.forbidden_token and h == "Bearer " + a.forbidden_token:
            return "forbidden"
        try:
            if self.connection.getpeercert():
                return "cert"
        except (AttributeError, ValueError):
            pass
        return None

    def record(self, raw, body, how):
        u = urlsplit(self.path)
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"method": self.command, "path": u.path, "query": parse_qs(u.query),
                                "raw": raw.decode("utf-8", "replace"), "body": body, "auth": how,
                                "headers": {k: v for k, v in self.headers.items()
                                            if k.lower() != "authorization"}}) + "\n")

    def handle_api(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        how = self.auth()
        self.record(raw, body, how)
        if how is None:
            return self.reply(401, status_obj(401, "Unauthorized", "Unauthorized"))
        u = urlsplit(self.path)
        parts = [unquote(p) for p in u.path.strip("/").split("/")]
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        if how == "forbidden":
            ns = parts[4] if parts[0] == "apis" else parts[3]
            res = parts[5] if len(parts) > 5 else "jobs"
            verb = {"POST": "create", "DELETE": "delete"}.get(self.command, "get")
            return self.reply(403, status_obj(
                403, "Forbidden", 'jobs.batch is forbidden: User "system:serviceaccount:%s:default" cannot '
                '%s resource "%s" in API group "batch" in the namespace "%s"' % (ns, verb, res, ns)))
        with self.cluster.lock:
            return self.route(parts, q, body)

    def route(self, parts, q, body):
        c = self.cluster
        if parts[:3] == ["apis", "batch", "v1"] and len(parts) >= 5 and parts[3] == "namespaces" and parts[5:6] == ["jobs"]:
            ns, name = parts[4], (parts[6] if len(parts) > 6 else None)
            if self.command == "POST" and not name:
                return self.create_job(ns, body)
            if self.command == "GET" and not name and q.get("watch") in ("1", "true"):
                return self.watch(ns, q)
            if self.command == "GET" and not name:
                return self.listing("JobList", "batch/v1", ns, c.jobs, q)
            if name and (ns, name) not in c.jobs:
                return self.reply(404, status_obj(404, "NotFound", 'jobs.batch "%s" not found' % name,
                                                  {"name": name, "group": "batch", "kind": "jobs"}))
            if self.command == "GET":
                return self.reply(200, c.jobs[(ns, name)])
            if self.command == "DELETE":
                return self.delete_job(ns, name, body)
        if parts[:3] == ["apis", "kueue.x-k8s.io", "v1beta1"] and parts[5:] == ["workloads"] and self.command == "GET":
            return self.listing("WorkloadList", KUEUE, parts[4], c.workloads, q)
        if (parts[:4] == ["apis", "visibility.kueue.x-k8s.io", "v1beta1", "namespaces"] and len(parts) == 8
                and parts[5] == "localqueues" and parts[7] == "pendingworkloads" and self.command == "GET"
                and not c.args.no_visibility):
            return self.reply(200, c.pending(parts[4], parts[6]))
        if parts[:3] == ["api", "v1", "namespaces"] and parts[4:5] == ["pods"] and self.command == "GET":
            ns = parts[3]
            if len(parts) == 5:
                return self.listing("PodList", "v1", ns, c.pods, q)
            if len(parts) == 7 and parts[6] == "log" and (ns, parts[5]) in c.pods:
                return self.reply(200, c.logs.get(parts[5], ""), "text/plain")
            return self.reply(404, status_obj(404, "NotFound", 'pods "%s" not found' % parts[5:6]))
        return self.reply(404, status_obj(404, "NotFound", "the server could not find the requested resource"))

    def listing(self, kind, api, ns, table, q):
        items = [o for (ons, _), o in table.items() if ons == ns
                 and match(o["metadata"].get("labels", {}), q.get("labelSelector"))]
        items = [{k: v for k, v in o.items() if not k.startswith("_")} for o in items]
        return self.reply(200, {"kind": kind, "apiVersion": api,
                                "metadata": {"resourceVersion": str(self.cluster.rv)}, "items": items})

    def create_job(self, ns, job):
        c = self.cluster
        if not isinstance(job, dict) or job.get("kind") != "Job" or job.get("apiVersion") != "batch/v1":
            return self.reply(400, status_obj(400, "BadRequest", "the body is not a batch/v1 Job"))
        name = job.get("metadata", {}).get("name")
        if not name:
            return self.reply(422, status_obj(422, "Invalid", "Job.batch is invalid: metadata.name: Required value"))
        if (ns, name) in c.jobs:
            return self.reply(409, status_obj(409, "AlreadyExists", 'jobs.batch "%s" already exists' % name,
                                              {"name": name, "group": "batch", "kind": "jobs"}))
        job = copy.deepcopy(job)
        job["metadata"].update(namespace=ns, uid=str(uuid.uuid4()), creationTimestamp=now(), generation=1)
        job["status"] = {}
        c.bump(job)
        c.jobs[(ns, name)] = job
        c.emit("ADDED", "Job", job)
        if job["spec"].get("suspend") and QUEUE_LABEL in job["metadata"].get("labels", {}):
            c.make_workload((ns, name), job)
            c.schedule()
        return self.reply(201, job)

    def delete_job(self, ns, name, opts):
        c = self.cluster
        job = c.jobs.pop((ns, name))
        c.workloads.pop((ns, name), None)
        for p in c.job_pods(ns, name):
            c.kill_pod(p["metadata"]["name"])
            del c.pods[(ns, p["metadata"]["name"])]
        c.bump(job)
        c.emit("DELETED", "Job", job)
        c.schedule()
        return self.reply(200, status_obj(200, "", "") | {"status": "Success", "details": {"name": name, "group": "batch", "kind": "jobs", "uid": job["metadata"]["uid"]}})

    def watch(self, ns, q):
        c = self.cluster
        rv = int(q.get("resourceVersion") or c.rv)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()

        def send(typ, obj):
            self.wfile.write((json.dumps({"type": typ, "object": obj}) + "\n").encode())
            self.wfile.flush()

        if rv < c.compacted or c.expire_next:
            c.expire_next = False
            return send("ERROR", status_obj(410, "Expired", "too old resource version: %d (%d)" % (rv, c.compacted)))
        if q.get("allowWatchBookmarks") == "true":
            send("BOOKMARK", {"kind": "Job", "apiVersion": "batch/v1",
                              "metadata": {"resourceVersion": str(c.rv)}})
        end = time.time() + int(q.get("timeoutSeconds") or 30)
        while time.time() < end:
            for (erv, typ, kind, ens, obj) in c.events:
                if erv > rv and kind == "Job" and ens == ns and \
                        match(obj["metadata"].get("labels", {}), q.get("labelSelector")):
                    send(typ, obj)
                    rv = erv
            c.lock.wait(max(0.01, min(0.5, end - time.time())))

    def do_GET(self):
        self.handle_api()

    def do_POST(self):
        self.handle_api()

    def do_DELETE(self):
        self.handle_api()


class Control(BaseHTTPRequestHandler):
    cluster = None

    def log_message(self, fmt, *a):
        pass

    def do_POST(self):
        c = self.cluster
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n).decode() if n else ""
        code, msg = 200, "ok"
        with c.lock:
            try:
                if u.path == "/finish":
                    c.finish(q["job"], int(q.get("exit", "0")))
                elif u.path == "/log":
                    for p in c.job_pods(*c.find(q["job"])):
                        c.logs[p["metadata"]["name"]] = data
                elif u.path == "/preempt":
                    c.preempt(q["job"])
                elif u.path == "/unblock":
                    c.blocked = 0
                    c.schedule()
                elif u.path == "/visibility":
                    c.args.no_visibility = q.get("on") == "0"
                elif u.path == "/compact":
                    c.compacted = c.rv + 1
                    c.expire_next = True
                else:
                    code, msg = 404, "no such control"
            except KeyError as e:
                code, msg = 404, "no job %s" % e
        self.send_response(code)
        self.send_header("Content-Length", str(len(msg)))
        self.end_headers()
        self.wfile.write(msg.encode())


def serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()


def write_port(path, port):
    with open(path + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--control-port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--client-ca")
    ap.add_argument("--token", required=True)
    ap.add_argument("--forbidden-token")
    ap.add_argument("--queue", default="loopgate")
    ap.add_argument("--quota-cpu", default="2")
    ap.add_argument("--no-visibility", action="store_true")
    ap.add_argument("--run-pods", help="the image's entrypoint: admitted pods run locally")
    ap.add_argument("--pod-path", help="put first in a pod's PATH")
    ap.add_argument("--pod-dir", help="where pods' directories go")
    ap.add_argument("--secrets", help="JSON {secret: {key: value}} for secretKeyRef")
    args = ap.parse_args()
    cluster = Cluster(args)
    Handler.cluster = Control.cluster = cluster
    Handler.log_path = args.log
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.client_ca:
        ctx.load_verify_locations(args.client_ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL
    api = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.daemon_threads = True
    api.socket = ctx.wrap_socket(api.socket, server_side=True)
    ctl = ThreadingHTTPServer(("127.0.0.1", 0), Control)
    ctl.daemon_threads = True
    serve(ctl)
    write_port(args.control_port_file, ctl.server_address[1])
    write_port(args.port_file, api.server_address[1])
    try:
        api.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
