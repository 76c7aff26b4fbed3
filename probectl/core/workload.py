"""Why is this rollout stuck? A workload, its ReplicaSets (revisions), their events and the
pods of the current revision -> one WorkloadDiagnosis.

Pure: raw dicts in (the API's or kubectl's), a frozen record out. The pods' verdicts come
from the pod engine (probectl.core.diagnose.diagnose), never from a copy of its rules;
this module adds what lives in no pod: the controller's FailedCreate (quota, PodSecurity,
an admission webhook, a missing service account), the Deployment's and the Job's
conditions, which revision is current and whether old pods still serve.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from probectl.core import events as ev
from probectl.core.model import (
    SEVERITY,
    Cause,
    Confidence,
    Diagnosis,
    EventRecord,
    PodGroup,
    Severity,
    WorkloadDiagnosis,
)
from probectl.core.objects import dicts, get, human_duration, integer, parse_time, text
from probectl.core.refusals import refusal_kind, refusal_phrase, refusal_steps, strip_prefix

# kubectl's spellings (resource, plural, short name, resource.group) -> kind
KINDS: dict[str, str] = {}
for _kind, _names, _group in (
    ("Deployment", ("deployment", "deployments", "deploy"), "apps"),
    ("StatefulSet", ("statefulset", "statefulsets", "sts"), "apps"),
    ("DaemonSet", ("daemonset", "daemonsets", "ds"), "apps"),
    ("ReplicaSet", ("replicaset", "replicasets", "rs"), "apps"),
    ("Job", ("job", "jobs"), "batch"),
    ("CronJob", ("cronjob", "cronjobs", "cj"), "batch"),
):
    for _n in _names:
        KINDS[_n] = _kind
        KINDS[f"{_n}.{_group}"] = _kind
        KINDS[f"{_n}.{_group}/v1"] = _kind

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")
# Fact: kube-controller-manager's default progressDeadlineSeconds for a Deployment
# (k8s.io/api apps/v1 DeploymentSpec: "Defaults to 600s"); StatefulSets and DaemonSets
# have none, so the same span is used for them.
DEFAULT_PROGRESS_DEADLINE = 600
REVISION = "deployment.kubernetes.io/revision"
SHOW_PODS = 5


def parse_ref(ref: str) -> tuple[str, str] | None:
    """`deploy/web`, `deployment.apps/web`, `sts/db`, `cj/nightly` -> (kind, name); None when
    `ref` names no workload kind (a pod, or a bare name)."""
    kind, sep, name = ref.partition("/")
    if not sep:
        return None
    k = KINDS.get(kind.lower())
    return (k, name) if k and name else None


def compact_workload(obj: dict, kind: str = "") -> dict:
    """What the verdict reads of a workload, without its pod template (most of its size):
    a scan keeps the workloads of its scope while the pods stream past."""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    keep_meta = ("name", "namespace", "uid", "generation", "creationTimestamp", "ownerReferences", "labels")
    m = {k: meta[k] for k in keep_meta if k in meta}
    rev = get(meta, "annotations", REVISION)
    if rev is not None:
        m["annotations"] = {REVISION: rev}
    return {"apiVersion": obj.get("apiVersion"), "kind": text(obj, "kind") or kind, "metadata": m,
            "spec": {k: v for k, v in spec.items() if k not in ("template", "jobTemplate")},
            "status": obj.get("status") if isinstance(obj.get("status"), dict) else {}}


# --------------------------------------------------------------------------- small helpers


def _owned_by(obj: dict, owner: dict) -> bool:
    uid = text(owner, "metadata", "uid")
    for ref in dicts(obj, "metadata", "ownerReferences"):
        if uid and text(ref, "uid"):
            if text(ref, "uid") == uid:
                return True
        elif text(ref, "kind") == text(owner, "kind") and text(ref, "name") == text(owner, "metadata", "name"):
            return True
    return False


def _same_ns(obj: dict, ns: str) -> bool:
    return (text(obj, "metadata", "namespace") or "default") == ns


def _cond(obj: dict, ctype: str) -> dict:
    return next((c for c in dicts(obj, "status", "conditions") if c.get("type") == ctype), {})


def _conditions(obj: dict) -> tuple[dict, ...]:
    keep = ("type", "status", "reason", "message", "lastUpdateTime", "lastTransitionTime")
    return tuple({k: c.get(k) for k in keep if c.get(k) is not None} for c in dicts(obj, "status", "conditions"))


def _quote(c: dict) -> str:
    msg = text(c, "message")
    return f"{text(c, 'type')}={text(c, 'status')} {text(c, 'reason')}" + (f': "{msg}"' if msg else "")


def _revision(rs: dict) -> int:
    try:
        return int(text(rs, "metadata", "annotations", REVISION) or 0)
    except ValueError:
        return 0


def _created(obj: dict) -> datetime | None:
    return parse_time(get(obj, "metadata", "creationTimestamp"))


def _int(obj: dict, *path, default: int = 0) -> int:
    v = integer(obj, *path, default=None)
    return default if v is None else v


def _pods(n: int) -> str:
    return f"{n} pod{'s' if n != 1 else ''}"


def group_pods(diagnoses: Iterable[Diagnosis]) -> list[PodGroup]:
    """Troubled pods grouped by cause, worst first (severity, then how many); each group's
    representative is the pod that shows it best (a crash line, then the most restarts)."""
    acc: dict[Cause, list[Diagnosis]] = {}
    for d in diagnoses:
        if d.severity is not Severity.OK:
            acc.setdefault(d.cause, []).append(d)
    out = []
    for cause, ds in acc.items():
        def weight(d: Diagnosis):
            crash = any(c.crash is not None for c in d.containers if c.name == d.culprit)
            return (-int(crash), -sum(c.restart_count for c in d.containers), d.pod.name)

        ds.sort(key=weight)
        severity = max((d.severity for d in ds), key=lambda s: s.rank)
        out.append(PodGroup(cause, severity, len(ds), ds[0], tuple(sorted(d.pod.name for d in ds)[:SHOW_PODS])))
    out.sort(key=lambda g: (-g.severity.rank, -g.count, g.cause.value))
    return out


# --------------------------------------------------------------------------- the workload's shape


class _Shape:
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
        getattr(self, "_" + kind.lower())(replicasets, pods)

    # each kind ------------------------------------------------------------------------

    def _deployment(self, replicasets, pods):
        w = self.w
        mine = [rs for rs in replicasets if _same_ns(rs, self.ns) and _owned_by(rs, w)]
        want = text(w, "metadata", "annotations", REVISION)
        cur = next((rs for rs in mine if want and text(rs, "metadata", "annotations", REVISION) == want), None)
        if cur is None and mine:
            cur = max(mine, key=lambda rs: (_revision(rs), text(rs, "metadata", "creationTimestamp")))
        self.current_rs = cur
        self.old_rs = sorted((rs for rs in mine if rs is not cur), key=_revision, reverse=True)
        self.objects |= {("ReplicaSet", text(rs, "metadata", "name")) for rs in mine}
        if cur is None:  # no ReplicaSets at hand (a scan): the conditions name the new one
            m = re.search(r'ReplicaSet "([^"]+)"', text(_cond(w, "Progressing"), "message"))
            if m:
                self.objects.add(("ReplicaSet", m.group(1)))
                self.current_name = m.group(1)
        for p in pods:
            if not _same_ns(p, self.ns):
                continue
            if cur is not None and _owned_by(p, cur):
                self.current_pods.append(p)
            elif any(_owned_by(p, rs) for rs in self.old_rs):
                self.old_pods.append(p)
        desired = _int(w, "spec", "replicas", default=1)
        st = lambda *k: _int(w, "status", *k)  # noqa: E731
        self.replicas = {"desired": desired, "current": st("replicas"), "updated": st("updatedReplicas"),
                         "ready": st("readyReplicas"), "available": st("availableReplicas"),
                         "unavailable": st("unavailableReplicas")}
        self.created_current = self.replicas["updated"]
        if cur is not None:
            self.revision = {"current": self._rs_info(cur),
                             "previous": [self._rs_info(rs) for rs in self.old_rs if _int(rs, "status", "replicas")
                                          or _int(rs, "spec", "replicas")]}
            self.created_current = max(self.created_current, _int(cur, "status", "replicas"))
        progressing = _cond(w, "Progressing")
        self.paused = bool(get(w, "spec", "paused")) or text(progressing, "reason") == "DeploymentPaused"
        # Fact: pkg/controller/deployment/util/deployment_util.go: Progressing=False with
        # reason ProgressDeadlineExceeded, 'ReplicaSet "%s" has timed out progressing.'
        self.deadline_exceeded = (text(progressing, "status") == "False"
                                  and text(progressing, "reason") == "ProgressDeadlineExceeded")
        gen, seen = _int(w, "metadata", "generation"), _int(w, "status", "observedGeneration")
        r = self.replicas
        # kubectl rollout status's test (pkg/kubectl/polymorphichelpers/rollout_status.go)
        self.settled = seen >= gen and r["updated"] >= desired and r["current"] <= r["updated"]
        self.complete = self.settled and r["available"] >= r["updated"]
        self.ready, self.desired = r["ready"], desired

    def _replicaset(self, replicasets, pods):
        w = self.w
        self.current_rs = w
        self.current_pods = [p for p in pods if _same_ns(p, self.ns) and _owned_by(p, w)]
        desired = _int(w, "spec", "replicas", default=1)
        self.replicas = {"desired": desired, "current": _int(w, "status", "replicas"),
                         "ready": _int(w, "status", "readyReplicas"), "available": _int(w, "status", "availableReplicas")}
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
            if not (_same_ns(p, self.ns) and _owned_by(p, w)):
                continue
            h = text(p, "metadata", "labels", "controller-revision-hash")
            (self.old_pods if update and h and h != update else self.current_pods).append(p)
        desired = _int(w, "spec", "replicas", default=1)
        st = lambda *k: _int(w, "status", *k)  # noqa: E731
        self.replicas = {"desired": desired, "current": st("replicas"), "updated": st("updatedReplicas"),
                         "ready": st("readyReplicas"), "available": st("availableReplicas")}
        self.revision = {"current": {"name": update or None, "replicas": st("updatedReplicas")},
                         "previous": ([{"name": current, "replicas": st("currentReplicas")}]
                                      if current and update and current != update else [])}
        self.created_current = max(len(self.current_pods), st("replicas") if not update or update == current else 0)
        gen, seen = _int(w, "metadata", "generation"), st("observedGeneration")
        self.settled = (seen >= gen and st("replicas") == desired
                        and (not update or update == current or st("updatedReplicas") >= desired))
        self.complete = self.settled and st("readyReplicas") >= desired
        self.ready, self.desired = st("readyReplicas"), desired

    def _daemonset(self, replicasets, pods):
        w = self.w
        gen = text(w, "metadata", "generation")
        for p in pods:
            if not (_same_ns(p, self.ns) and _owned_by(p, w)):
                continue
            g = text(p, "metadata", "labels", "pod-template-generation")
            (self.old_pods if gen and g and g != gen else self.current_pods).append(p)
        st = lambda *k: _int(w, "status", *k)  # noqa: E731
        desired = st("desiredNumberScheduled")
        self.replicas = {"desired": desired, "current": st("currentNumberScheduled"),
                         "updated": st("updatedNumberScheduled"), "ready": st("numberReady"),
                         "available": st("numberAvailable"), "unavailable": st("numberUnavailable"),
                         "misscheduled": st("numberMisscheduled")}
        self.revision = {"current": {"generation": _int(w, "metadata", "generation")}, "previous": []}
        self.created_current = st("updatedNumberScheduled") if st("updatedNumberScheduled") else st("currentNumberScheduled")
        seen = st("observedGeneration")
        self.settled = (seen >= _int(w, "metadata", "generation") and st("updatedNumberScheduled") >= desired
                        and st("currentNumberScheduled") >= desired)
        self.complete = self.settled and st("numberAvailable") >= desired
        self.ready, self.desired = st("numberReady"), desired

    def _job(self, replicasets, pods):
        w = self.w
        self.current_pods = [p for p in pods if _same_ns(p, self.ns) and _owned_by(p, w)]
        st = lambda *k: _int(w, "status", *k)  # noqa: E731
        completions = integer(w, "spec", "completions", default=None)
        self.replicas = {"completions": completions, "parallelism": _int(w, "spec", "parallelism", default=1),
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
            c = _cond(w, ctype)
            if text(c, "status") == "True":
                self.failed = c
                break
        done = _cond(w, "Complete")
        self.complete = text(done, "status") == "True" or text(_cond(w, "SuccessCriteriaMet"), "status") == "True"
        self.ready, self.desired = st("ready"), completions or 1

    # shared -----------------------------------------------------------------------------

    def _rs_info(self, rs: dict) -> dict:
        return {"name": text(rs, "metadata", "name"), "revision": _revision(rs) or None,
                "replicas": _int(rs, "status", "replicas"), "ready": _int(rs, "status", "readyReplicas"),
                "available": _int(rs, "status", "availableReplicas"),
                "createdAt": text(rs, "metadata", "creationTimestamp") or None}

    def old_serving(self) -> int:
        """Pods of earlier revisions that are still ready (serving while the new one fails)."""
        if self.old_rs:
            return sum(_int(rs, "status", "readyReplicas") for rs in self.old_rs)
        n = 0
        for p in self.old_pods:
            ready = next((c for c in dicts(p, "status", "conditions") if c.get("type") == "Ready"), {})
            n += text(ready, "status") == "True"
        return n

    def waited(self) -> float | None:
        """Seconds since the current revision started (its ReplicaSet, else the newest of the
        current pods and the workload)."""
        times = [t for t in ([_created(self.current_rs)] if self.current_rs is not None else []) if t]
        times += [t for t in (_created(p) for p in self.current_pods) if t]
        if not times:
            times = [t for t in (_created(self.w),) if t]
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


# --------------------------------------------------------------------------- the verdict


def latest_job(cronjob: dict, jobs: list[dict]) -> dict | None:
    """The CronJob's most recent Job (by creation time, then name)."""
    ns = text(cronjob, "metadata", "namespace") or "default"
    mine = [j for j in jobs if _same_ns(j, ns) and _owned_by(j, cronjob)]
    if not mine:
        return None
    return max(mine, key=lambda j: (text(j, "metadata", "creationTimestamp"), text(j, "metadata", "name")))


def diagnose_workload(workload: dict, *, replicasets: Iterable[dict] = (), pods: Iterable[dict] = (),
                      events: Iterable = (), jobs: Iterable[dict] = (), now: datetime | None = None,
                      recent: timedelta | None = None, events_note: str | None = None, clock_known: bool = True,
                      pod_groups: list[PodGroup] | None = None, pod_diagnoses: dict | None = None) -> WorkloadDiagnosis:
    """The rollout's verdict. `pods` are raw pods (the current revision's are picked and
    judged by the pod engine); `pod_groups`, when given, replaces that judgement (a scan
    passes the groups of the troubled pods it has already judged). `pod_diagnoses` maps a
    pod's uid (or namespace/name) to its Diagnosis when the caller has one already (one
    with log lines read, say)."""
    kind = text(workload, "kind")
    if kind not in WORKLOAD_KINDS:
        raise ValueError(f"not a workload kind: {kind or '(none)'}")
    raw_events = [e for e in (ev.normalise(x) if not isinstance(x, EventRecord) else x for x in events) if e is not None]
    if kind == "CronJob":
        return _cronjob(workload, list(jobs), list(pods), raw_events, now, recent, events_note, clock_known,
                        pod_groups, pod_diagnoses)
    replicasets, pods = list(replicasets), list(pods)
    shape = _Shape(workload, kind, replicasets, pods, now)
    mine = [e for e in raw_events if (e.kind, e.name) in shape.objects and (not e.namespace or e.namespace == shape.ns)]
    mine.sort(key=lambda e: (e.last or e.first or datetime.min.replace(tzinfo=now.tzinfo if now else None)))
    if pod_groups is None:
        pod_groups = group_pods(_judge(shape.current_pods, raw_events, now, recent, events_note, clock_known,
                                       pod_diagnoses))
    return _verdict(shape, mine, pod_groups, now, events_note)


def _judge(pods, events, now, recent, events_note, clock_known, known) -> list[Diagnosis]:
    from probectl.core.diagnose import diagnose

    grouped = ev.by_pod(events)
    out = []
    for p in pods:
        key = text(p, "metadata", "uid") or f"{text(p, 'metadata', 'namespace') or 'default'}/{text(p, 'metadata', 'name')}"
        d = (known or {}).get(key)
        if d is None:
            d = diagnose(p, ev.for_pod_key(grouped, p), now, events_note=events_note, recent=recent,
                         clock_known=clock_known)
        out.append(d)
    return out


def _cronjob(cj, jobs, pods, events, now, recent, events_note, clock_known, pod_groups, known) -> WorkloadDiagnosis:
    import dataclasses

    ns, name = text(cj, "metadata", "namespace") or "default", text(cj, "metadata", "name")
    job = latest_job(cj, jobs)
    if job is None:
        last = text(cj, "status", "lastScheduleTime")
        suspended = bool(get(cj, "spec", "suspend"))
        summary = (f"CronJob {name} is suspended" if suspended else f"CronJob {name} has no Job")
        summary += f" (last scheduled {last})." if last else " (it has not been scheduled, or its Jobs are deleted)."
        return WorkloadDiagnosis("CronJob", ns, name, Cause.HEALTHY, Confidence.MEDIUM, Severity.OK, summary,
                                 "suspended" if suspended else "no-job", uid=text(cj, "metadata", "uid"),
                                 conditions=(), evidence=(f'schedule "{text(cj, "spec", "schedule")}"',),
                                 next_steps=(f"kubectl get jobs -n {ns}",), as_of=now)
    d = diagnose_workload(job, pods=pods, events=events, now=now, recent=recent, events_note=events_note,
                          clock_known=clock_known, pod_groups=pod_groups, pod_diagnoses=known)
    summary = f"CronJob {name}'s latest Job {d.name}: {d.summary}"
    return dataclasses.replace(d, via=("CronJob", name), summary=summary)


def _verdict(s: _Shape, wevents: list[EventRecord], groups: list[PodGroup], now, events_note) -> WorkloadDiagnosis:
    kind, ns, name = s.kind, s.ns, s.name
    evidence: list[str] = []
    steps: list[str] = []
    warnings: list[str] = [events_note] if events_note else []
    conditions = _conditions(s.w)
    for c in conditions:
        if c.get("type") == "ReplicaFailure" and c.get("status") == "True":
            evidence.append(f"{kind} condition ReplicaFailure=True {text(c, 'reason')} (the same message)")
        elif c.get("type") in ("Progressing", "Available", "Failed", "FailureTarget", "Complete",
                               "SuccessCriteriaMet", "Suspended"):
            evidence.append(f"{kind} condition " + _quote(c))
    if s.current_rs is not None and kind == "Deployment":
        rf = _cond(s.current_rs, "ReplicaFailure")
        if text(rf, "status") == "True":
            evidence.append(f"ReplicaSet {text(s.current_rs, 'metadata', 'name')} condition ReplicaFailure=True "
                            f"{text(rf, 'reason')} (the same message)")

    # the controller's refusal: a ReplicaFailure condition, else its FailedCreate events
    refused = ""
    for obj in ([s.w] + ([s.current_rs] if s.current_rs is not None and s.current_rs is not s.w else [])):
        c = _cond(obj, "ReplicaFailure")
        if text(c, "status") == "True" and text(c, "reason") == "FailedCreate" and text(c, "message"):
            refused = text(c, "message")
    current_objects = {(kind, name)} | ({("ReplicaSet", text(s.current_rs, "metadata", "name"))}
                                        if s.current_rs is not None else set())
    if s.current_name:
        current_objects.add(("ReplicaSet", s.current_name))
    failed_creates = [e for e in wevents if e.reason == "FailedCreate" and (e.kind, e.name) in current_objects]
    if failed_creates:
        last = failed_creates[-1]
        refused = strip_prefix(last.message)
        times = f" ({last.count}x" + (f", last {human_duration((now - last.last).total_seconds())} ago" if now and last.last else "") + ")"
        evidence.append(f"{last.type} event FailedCreate on {last.kind} {last.name}{times} from "
                        f"{last.source or 'the controller'} (the same message)")
    if kind == "Job":  # a Job wants `parallelism` pods at a time until it completes or fails
        missing = 0 if (s.complete or s.failed or s.suspended) else max(
            0, (s.replicas.get("parallelism") or 1) - s.replicas.get("active", 0))
    else:
        missing = max(0, s.desired - s.created_current)
    refusal, refusal_name = refusal_kind(refused) if refused else ("", "")
    refusal_current = bool(refused) and missing > 0

    serving = s.old_serving()
    serving_note = ""
    if serving and kind in ("Deployment", "StatefulSet", "DaemonSet"):
        prev = s.revision.get("previous") or []
        which = f" (ReplicaSet {prev[0]['name']}, revision {prev[0]['revision']})" if prev and prev[0].get("revision") else ""
        serving_note = f" {_pods(serving)} of the previous revision{which} still serve{'s' if serving == 1 else ''}."
        evidence.append(f"{_pods(serving)} of the previous revision are ready and still serve traffic")

    r = s.replicas
    counts = (f"{r.get('ready', 0)} of {r.get('desired', 0)} replicas ready" if kind != "Job"
              else f"{r['active']} active, {r['succeeded']} succeeded, {r['failed']} failed")
    rev = s.revision.get("current") or {}
    rev_text = f"revision {rev['revision']} (ReplicaSet {rev['name']})" if rev.get("revision") else (
        f"revision {rev['name']}" if rev.get("name") and kind == "StatefulSet" else "the current revision")
    what = f"{kind} {name}"
    describe = f"kubectl describe {kind.lower()} {name} -n {ns}"
    trouble = [g for g in groups if g.severity is not Severity.OK]
    stuck = s.past_deadline()
    rollout = ("failed" if s.failed else "paused" if s.paused else "suspended" if s.suspended else
               "complete" if s.complete else "stuck" if stuck else "degraded" if s.settled else "progressing")
    if kind != "Job" and s.desired == 0 and not trouble:
        rollout = "scaled-to-zero"

    def done(cause, confidence, severity, summary, *, refusal_info=False):
        if not steps:
            steps.append(describe)
        return WorkloadDiagnosis(
            kind, ns, name, cause, confidence, severity, summary, rollout, uid=text(s.w, "metadata", "uid"),
            revision=s.revision, replicas=s.replicas, conditions=conditions, groups=tuple(groups),
            events=tuple(wevents[-20:]), evidence=tuple(evidence), next_steps=tuple(dict.fromkeys(steps)),
            warnings=tuple(warnings), refused=refused if refusal_info else "", refusal=refusal if refusal_info else "",
            as_of=now)

    # 1. a Job past its activeDeadlineSeconds: the Job's own verdict, whatever its pods say
    if kind == "Job" and s.failed and text(s.failed, "reason") == "DeadlineExceeded":
        deadline = integer(s.w, "spec", "activeDeadlineSeconds", default=None)
        summary = (f"Job {name} ran longer than its activeDeadlineSeconds"
                   + (f" ({deadline}s)" if deadline is not None else "") + f" and was stopped: {counts}.")
        steps += [describe, f"kubectl logs -n {ns} job/{name}"]
        return done(Cause.DEADLINE_EXCEEDED, Confidence.HIGH, Severity.CRITICAL, summary)

    # 2. the pods cannot be created, and no pod of the current revision explains more
    if refusal_current and not trouble:
        phrase = refusal_phrase(refusal, refusal_name)
        exist = (f"{s.created_current} of {s.desired} pods of {rev_text} exist" if kind != "Job"
                 else "no pod of it exists")
        summary = f"{what} cannot create its pods: {phrase}. {exist}, {counts}." + serving_note
        evidence.insert(0, f"the API server refused the controller's pod: {refused}")
        steps += refusal_steps(refusal, refusal_name, ns, refused)
        steps.append(f"kubectl get events -n {ns} --field-selector reason=FailedCreate")
        return done(Cause.CREATE_REFUSED, Confidence.HIGH, Severity.CRITICAL, summary, refusal_info=True)

    # 3. the current revision's pods fail: their cause, the representative's diagnosis embedded
    if trouble:
        g = trouble[0]
        rep = g.representative
        others = "; ".join(f"{x.count} {x.cause.value}" for x in trouble[1:])
        severity = g.severity
        if stuck or s.failed:
            severity = Severity.CRITICAL  # the rollout will not finish by itself
        state = {"failed": "has failed", "stuck": "is stuck", "paused": "is paused", "degraded": "runs degraded",
                 "progressing": "is still rolling out", "suspended": "is suspended"}.get(rollout, "is complete but unhealthy")
        summary = (f"{what} {state}: {_pods(g.count)} of {rev_text} "
                   f"{'fail' if g.count != 1 else 'fails'} with {g.cause.value}"
                   + (f" (also: {others})" if others else "") + f", {counts}. {rep.pod.name}: {rep.summary}"
                   + serving_note)
        if s.failed:
            evidence.append(f"Job condition {_quote(s.failed)}")
            if text(s.failed, "reason") == "PodFailurePolicy":
                evidence.append("the Job's podFailurePolicy ended it (spec.podFailurePolicy): retrying would not help")
        if refused:
            evidence.append(f"pod creations are also refused: {refused}")
        evidence.append(f"{rep.pod.name}: {rep.cause.value}: {rep.summary}")
        steps += list(rep.next_steps[:3]) + [describe]
        if kind == "Deployment" and serving:
            steps.append(f"kubectl rollout undo deployment/{name} -n {ns}   # back to the revision that serves")
        return done(g.cause, rep.confidence, severity, summary)

    # 4. a Job that failed with no pod left to say why
    if kind == "Job" and s.failed:
        reason, msg = text(s.failed, "reason"), text(s.failed, "message")
        summary = f"Job {name} failed ({reason}: {msg or 'no message'}); no pod of it is left to say why. {counts}."
        steps += [describe, f"kubectl get events -n {ns} --field-selector involvedObject.name={name}"]
        warnings.append("The Job's pods are gone (deleted, or garbage-collected): the verdict rests on its condition.")
        return done(Cause.UNKNOWN, Confidence.LOW, Severity.CRITICAL, summary)

    # 5. refused earlier, pods exist now: history
    if refused and not refusal_current:
        evidence.append(f"pod creations were refused earlier, now every pod exists: {refused}")

    if s.paused:
        summary = f"{what}'s rollout is paused (spec.paused): {counts}; resume it with kubectl rollout resume."
        steps += [f"kubectl rollout resume deployment/{name} -n {ns}"]
        return done(Cause.HEALTHY, Confidence.HIGH, Severity.OK, summary)
    if s.suspended:
        summary = f"Job {name} is suspended (spec.suspend): it creates no pods until resumed."
        return done(Cause.HEALTHY, Confidence.HIGH, Severity.OK, summary)
    if rollout == "scaled-to-zero":
        return done(Cause.HEALTHY, Confidence.HIGH, Severity.OK, f"{what} is scaled to zero replicas.")
    if s.complete:
        summary = (f"Job {name} completed: {counts}." if kind == "Job"
                   else f"{what}'s rollout is complete: {counts}, {rev_text} everywhere.")
        return done(Cause.COMPLETED if kind == "Job" else Cause.HEALTHY, Confidence.HIGH, Severity.OK, summary)
    if stuck:
        # past the deadline with no pod that explains it: say what was seen and what is missing
        summary = (f"{what} is stuck past its progress deadline: {counts}, and no pod of {rev_text} says why "
                   f"(events expired, or the pods are gone).{serving_note}")
        steps += [describe, f"kubectl get pods -n {ns} -o wide", f"kubectl get events -n {ns} --sort-by=.lastTimestamp"]
        return done(Cause.UNKNOWN, Confidence.LOW, Severity.CRITICAL, summary)
    waited = s.waited()
    since = f" for {human_duration(waited)}" if waited is not None else ""
    if rollout == "degraded":
        summary = f"{what} has every pod of {rev_text}, {counts}; none of them reports trouble (starting, or just restarted)."
    else:
        summary = f"{what}'s rollout is in progress{since}: {counts}; no pod of {rev_text} has trouble yet.{serving_note}"
    steps += [f"kubectl rollout status {kind.lower()}/{name} -n {ns}"] if kind != "Job" else [describe]
    return done(Cause.HEALTHY, Confidence.MEDIUM, Severity.OK, summary)


# --------------------------------------------------------------------------- scan's view


def is_finding(d: WorkloadDiagnosis) -> bool:
    """What a scan reports of a workload (its pods are findings of their own): pods that
    cannot be created, or a rollout past its progress deadline (or a failed Job's
    creations refused) with fewer ready replicas than desired."""
    if d.severity is Severity.OK:
        return False
    return d.cause is Cause.CREATE_REFUSED or d.rollout == "stuck"


def severity_of(cause: Cause) -> Severity:
    return SEVERITY[cause]


# --------------------------------------------------------------------------- scan's workload pass


def candidate(w: dict) -> bool:
    """Could this workload be a scan finding? A cheap look at its status, so that a scan
    keeps only the workloads that are short of ready replicas, or whose creations fail."""
    kind = text(w, "kind")
    if any(c.get("type") == "ReplicaFailure" and c.get("status") == "True" for c in dicts(w, "status", "conditions")):
        return True
    if kind == "Deployment":
        return _int(w, "status", "readyReplicas") < _int(w, "spec", "replicas", default=1) or any(
            c.get("reason") == "ProgressDeadlineExceeded" for c in dicts(w, "status", "conditions"))
    if kind in ("StatefulSet", "ReplicaSet"):
        return _int(w, "status", "readyReplicas") < _int(w, "spec", "replicas", default=1)
    if kind == "DaemonSet":
        return _int(w, "status", "numberReady") < _int(w, "status", "desiredNumberScheduled")
    if kind == "Job":
        done = any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
                   for c in dicts(w, "status", "conditions"))
        return not done and not get(w, "spec", "suspend")
    return False


class PodTally:
    """The troubled pods a scan has judged, by owner workload and cause: a count and one
    representative each (memory grows with the groups, not the pods)."""

    def __init__(self) -> None:
        self._by: dict[tuple, dict[Cause, list]] = {}

    def add(self, d: Diagnosis) -> None:
        if d.severity is Severity.OK or not d.pod.owner_kind:
            return
        causes = self._by.setdefault((d.pod.namespace, d.pod.owner_kind, d.pod.owner_name), {})
        entry = causes.get(d.cause)
        if entry is None:
            causes[d.cause] = [1, d, [d.pod.name]]
            return
        entry[0] += 1
        if len(entry[2]) < SHOW_PODS:
            entry[2].append(d.pod.name)
        if d.severity.rank > entry[1].severity.rank:
            entry[1] = d

    def groups(self, kind: str, namespace: str, name: str) -> list[PodGroup]:
        causes = self._by.get((namespace, kind, name), {})
        out = [PodGroup(cause, rep.severity, n, rep, tuple(sorted(names))) for cause, (n, rep, names) in causes.items()]
        out.sort(key=lambda g: (-g.severity.rank, -g.count, g.cause.value))
        return out


def judge_scope(workloads: Iterable[dict], events: Iterable, tally: PodTally, now: datetime | None) -> list[WorkloadDiagnosis]:
    """The workload findings of a scan: each candidate workload judged with the controllers'
    FailedCreate events and the pod groups the scan found for it; only the findings
    (is_finding) are returned, worst first."""
    records = [e for e in (ev.normalise(x) if not isinstance(x, EventRecord) else x for x in events) if e is not None]
    out = []
    for w in workloads:
        kind, ns, name = text(w, "kind"), text(w, "metadata", "namespace") or "default", text(w, "metadata", "name")
        if kind not in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
            continue
        d = diagnose_workload(w, events=[e for e in records if e.namespace in ("", ns)], now=now,
                              pod_groups=tally.groups(kind, ns, name))
        if is_finding(d):
            out.append(d)
    out.sort(key=lambda d: (-d.severity.rank, d.namespace, d.kind, d.name))
    return out
