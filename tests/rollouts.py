"""Rollout failures as a cluster shows them: a workload, its ReplicaSets, pods and events,
and the verdict `probectl why KIND/NAME` must give. Used by the core tests, the file
tests (as `kubectl get deploy,rs,pods,events -o json` and a `cluster-info dump`) and the
API tests (FakeAPIServer)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests import builders as b
from tests import workloads as w
from tests.builders import crashloop_wait, event, http_probe, status, terminated


@dataclass
class Rollout:
    name: str
    ref: str  # what the user types: deploy/web
    workload: dict
    cause: str
    severity: str
    rollout: str
    replicasets: list = field(default_factory=list)
    pods: list = field(default_factory=list)
    events: list = field(default_factory=list)
    jobs: list = field(default_factory=list)
    refusal: str = ""
    summary_has: tuple = ()
    evidence_has: tuple = ()

    @property
    def objects(self) -> list[dict]:
        return [self.workload, *self.jobs, *self.replicasets, *self.pods, *self.events]


ALL: list = []


def rollout(fn):
    ALL.append(fn)
    return fn


def _healthy_old(rs, n=3):
    return [w.rs_pod(rs, f"old{i}", [status("api", b.running(86000), None, ready=True)], created=86000) for i in range(n)]


def _stuck_deploy(name, *, error, conditions_extra=(), deadline_exceeded=True, new_api=False, with_condition=True):
    """A rolling update whose new ReplicaSet cannot create its pod (maxSurge 25% of 3 = 1):
    the old revision's 3 pods serve on."""
    new_rs_name = f"{name}-7c9d8f6b5"
    conds = [w.cond("Available", "True", "MinimumReplicasAvailable", w.MIN_AVAILABLE, before=86000)]
    if with_condition:
        conds.append(w.replica_failure(error, pod=f"{new_rs_name}-x7k2p"))
    conds.append(w.cond("Progressing", "False", "ProgressDeadlineExceeded", w.TIMED_OUT.format(rs=new_rs_name), before=30)
                 if deadline_exceeded else
                 w.cond("Progressing", "True", "ReplicaSetUpdated", w.RS_UPDATED.format(rs=new_rs_name), before=300))
    d = w.deployment(name, replicas=3, revision=2, ready=3, updated=0, current=3, conditions=conds)
    old = w.replicaset(d, "5d4f8b7c9", revision=1, replicas=3, created=86400)
    new = w.replicaset(d, "7c9d8f6b5", revision=2, replicas=0, created=900,
                       conditions=[w.replica_failure(error, pod=f"{new_rs_name}-x7k2p")] if with_condition else ())
    new["spec"]["replicas"] = 1
    ev = [w.failed_create(new, error, count=14, first=900, last=20, new_api=new_api)]
    return d, [old, new], _healthy_old(old), ev


@rollout
def deploy_quota():
    d, rss, pods, ev = _stuck_deploy("web", error=w.QUOTA)
    return Rollout("deploy_quota", "deploy/web", d, "create-refused", "critical", "stuck", rss, pods, ev,
                   refusal="quota", summary_has=("compute-quota", "still serve"), evidence_has=("exceeded quota",))


@rollout
def deploy_quota_old_wording_events_only():
    # a 1.8-era API server: "Exceeded quota", no ReplicaFailure condition, deadline not yet passed
    d, rss, pods, ev = _stuck_deploy("web", error=w.QUOTA_OLD, deadline_exceeded=False, with_condition=False)
    return Rollout("deploy_quota_old_wording_events_only", "deployment.apps/web", d, "create-refused", "critical",
                   "progressing", rss, pods, ev, refusal="quota", summary_has=("team-quota",))


@rollout
def deploy_pod_security_new_events_api():
    d, rss, pods, ev = _stuck_deploy("web", error=w.PSA, new_api=True, with_condition=False)
    return Rollout("deploy_pod_security_new_events_api", "deployments/web", d, "create-refused", "critical", "stuck",
                   rss, pods, ev, refusal="pod-security", summary_has=('PodSecurity "restricted:latest"',),
                   evidence_has=("allowPrivilegeEscalation",))


@rollout
def deploy_webhook_first_install():
    # a first install: one ReplicaSet, no pod at all, the Deployment never available
    d = w.deployment("web", replicas=2, revision=1, ready=0, updated=0, current=0, conditions=[
        w.cond("Available", "False", "MinimumReplicasUnavailable", w.MIN_UNAVAILABLE, before=900),
        w.replica_failure(w.GATEKEEPER, pod="web-6b7f9d4c8-x7k2p"),
        w.cond("Progressing", "False", "ProgressDeadlineExceeded", w.TIMED_OUT.format(rs="web-6b7f9d4c8"), before=200),
    ], created=900)
    rs = w.replicaset(d, "6b7f9d4c8", revision=1, replicas=0, created=900,
                      conditions=[w.replica_failure(w.GATEKEEPER, pod="web-6b7f9d4c8-x7k2p")])
    rs["spec"]["replicas"] = 2
    ev = [w.failed_create(rs, w.GATEKEEPER, count=17, first=899, last=15)]
    return Rollout("deploy_webhook_first_install", "deploy/web", d, "create-refused", "critical", "stuck", [rs], [],
                   ev, refusal="webhook", summary_has=("validation.gatekeeper.sh",))


@rollout
def sts_webhook():
    s = w.statefulset("db", replicas=3, ready=0, current=0, created=800)
    ev = [w.failed_create(s, w.WEBHOOK, count=9, first=800, last=40)]
    return Rollout("sts_webhook", "sts/db", s, "create-refused", "critical", "stuck", [], [], ev, refusal="webhook",
                   summary_has=("validate.kyverno.svc-fail",))


@rollout
def ds_missing_service_account():
    ds = w.daemonset("agent", desired=3, ready=0, current=0, created=400)
    ev = [w.failed_create(ds, w.MISSING_SA, count=6, first=400, last=10)]
    return Rollout("ds_missing_service_account", "ds/agent", ds, "create-refused", "critical", "progressing", [], [], ev,
                   refusal="service-account", summary_has=('service account "web-runner"',),
                   evidence_has=('serviceaccount "web-runner" not found',))


@rollout
def job_quota():
    j = w.job("migrate", active=0, created=300)
    ev = [w.failed_create(j, w.QUOTA, count=5, first=300, last=20)]
    return Rollout("job_quota", "job/migrate", j, "create-refused", "critical", "progressing", [], [], ev,
                   refusal="quota")


def _crashing_rs_pods(rs, n=3, code=137, reason="OOMKilled"):
    out = []
    for i in range(n):
        p = w.rs_pod(rs, f"c{i}", [status("api", None, terminated(code, reason, 95, 40), restarts=7 + i)], created=700)
        p["status"]["containerStatuses"][0]["state"] = crashloop_wait(p, "api")
        out.append(p)
    return out


@rollout
def deploy_new_revision_oom():
    new_rs = "web-7c9d8f6b5"
    d = w.deployment("web", replicas=3, revision=2, ready=3, updated=1, current=4, conditions=[
        w.cond("Available", "True", "MinimumReplicasAvailable", w.MIN_AVAILABLE, before=86000),
        w.cond("Progressing", "False", "ProgressDeadlineExceeded", w.TIMED_OUT.format(rs=new_rs), before=60)])
    old = w.replicaset(d, "5d4f8b7c9", revision=1, replicas=3, created=86400)
    new = w.replicaset(d, "7c9d8f6b5", revision=2, replicas=1, ready=0, created=700)
    pods = _healthy_old(old) + _crashing_rs_pods(new, n=1)
    ev = [event(pods[-1], "BackOff", b.backoff_msg(pods[-1], "api"), type="Warning", container="api", count=20,
                first=600, last=20)]
    return Rollout("deploy_new_revision_oom", "deploy/web", d, "oom-killed", "critical", "stuck", [old, new], pods, ev,
                   summary_has=("stuck", "oom-killed", "still serve"),
                   evidence_has=("ProgressDeadlineExceeded",))


@rollout
def deploy_unschedulable():
    msg = ("0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
           "3 No preemption victims found for incoming pod.")
    d = w.deployment("ml", replicas=2, revision=1, ready=0, updated=2, current=2, created=1200, conditions=[
        w.cond("Available", "False", "MinimumReplicasUnavailable", w.MIN_UNAVAILABLE, before=1200),
        w.cond("Progressing", "False", "ProgressDeadlineExceeded", w.TIMED_OUT.format(rs="ml-6d7e8f9a0"), before=600)])
    rs = w.replicaset(d, "6d7e8f9a0", revision=1, replicas=2, ready=0, created=1200)
    pods, ev = [], []
    for i in range(2):
        p = w.rs_pod(rs, f"u{i}", [], phase="Pending", node=None, created=1200, conditions=[
            {"type": "PodScheduled", "status": "False", "lastProbeTime": None, "lastTransitionTime": b.ts(1200),
             "reason": "Unschedulable", "message": msg}])
        pods.append(p)
        ev.append(event(p, "FailedScheduling", msg, type="Warning", component="default-scheduler", count=20,
                        first=1200, last=30))
    return Rollout("deploy_unschedulable", "deploy/ml", d, "unschedulable", "critical", "stuck", [rs], pods, ev,
                   summary_has=("Insufficient cpu",))


@rollout
def sts_readiness():
    s = w.statefulset("cart", replicas=2, ready=0, current=2, created=3600, update_rev="5b6c7d8e9f",
                      current_rev="5b6c7d8e9f")
    pods, ev = [], []
    for i in range(2):
        p = w.owned_pod(s, f"cart-{i}", [status("api", b.running(3500), None, ready=False)],
                        labels={"controller-revision-hash": "cart-5b6c7d8e9f",
                                "statefulset.kubernetes.io/pod-name": f"cart-{i}"}, created=3500)
        p["spec"]["containers"][0]["readinessProbe"] = http_probe("/ready")
        pods.append(p)
        ev.append(event(p, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503",
                        type="Warning", container="api", count=300, first=3400, last=5))
    # every pod exists on the current revision: no rollout is under way, the StatefulSet runs
    # degraded and its pods' verdict (a warning) is the workload's
    return Rollout("sts_readiness", "statefulset/cart", s, "readiness-probe-failed", "warning", "degraded", [], pods, ev,
                   summary_has=("runs degraded",))


@rollout
def job_backoff_limit():
    j = w.job("report", failed=3, backoff=2, created=900, conditions=[
        w.job_cond("FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit", before=100),
        w.job_cond("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit", before=100)])
    pods = []
    for i in range(3):
        p = w.owned_pod(j, f"report-{i}abcd", [status("api", terminated(1, "Error", 800 - i * 200, 790 - i * 200,
                                                                         message="Error: connect ECONNREFUSED 10.0.0.5:5432"),
                                                      None)],
                        labels={"batch.kubernetes.io/job-name": "report", "job-name": "report"}, phase="Failed",
                        restart_policy="Never", created=800 - i * 200)
        pods.append(p)
    return Rollout("job_backoff_limit", "job/report", j, "app-error", "critical", "failed", [], pods, [],
                   evidence_has=("BackoffLimitExceeded",))


@rollout
def job_deadline():
    j = w.job("export", failed=1, created=700, deadline=600, conditions=[
        w.job_cond("Failed", "DeadlineExceeded", "Job was active longer than specified deadline", before=100)])
    return Rollout("job_deadline", "jobs.batch/export", j, "deadline-exceeded", "critical", "failed", [], [], [],
                   summary_has=("activeDeadlineSeconds (600s)",))


@rollout
def job_pod_failure_policy():
    policy = {"rules": [{"action": "FailJob", "onExitCodes": {"containerName": "api", "operator": "In", "values": [42]}}]}
    j = w.job("verify", failed=1, created=500, pod_failure_policy=policy, conditions=[
        # Fact: pkg/controller/job/pod_failure_policy.go: "Container %s for pod %s/%s failed with
        # exit code %v matching %v rule at index %d"
        w.job_cond("Failed", "PodFailurePolicy",
                   "Container api for pod shop/verify-q8x2z failed with exit code 42 matching FailJob rule at index 0",
                   before=100)])
    p = w.owned_pod(j, "verify-q8x2z", [status("api", terminated(42, "Error", 300, 120), None)],
                    labels={"job-name": "verify"}, phase="Failed", restart_policy="Never", created=300)
    return Rollout("job_pod_failure_policy", "job/verify", j, "app-error", "critical", "failed", [], [p], [],
                   evidence_has=("podFailurePolicy", "matching FailJob rule"))


@rollout
def deploy_paused():
    d = w.deployment("web", replicas=3, revision=2, ready=3, updated=0, current=3, paused=True, conditions=[
        w.cond("Available", "True", "MinimumReplicasAvailable", w.MIN_AVAILABLE, before=86000),
        w.cond("Progressing", "Unknown", "DeploymentPaused", w.PAUSED, before=300)])
    old = w.replicaset(d, "5d4f8b7c9", revision=1, replicas=3, created=86400)
    return Rollout("deploy_paused", "deploy/web", d, "healthy", "ok", "paused", [old], _healthy_old(old), [],
                   summary_has=("paused",))


@rollout
def deploy_complete_after_old_refusal():
    # the quota was raised: every pod exists, the old FailedCreate events remain
    new_rs = "web-7c9d8f6b5"
    d = w.deployment("web", replicas=3, revision=2, ready=3, updated=3, current=3, conditions=[
        w.cond("Available", "True", "MinimumReplicasAvailable", w.MIN_AVAILABLE, before=86000),
        w.cond("Progressing", "True", "NewReplicaSetAvailable", w.NEW_RS_AVAILABLE.format(rs=new_rs), before=100)])
    old = w.replicaset(d, "5d4f8b7c9", revision=1, replicas=0, created=86400)
    new = w.replicaset(d, "7c9d8f6b5", revision=2, replicas=3, created=900)
    ev = [w.failed_create(new, w.QUOTA, count=4, first=900, last=600)]
    return Rollout("deploy_complete_after_old_refusal", "deploy/web", d, "healthy", "ok", "complete", [old, new],
                   _healthy_old(new), ev, evidence_has=("refused earlier",))


@rollout
def cronjob_latest_failed():
    cj = w.cronjob("nightly")
    older = w.job("nightly-29000000", succeeded=1, created=86400, cronjob="nightly", conditions=[
        w.job_cond("Complete", "", "", before=86000)])
    latest = w.job("nightly-29001440", failed=1, created=600, deadline=300, cronjob="nightly", conditions=[
        w.job_cond("Failed", "DeadlineExceeded", "Job was active longer than specified deadline", before=290)])
    return Rollout("cronjob_latest_failed", "cj/nightly", cj, "deadline-exceeded", "critical", "failed", [], [], [],
                   jobs=[older, latest], summary_has=("nightly-29001440",))


@rollout
def job_failed_pods_gone():
    # the backoff limit was reached an hour ago and the failed pods were deleted since
    # (`kubectl delete pod -l job-name=report`, a cleanup job): the Job's Failed condition
    # is all that is left to say what happened
    j = w.job("report", failed=3, backoff=2, created=7200, conditions=[
        w.job_cond("FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit", before=3000),
        w.job_cond("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit", before=3000)])
    return Rollout("job_failed_pods_gone", "job/report", j, "unknown", "critical", "failed",
                   summary_has=("BackoffLimitExceeded", "no pod of it is left"))


@rollout
def job_suspended():
    # Fact: pkg/controller/job/job_controller.go: a suspended Job gets condition Suspended=True,
    # reason "JobSuspended", message "Job suspended", and a Normal event Suspended "Job suspended"
    j = w.job("backfill", created=600, suspend=True, conditions=[
        w.job_cond("Suspended", "JobSuspended", "Job suspended", before=590)])
    ev = [w.controller_event(j, "Suspended", "Job suspended", type="Normal", first=590, last=590)]
    return Rollout("job_suspended", "job/backfill", j, "healthy", "ok", "suspended", events=ev,
                   summary_has=("suspended (spec.suspend)",))


@rollout
def deploy_scaled_to_zero():
    # `kubectl scale deploy/web --replicas=0`: the ReplicaSet follows, no pod is left; the
    # Deployment keeps its conditions (deployment/sync.go)
    new_rs = "web-7c9d8f6b5"
    d = w.deployment("web", replicas=0, revision=2, ready=0, updated=0, current=0, conditions=[
        w.cond("Available", "True", "MinimumReplicasAvailable", w.MIN_AVAILABLE, before=86000),
        w.cond("Progressing", "True", "NewReplicaSetAvailable", w.NEW_RS_AVAILABLE.format(rs=new_rs), before=3000)])
    rs = w.replicaset(d, "7c9d8f6b5", revision=2, replicas=0, created=86000)
    return Rollout("deploy_scaled_to_zero", "deploy/web", d, "healthy", "ok", "scaled-to-zero", [rs],
                   summary_has=("scaled to zero",))


@rollout
def deploy_stuck_deployment_only():
    # `kubectl get deploy web -o json` alone: a rollout past its progress deadline, with
    # neither its ReplicaSets nor its pods in the file, and its events gone (the API
    # server's --event-ttl defaults to 1h); the conditions name the new ReplicaSet
    new_rs = "web-7c9d8f6b5"
    d = w.deployment("web", replicas=3, revision=2, ready=3, updated=1, current=4, conditions=[
        w.cond("Available", "True", "MinimumReplicasAvailable", w.MIN_AVAILABLE, before=86000),
        w.cond("Progressing", "False", "ProgressDeadlineExceeded", w.TIMED_OUT.format(rs=new_rs), before=3000)])
    return Rollout("deploy_stuck_deployment_only", "deploy/web", d, "unknown", "critical", "stuck",
                   summary_has=("stuck past its progress deadline", "no pod of the current revision says why"))


@rollout
def sts_pod_restarting():
    # every pod of the revision exists; cart-1 was deleted and the StatefulSet controller
    # recreated it (same name) seconds ago: not ready yet, within its readiness probe's
    # initialDelaySeconds
    s = w.statefulset("cart", replicas=2, ready=1, current=2, created=86400)
    pods = []
    for i, started in enumerate((80000, 5)):
        p = w.owned_pod(s, f"cart-{i}", [status("api", b.running(started), None, ready=i == 0)],
                        labels={"controller-revision-hash": "cart-1", "statefulset.kubernetes.io/pod-name": f"cart-{i}"},
                        created=started + 1)
        p["spec"]["containers"][0]["readinessProbe"] = http_probe("/ready", delay=30)
        pods.append(p)
    return Rollout("sts_pod_restarting", "sts/cart", s, "healthy", "ok", "degraded", [], pods,
                   summary_has=("none of them reports trouble",))


@rollout
def deploy_rolling_within_deadline():
    # a rolling update under way: the new ReplicaSet's first pod started 10s ago and is not
    # ready yet (readiness initialDelaySeconds 15); Progressing=True ReplicaSetUpdated
    new_rs = "web-7c9d8f6b5"
    d = w.deployment("web", replicas=3, revision=2, ready=3, updated=1, current=4, conditions=[
        w.cond("Available", "True", "MinimumReplicasAvailable", w.MIN_AVAILABLE, before=86000),
        w.cond("Progressing", "True", "ReplicaSetUpdated", w.RS_UPDATED.format(rs=new_rs), before=12)])
    old = w.replicaset(d, "5d4f8b7c9", revision=1, replicas=3, created=86400)
    new = w.replicaset(d, "7c9d8f6b5", revision=2, replicas=1, ready=0, created=15)
    p = w.rs_pod(new, "n0", [status("api", b.running(10), None, ready=False)], created=14)
    p["spec"]["containers"][0]["readinessProbe"] = http_probe("/ready", delay=15)
    return Rollout("deploy_rolling_within_deadline", "deploy/web", d, "healthy", "ok", "progressing", [old, new],
                   _healthy_old(old) + [p], summary_has=("in progress", "still serve"))


BY_NAME = {fn.__name__: fn for fn in ALL}


def as_list(objects: list[dict]) -> dict:
    """What `kubectl get deploy,rs,pods,events -o json` writes: a List with kinds filled in."""
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": objects}
