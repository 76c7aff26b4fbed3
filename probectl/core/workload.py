"""Why is this rollout stuck? A workload, its ReplicaSets (revisions), their events and the
pods of the current revision -> one WorkloadDiagnosis.

Pure: raw dicts in (the API's or kubectl's), a frozen record out. The pods' verdicts come
from the pod engine (probectl.core.diagnose.diagnose), never from a copy of its rules;
this module adds what lives in no pod: the controller's FailedCreate (quota, PodSecurity,
an admission webhook, a missing service account), the Deployment's and the Job's
conditions, which revision is current and whether old pods still serve.
"""

from __future__ import annotations

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
from probectl.core.objects import dicts, get, text
from probectl.core.refusals import refusal_kind, refusal_phrase, refusal_steps, strip_prefix
from probectl.core.workload_rules import EVENT_REASONS, WORKLOAD, verdict
from probectl.core.workload_shape import (
    DEFAULT_PROGRESS_DEADLINE,
    REVISION,
    Shape,
    num,
    owned_by,
    same_ns,
)

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

# the public names of the workload verdict, wherever they live (cli/, render/, mcp_server
# and the tests import them from here)
__all__ = [
    "DEFAULT_PROGRESS_DEADLINE", "EVENT_REASONS", "KINDS", "REVISION", "SHOW_PODS", "WORKLOAD", "WORKLOAD_KINDS", "PodTally",
    "candidate", "compact_workload", "diagnose_workload", "group_pods", "is_finding", "judge_scope", "latest_job",
    "parse_ref", "refusal_kind", "refusal_phrase", "refusal_steps", "severity_of", "strip_prefix",
]

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")
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


# --------------------------------------------------------------------------- the verdict


def latest_job(cronjob: dict, jobs: list[dict]) -> dict | None:
    """The CronJob's most recent Job (by creation time, then name)."""
    ns = text(cronjob, "metadata", "namespace") or "default"
    mine = [j for j in jobs if same_ns(j, ns) and owned_by(j, cronjob)]
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
    shape = Shape(workload, kind, replicasets, pods, now)
    mine = [e for e in raw_events if (e.kind, e.name) in shape.objects and (not e.namespace or e.namespace == shape.ns)]
    mine.sort(key=lambda e: (e.last or e.first or datetime.min.replace(tzinfo=now.tzinfo if now else None)))
    if pod_groups is None:
        pod_groups = group_pods(_judge(shape.current_pods, raw_events, now, recent, events_note, clock_known,
                                       pod_diagnoses))
    return verdict(shape, mine, pod_groups, now, events_note)


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
        return num(w, "status", "readyReplicas") < num(w, "spec", "replicas", default=1) or any(
            c.get("reason") == "ProgressDeadlineExceeded" for c in dicts(w, "status", "conditions"))
    if kind in ("StatefulSet", "ReplicaSet"):
        return num(w, "status", "readyReplicas") < num(w, "spec", "replicas", default=1)
    if kind == "DaemonSet":
        return num(w, "status", "numberReady") < num(w, "status", "desiredNumberScheduled")
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
