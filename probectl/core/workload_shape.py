"""What the workload verdict needs of a workload, whatever its kind: desired and ready
counts, the current revision and its pods, the previous revisions' pods, whether the
rollout is done, paused, suspended or past its deadline. One function per kind, chosen
from a table; the shared helpers the verdict rules read objects with. Pure."""

from __future__ import annotations

import re
from datetime import datetime

from probectl.core.objects import dicts, get, integer, parse_time, text

# Fact: kube-controller-manager's default progressDeadlineSeconds for a Deployment
# (k8s.io/api apps/v1 DeploymentSpec: "Defaults to 600s"); StatefulSets and DaemonSets
# have none, so the same span is used for them.
DEFAULT_PROGRESS_DEADLINE = 600
REVISION = "deployment.kubernetes.io/revision"


def owned_by(obj: dict, owner: dict) -> bool:
    uid = text(owner, "metadata", "uid")
    for ref in dicts(obj, "metadata", "ownerReferences"):
        if uid and text(ref, "uid"):
            if text(ref, "uid") == uid:
                return True
        elif text(ref, "kind") == text(owner, "kind") and text(ref, "name") == text(owner, "metadata", "name"):
            return True
    return False


def same_ns(obj: dict, ns: str) -> bool:
    return (text(obj, "metadata", "namespace") or "default") == ns


def cond(obj: dict, ctype: str) -> dict:
    return next((c for c in dicts(obj, "status", "conditions") if c.get("type") == ctype), {})


def conditions_of(obj: dict) -> tuple[dict, ...]:
    keep = ("type", "status", "reason", "message", "lastUpdateTime", "lastTransitionTime")
    return tuple({k: c.get(k) for k in keep if c.get(k) is not None} for c in dicts(obj, "status", "conditions"))


def quote(c: dict) -> str:
    msg = text(c, "message")
    return f"{text(c, 'type')}={text(c, 'status')} {text(c, 'reason')}" + (f': "{msg}"' if msg else "")


def revision_number(rs: dict) -> int:
    try:
        return int(text(rs, "metadata", "annotations", REVISION) or 0)
    except ValueError:
        return 0


def created_at(obj: dict) -> datetime | None:
    return parse_time(get(obj, "metadata", "creationTimestamp"))


def num(obj: dict, *path, default: int = 0) -> int:
    v = integer(obj, *path, default=None)
    return default if v is None else v



class Shape:
    """What the verdict needs of a workload, whatever its kind: desired/ready counts, the
    current revision's pods, whether it is done, paused, past its deadline."""

    def __init__(self, w: dict, kind: str, replicasets: list[dict], pods: list[dict], now: datetime | None):
        self.w, self.kind, self.now = w, kind, now
        self.ns = text(w, "metadata", "namespace") or "default"
        self.name = text(w, "metadata", "name")
        self.current_rs: dict | None = None
        self.current_name = ""  # the current ReplicaSet's name when only the conditions tell it
        self.old_rs: list[dict] = []
        self.revision: dict = {}
        self.replicas: dict = {}
        self.paused = False
        self.suspended = False
        self.deadline_exceeded = False
        self.complete = False
        self.settled = False  # every pod of the current revision created, whether ready or not
        self.failed: dict = {}  # a Job's Failed (or FailureTarget) condition
        self.current_pods: list[dict] = []
        self.old_pods: list[dict] = []
        self.objects = {(kind, self.name)}  # whose events are the workload's
        _BY_KIND[kind](self, replicasets, pods)

    # each kind ------------------------------------------------------------------------

    def _deployment(self, replicasets, pods):
        w = self.w
        mine = [rs for rs in replicasets if same_ns(rs, self.ns) and owned_by(rs, w)]
        want = text(w, "metadata", "annotations", REVISION)
        cur = next((rs for rs in mine if want and text(rs, "metadata", "annotations", REVISION) == want), None)
        if cur is None and mine:
            cur = max(mine, key=lambda rs: (revision_number(rs), text(rs, "metadata", "creationTimestamp")))
        self.current_rs = cur
        self.old_rs = sorted((rs for rs in mine if rs is not cur), key=revision_number, reverse=True)
        self.objects |= {("ReplicaSet", text(rs, "metadata", "name")) for rs in mine}
        if cur is None:  # no ReplicaSets at hand (a scan): the conditions name the new one
            m = re.search(r'ReplicaSet "([^"]+)"', text(cond(w, "Progressing"), "message"))
            if m:
                self.objects.add(("ReplicaSet", m.group(1)))
                self.current_name = m.group(1)
        for p in pods:
            if not same_ns(p, self.ns):
                continue
            if cur is not None and owned_by(p, cur):
                self.current_pods.append(p)
            elif any(owned_by(p, rs) for rs in self.old_rs):
                self.old_pods.append(p)
        desired = num(w, "spec", "replicas", default=1)
        st = lambda *k: num(w, "status", *k)  # noqa: E731
        self.replicas = {"desired": desired, "current": st("replicas"), "updated": st("updatedReplicas"),
                         "ready": st("readyReplicas"), "available": st("availableReplicas"),
                         "unavailable": st("unavailableReplicas")}
        self.created_current = self.replicas["updated"]
        if cur is not None:
            self.revision = {"current": self._rs_info(cur),
                             "previous": [self._rs_info(rs) for rs in self.old_rs if num(rs, "status", "replicas")
                                          or num(rs, "spec", "replicas")]}
            self.created_current = max(self.created_current, num(cur, "status", "replicas"))
        progressing = cond(w, "Progressing")
        self.paused = bool(get(w, "spec", "paused")) or text(progressing, "reason") == "DeploymentPaused"
        # Fact: pkg/controller/deployment/util/deployment_util.go: Progressing=False with
        # reason ProgressDeadlineExceeded, 'ReplicaSet "%s" has timed out progressing.'
        self.deadline_exceeded = (text(progressing, "status") == "False"
                                  and text(progressing, "reason") == "ProgressDeadlineExceeded")
        gen, seen = num(w, "metadata", "generation"), num(w, "status", "observedGeneration")
        r = self.replicas
        # kubectl rollout status's test (pkg/kubectl/polymorphichelpers/rollout_status.go)
        self.settled = seen >= gen and r["updated"] >= desired and r["current"] <= r["updated"]
        self.complete = self.settled and r["available"] >= r["updated"]
        self.ready, self.desired = r["ready"], desired

    def _replicaset(self, replicasets, pods):
        w = self.w
        self.current_rs = w
        self.current_pods = [p for p in pods if same_ns(p, self.ns) and owned_by(p, w)]
        desired = num(w, "spec", "replicas", default=1)
        self.replicas = {"desired": desired, "current": num(w, "status", "replicas"),
                         "ready": num(w, "status", "readyReplicas"), "available": num(w, "status", "availableReplicas")}
        self.revision = {"current": self._rs_info(w), "previous": []}
        self.created_current = self.replicas["current"]
        self.settled = self.replicas["current"] == desired
        self.complete = self.settled and self.replicas["ready"] >= desired
        self.ready, self.desired = self.replicas["ready"], desired

    def _statefulset(self, replicasets, pods):
        w = self.w
        update = text(w, "status", "updateRevision")
        current = text(w, "status", "currentRevision")
        for p in pods:
            if not (same_ns(p, self.ns) and owned_by(p, w)):
                continue
            h = text(p, "metadata", "labels", "controller-revision-hash")
            (self.old_pods if update and h and h != update else self.current_pods).append(p)
        desired = num(w, "spec", "replicas", default=1)
        st = lambda *k: num(w, "status", *k)  # noqa: E731
        self.replicas = {"desired": desired, "current": st("replicas"), "updated": st("updatedReplicas"),
                         "ready": st("readyReplicas"), "available": st("availableReplicas")}
        self.revision = {"current": {"name": update or None, "replicas": st("updatedReplicas")},
                         "previous": ([{"name": current, "replicas": st("currentReplicas")}]
                                      if current and update and current != update else [])}
        self.created_current = max(len(self.current_pods), st("replicas") if not update or update == current else 0)
        gen, seen = num(w, "metadata", "generation"), st("observedGeneration")
        self.settled = (seen >= gen and st("replicas") == desired
                        and (not update or update == current or st("updatedReplicas") >= desired))
        self.complete = self.settled and st("readyReplicas") >= desired
        self.ready, self.desired = st("readyReplicas"), desired

    def _daemonset(self, replicasets, pods):
        w = self.w
        gen = text(w, "metadata", "generation")
        for p in pods:
            if not (same_ns(p, self.ns) and owned_by(p, w)):
                continue
            g = text(p, "metadata", "labels", "pod-template-generation")
            (self.old_pods if gen and g and g != gen else self.current_pods).append(p)
        st = lambda *k: num(w, "status", *k)  # noqa: E731
        desired = st("desiredNumberScheduled")
        self.replicas = {"desired": desired, "current": st("currentNumberScheduled"),
                         "updated": st("updatedNumberScheduled"), "ready": st("numberReady"),
                         "available": st("numberAvailable"), "unavailable": st("numberUnavailable"),
                         "misscheduled": st("numberMisscheduled")}
        self.revision = {"current": {"generation": num(w, "metadata", "generation")}, "previous": []}
        self.created_current = st("updatedNumberScheduled") if st("updatedNumberScheduled") else st("currentNumberScheduled")
        seen = st("observedGeneration")
        self.settled = (seen >= num(w, "metadata", "generation") and st("updatedNumberScheduled") >= desired
                        and st("currentNumberScheduled") >= desired)
        self.complete = self.settled and st("numberAvailable") >= desired
        self.ready, self.desired = st("numberReady"), desired

    def _job(self, replicasets, pods):
        w = self.w
        self.current_pods = [p for p in pods if same_ns(p, self.ns) and owned_by(p, w)]
        st = lambda *k: num(w, "status", *k)  # noqa: E731
        completions = integer(w, "spec", "completions", default=None)
        self.replicas = {"completions": completions, "parallelism": num(w, "spec", "parallelism", default=1),
                         "active": st("active"), "ready": st("ready"), "succeeded": st("succeeded"),
                         "failed": st("failed"), "backoffLimit": integer(w, "spec", "backoffLimit", default=None)}
        self.created_current = st("active")
        self.suspended = bool(get(w, "spec", "suspend"))
        # Fact: pkg/controller/job/job_controller.go: Failed=True with reason BackoffLimitExceeded
        # ("Job has reached the specified backoff limit"), DeadlineExceeded ("Job was active
        # longer than specified deadline"), PodFailurePolicy (the matching rule's message),
        # MaxFailedIndexesExceeded; since 1.31 FailureTarget comes first, Complete after
        # SuccessCriteriaMet.
        for ctype in ("Failed", "FailureTarget"):
            c = cond(w, ctype)
            if text(c, "status") == "True":
                self.failed = c
                break
        done = cond(w, "Complete")
        self.complete = text(done, "status") == "True" or text(cond(w, "SuccessCriteriaMet"), "status") == "True"
        self.ready, self.desired = st("ready"), completions or 1

    # shared -----------------------------------------------------------------------------

    def _rs_info(self, rs: dict) -> dict:
        return {"name": text(rs, "metadata", "name"), "revision": revision_number(rs) or None,
                "replicas": num(rs, "status", "replicas"), "ready": num(rs, "status", "readyReplicas"),
                "available": num(rs, "status", "availableReplicas"),
                "createdAt": text(rs, "metadata", "creationTimestamp") or None}

    def old_serving(self) -> int:
        """Pods of earlier revisions that are still ready (serving while the new one fails)."""
        if self.old_rs:
            return sum(num(rs, "status", "readyReplicas") for rs in self.old_rs)
        n = 0
        for p in self.old_pods:
            ready = next((c for c in dicts(p, "status", "conditions") if c.get("type") == "Ready"), {})
            n += text(ready, "status") == "True"
        return n

    def waited(self) -> float | None:
        """Seconds since the current revision started (its ReplicaSet, else the newest of the
        current pods and the workload)."""
        times = [t for t in ([created_at(self.current_rs)] if self.current_rs is not None else []) if t]
        times += [t for t in (created_at(p) for p in self.current_pods) if t]
        if not times:
            times = [t for t in (created_at(self.w),) if t]
        if not times or self.now is None:
            return None
        return (self.now - max(times)).total_seconds()

    def past_deadline(self) -> bool:
        if self.kind == "Deployment":
            return self.deadline_exceeded
        if self.kind in ("Job",) or self.complete or self.settled:
            return False  # settled: no rollout under way, its pods' own verdicts say the rest
        waited = self.waited()
        return waited is not None and waited > DEFAULT_PROGRESS_DEADLINE



# each kind's reading of its status (a CronJob is judged by its latest Job)
_BY_KIND = {"Deployment": Shape._deployment, "ReplicaSet": Shape._replicaset, "StatefulSet": Shape._statefulset,
            "DaemonSet": Shape._daemonset, "Job": Shape._job}
