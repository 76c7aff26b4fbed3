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
from probectl.core.objects import dicts, get, human_duration, integer, text
from probectl.core.refusals import refusal_kind, refusal_phrase, refusal_steps, strip_prefix
from probectl.core.workload_shape import (
    REVISION,
    Shape,
    cond,
    conditions_of,
    num,
    owned_by,
    quote,
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


def _verdict(s: Shape, wevents: list[EventRecord], groups: list[PodGroup], now, events_note) -> WorkloadDiagnosis:
    kind, ns, name = s.kind, s.ns, s.name
    evidence: list[str] = []
    steps: list[str] = []
    warnings: list[str] = [events_note] if events_note else []
    conditions = conditions_of(s.w)
    for c in conditions:
        if c.get("type") == "ReplicaFailure" and c.get("status") == "True":
            evidence.append(f"{kind} condition ReplicaFailure=True {text(c, 'reason')} (the same message)")
        elif c.get("type") in ("Progressing", "Available", "Failed", "FailureTarget", "Complete",
                               "SuccessCriteriaMet", "Suspended"):
            evidence.append(f"{kind} condition " + quote(c))
    if s.current_rs is not None and kind == "Deployment":
        rf = cond(s.current_rs, "ReplicaFailure")
        if text(rf, "status") == "True":
            evidence.append(f"ReplicaSet {text(s.current_rs, 'metadata', 'name')} condition ReplicaFailure=True "
                            f"{text(rf, 'reason')} (the same message)")

    # the controller's refusal: a ReplicaFailure condition, else its FailedCreate events
    refused = ""
    for obj in ([s.w] + ([s.current_rs] if s.current_rs is not None and s.current_rs is not s.w else [])):
        c = cond(obj, "ReplicaFailure")
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
            evidence.append(f"Job condition {quote(s.failed)}")
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
