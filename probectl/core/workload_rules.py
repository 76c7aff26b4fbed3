"""The workload verdict as rules: D01-D11, tried in the order of WORKLOAD (the order of
authority, top to bottom); the first that decides wins.

The facts every rule reads are computed once (build_facts): the workload's evidence lines
(its conditions, its current ReplicaSet's ReplicaFailure, the controller's last
FailedCreate event, the old revision's pods that still serve), the admission refusal,
how many pods are missing, the counts, the rollout state and the current revision's
troubled pod groups (judged by the pod engine, never here). A rule is a small pure
function of those facts returning a WorkloadVerdict or None; conclude() turns the
winner into the WorkloadDiagnosis. Same registry as the pod rules (core/rules/base.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from probectl.core.model import (
    Cause,
    Confidence,
    EventRecord,
    PodGroup,
    Severity,
    WorkloadDiagnosis,
)
from probectl.core.objects import human_duration, integer, text
from probectl.core.refusals import refusal_kind, refusal_phrase, refusal_steps, strip_prefix
from probectl.core.rules.base import Rule, events, first, rule
from probectl.core.workload_shape import Shape, cond, conditions_of, quote

# the conditions a workload's evidence quotes (ReplicaFailure is quoted apart: its message
# is the refusal's, said once)
QUOTED_CONDITIONS = ("Progressing", "Available", "Failed", "FailureTarget", "Complete", "SuccessCriteriaMet",
                     "Suspended")


@dataclass(frozen=True)
class WorkloadVerdict:
    """A workload rule's decision; conclude() adds what every verdict shares."""

    cause: Cause
    confidence: Confidence
    severity: Severity
    summary: str
    lead: tuple[str, ...] = ()  # evidence said before the facts' own lines
    evidence: tuple[str, ...] = ()  # evidence said after them
    steps: tuple[str, ...] = ()  # none: `kubectl describe` the workload
    warnings: tuple[str, ...] = ()
    refusal_info: bool = False  # the verdict is the refusal: createRefused is filled in
    rule: str = ""


@dataclass(frozen=True)
class WorkloadFacts:
    """What the D rules read, computed once from the shape, the events and the pod groups."""

    shape: Shape
    now: object  # datetime | None
    events: tuple[EventRecord, ...]  # the workload's own events (and its ReplicaSets'), oldest first
    groups: tuple[PodGroup, ...]  # the current revision's pods, by cause, worst first
    trouble: tuple[PodGroup, ...]  # the groups that are not OK
    conditions: tuple[dict, ...]
    evidence: tuple[str, ...]  # conditions, ReplicaFailure, FailedCreate event, old pods serving
    warnings: tuple[str, ...]
    refused: str  # the admission error the controller quotes ("" when none)
    refusal: str  # its kind: quota | pod-security | webhook | service-account | limit-range | other
    refusal_name: str
    refusal_current: bool  # refused, and pods of the current revision are missing
    serving: int  # ready pods of earlier revisions
    serving_note: str  # " N pods of the previous revision (...) still serve." or ""
    counts: str  # "2 of 3 replicas ready" | "0 active, 0 succeeded, 1 failed"
    rev_text: str  # "revision 2 (ReplicaSet web-7c9d8f6b5)" | "the current revision"
    stuck: bool  # past the progress deadline
    rollout: str  # failed | paused | suspended | complete | stuck | degraded | progressing | scaled-to-zero

    @property
    def kind(self) -> str:
        return self.shape.kind

    @property
    def ns(self) -> str:
        return self.shape.ns

    @property
    def name(self) -> str:
        return self.shape.name

    @property
    def what(self) -> str:
        return f"{self.kind} {self.name}"

    @property
    def describe(self) -> str:
        return f"kubectl describe {self.kind.lower()} {self.name} -n {self.ns}"

    @property
    def earlier(self) -> tuple[str, ...]:
        """The refusal as history: pods were refused, every pod exists now."""
        if self.refused and not self.refusal_current:
            return (f"pod creations were refused earlier, now every pod exists: {self.refused}",)
        return ()


def pods_text(n: int) -> str:
    return f"{n} pod{'s' if n != 1 else ''}"


# --------------------------------------------------------------------------- the facts


def _condition_evidence(s: Shape, conditions: tuple[dict, ...]) -> list[str]:
    out = []
    for c in conditions:
        if c.get("type") == "ReplicaFailure" and c.get("status") == "True":
            out.append(f"{s.kind} condition ReplicaFailure=True {text(c, 'reason')} (the same message)")
        elif c.get("type") in QUOTED_CONDITIONS:
            out.append(f"{s.kind} condition " + quote(c))
    if s.current_rs is not None and s.kind == "Deployment":
        rf = cond(s.current_rs, "ReplicaFailure")
        if text(rf, "status") == "True":
            out.append(f"ReplicaSet {text(s.current_rs, 'metadata', 'name')} condition ReplicaFailure=True "
                       f"{text(rf, 'reason')} (the same message)")
    return out


def _refused(s: Shape, wevents: list[EventRecord], now) -> tuple[str, list[str]]:
    """The controller's refusal: its last FailedCreate event on the current revision, else a
    ReplicaFailure condition; and the evidence line the event gives."""
    refused = ""
    for obj in ([s.w] + ([s.current_rs] if s.current_rs is not None and s.current_rs is not s.w else [])):
        c = cond(obj, "ReplicaFailure")
        if text(c, "status") == "True" and text(c, "reason") == "FailedCreate" and text(c, "message"):
            refused = text(c, "message")
    current = {(s.kind, s.name)} | ({("ReplicaSet", text(s.current_rs, "metadata", "name"))}
                                    if s.current_rs is not None else set())
    if s.current_name:
        current.add(("ReplicaSet", s.current_name))
    failed_creates = [e for e in wevents if e.reason == "FailedCreate" and (e.kind, e.name) in current]
    if not failed_creates:
        return refused, []
    last = failed_creates[-1]
    ago = f", last {human_duration((now - last.last).total_seconds())} ago" if now and last.last else ""
    line = (f"{last.type} event FailedCreate on {last.kind} {last.name} ({last.count}x{ago}) from "
            f"{last.source or 'the controller'} (the same message)")
    return strip_prefix(last.message), [line]


def _missing(s: Shape) -> int:
    """Pods of the current revision the controller should have created and has not."""
    if s.kind == "Job":  # a Job wants `parallelism` pods at a time until it completes or fails
        if s.complete or s.failed or s.suspended:
            return 0
        return max(0, (s.replicas.get("parallelism") or 1) - s.replicas.get("active", 0))
    return max(0, s.desired - s.created_current)


def _serving(s: Shape) -> tuple[int, str, list[str]]:
    serving = s.old_serving()
    if not (serving and s.kind in ("Deployment", "StatefulSet", "DaemonSet")):
        return serving, "", []
    prev = s.revision.get("previous") or []
    which = f" (ReplicaSet {prev[0]['name']}, revision {prev[0]['revision']})" if prev and prev[0].get("revision") else ""
    note = f" {pods_text(serving)} of the previous revision{which} still serve{'s' if serving == 1 else ''}."
    return serving, note, [f"{pods_text(serving)} of the previous revision are ready and still serve traffic"]


def _texts(s: Shape) -> tuple[str, str]:
    r = s.replicas
    counts = (f"{r.get('ready', 0)} of {r.get('desired', 0)} replicas ready" if s.kind != "Job"
              else f"{r['active']} active, {r['succeeded']} succeeded, {r['failed']} failed")
    rev = s.revision.get("current") or {}
    rev_text = f"revision {rev['revision']} (ReplicaSet {rev['name']})" if rev.get("revision") else (
        f"revision {rev['name']}" if rev.get("name") and s.kind == "StatefulSet" else "the current revision")
    return counts, rev_text


def _rollout(s: Shape, stuck: bool, trouble: list[PodGroup]) -> str:
    if s.kind != "Job" and s.desired == 0 and not trouble:
        return "scaled-to-zero"
    return ("failed" if s.failed else "paused" if s.paused else "suspended" if s.suspended else
            "complete" if s.complete else "stuck" if stuck else "degraded" if s.settled else "progressing")


def build_facts(s: Shape, wevents: list[EventRecord], groups: list[PodGroup], now, events_note) -> WorkloadFacts:
    conditions = conditions_of(s.w)
    refused, event_lines = _refused(s, wevents, now)
    refusal, refusal_name = refusal_kind(refused) if refused else ("", "")
    serving, serving_note, serving_lines = _serving(s)
    counts, rev_text = _texts(s)
    trouble = [g for g in groups if g.severity is not Severity.OK]
    stuck = s.past_deadline()
    return WorkloadFacts(
        shape=s, now=now, events=tuple(wevents), groups=tuple(groups), trouble=tuple(trouble),
        conditions=conditions, evidence=tuple(_condition_evidence(s, conditions) + event_lines + serving_lines),
        warnings=(events_note,) if events_note else (), refused=refused, refusal=refusal,
        refusal_name=refusal_name, refusal_current=bool(refused) and _missing(s) > 0, serving=serving,
        serving_note=serving_note, counts=counts, rev_text=rev_text, stuck=stuck,
        rollout=_rollout(s, stuck, trouble))


# --------------------------------------------------------------------------- the rules


@rule("D01", "job-deadline-exceeded", "condition:Failed", "condition:FailureTarget", "spec:activeDeadlineSeconds")
def job_deadline_exceeded(f: WorkloadFacts) -> WorkloadVerdict | None:
    """A Job past its activeDeadlineSeconds (Failed, reason DeadlineExceeded): the Job's own
    verdict, whatever its pods say."""
    failed = f.shape.failed
    if f.kind != "Job" or not failed or text(failed, "reason") != "DeadlineExceeded":
        return None
    deadline = integer(f.shape.w, "spec", "activeDeadlineSeconds", default=None)
    summary = (f"Job {f.name} ran longer than its activeDeadlineSeconds"
               + (f" ({deadline}s)" if deadline is not None else "") + f" and was stopped: {f.counts}.")
    return WorkloadVerdict(Cause.DEADLINE_EXCEEDED, Confidence.HIGH, Severity.CRITICAL, summary,
                           steps=(f.describe, f"kubectl logs -n {f.ns} job/{f.name}"))


@rule("D02", "create-refused", *events("FailedCreate"), "condition:ReplicaFailure", "status:replicas",
      "pods:current-revision")
def create_refused(f: WorkloadFacts) -> WorkloadVerdict | None:
    """The API server refuses the controller's pods (quota, PodSecurity, a webhook, a
    missing service account, a LimitRange), pods of the current revision are missing, and
    none of its pods that exist explains more."""
    if not f.refusal_current or f.trouble:
        return None
    s = f.shape
    exist = (f"{s.created_current} of {s.desired} pods of {f.rev_text} exist" if f.kind != "Job"
             else "no pod of it exists")
    summary = (f"{f.what} cannot create its pods: {refusal_phrase(f.refusal, f.refusal_name)}. {exist}, "
               f"{f.counts}." + f.serving_note)
    steps = (*refusal_steps(f.refusal, f.refusal_name, f.ns, f.refused),
             f"kubectl get events -n {f.ns} --field-selector reason=FailedCreate")
    return WorkloadVerdict(Cause.CREATE_REFUSED, Confidence.HIGH, Severity.CRITICAL, summary,
                           lead=(f"the API server refused the controller's pod: {f.refused}",), steps=steps,
                           refusal_info=True)


_STATE = {"failed": "has failed", "stuck": "is stuck", "paused": "is paused", "degraded": "runs degraded",
          "progressing": "is still rolling out", "suspended": "is suspended"}


@rule("D03", "pods-fail", "pods:current-revision", "condition:Failed", "condition:Progressing")
def pods_fail(f: WorkloadFacts) -> WorkloadVerdict | None:
    """The current revision's pods fail: the worst group's cause, its representative's
    diagnosis embedded; critical when the rollout is stuck or the Job failed (it will not
    finish by itself)."""
    if not f.trouble:
        return None
    g, failed = f.trouble[0], f.shape.failed
    rep = g.representative
    others = "; ".join(f"{x.count} {x.cause.value}" for x in f.trouble[1:])
    severity = Severity.CRITICAL if (f.stuck or failed) else g.severity
    summary = (f"{f.what} {_STATE.get(f.rollout, 'is complete but unhealthy')}: {pods_text(g.count)} of "
               f"{f.rev_text} {'fail' if g.count != 1 else 'fails'} with {g.cause.value}"
               + (f" (also: {others})" if others else "") + f", {f.counts}. {rep.pod.name}: {rep.summary}"
               + f.serving_note)
    evidence = []
    if failed:
        evidence.append(f"Job condition {quote(failed)}")
        if text(failed, "reason") == "PodFailurePolicy":
            evidence.append("the Job's podFailurePolicy ended it (spec.podFailurePolicy): retrying would not help")
    if f.refused:
        evidence.append(f"pod creations are also refused: {f.refused}")
    evidence.append(f"{rep.pod.name}: {rep.cause.value}: {rep.summary}")
    steps = [*rep.next_steps[:3], f.describe]
    if f.kind == "Deployment" and f.serving:
        steps.append(f"kubectl rollout undo deployment/{f.name} -n {f.ns}   # back to the revision that serves")
    return WorkloadVerdict(g.cause, rep.confidence, severity, summary, evidence=tuple(evidence), steps=tuple(steps))


@rule("D04", "job-failed-pods-gone", "condition:Failed", "condition:FailureTarget")
def job_failed_pods_gone(f: WorkloadFacts) -> WorkloadVerdict | None:
    """A Job that failed with no pod left to say why: its condition is all there is (low
    confidence)."""
    failed = f.shape.failed
    if f.kind != "Job" or not failed:
        return None
    reason, msg = text(failed, "reason"), text(failed, "message")
    summary = f"Job {f.name} failed ({reason}: {msg or 'no message'}); no pod of it is left to say why. {f.counts}."
    return WorkloadVerdict(
        Cause.UNKNOWN, Confidence.LOW, Severity.CRITICAL, summary,
        steps=(f.describe, f"kubectl get events -n {f.ns} --field-selector involvedObject.name={f.name}"),
        warnings=("The Job's pods are gone (deleted, or garbage-collected): the verdict rests on its condition.",))


@rule("D05", "paused", "spec:paused", "condition:Progressing")
def paused(f: WorkloadFacts) -> WorkloadVerdict | None:
    """A Deployment whose rollout is paused (spec.paused, or Progressing reason
    DeploymentPaused): fine, and how to resume it."""
    if not f.shape.paused:
        return None
    summary = f"{f.what}'s rollout is paused (spec.paused): {f.counts}; resume it with kubectl rollout resume."
    return WorkloadVerdict(Cause.HEALTHY, Confidence.HIGH, Severity.OK, summary, evidence=f.earlier,
                           steps=(f"kubectl rollout resume deployment/{f.name} -n {f.ns}",))


@rule("D06", "suspended", "spec:suspend")
def suspended(f: WorkloadFacts) -> WorkloadVerdict | None:
    """A suspended Job (spec.suspend): it creates no pods until resumed, on purpose."""
    if not f.shape.suspended:
        return None
    summary = f"Job {f.name} is suspended (spec.suspend): it creates no pods until resumed."
    return WorkloadVerdict(Cause.HEALTHY, Confidence.HIGH, Severity.OK, summary, evidence=f.earlier)


@rule("D07", "scaled-to-zero", "spec:replicas", "status:desiredNumberScheduled")
def scaled_to_zero(f: WorkloadFacts) -> WorkloadVerdict | None:
    """A workload that wants no replicas and has no troubled pod."""
    if f.rollout != "scaled-to-zero":
        return None
    return WorkloadVerdict(Cause.HEALTHY, Confidence.HIGH, Severity.OK, f"{f.what} is scaled to zero replicas.",
                           evidence=f.earlier)


@rule("D08", "complete", "status:updatedReplicas", "status:availableReplicas", "status:observedGeneration",
      "condition:Complete", "condition:SuccessCriteriaMet")
def complete(f: WorkloadFacts) -> WorkloadVerdict | None:
    """The rollout is complete (every replica updated and available, as `kubectl rollout
    status` tests it), or the Job completed."""
    if not f.shape.complete:
        return None
    if f.kind == "Job":
        return WorkloadVerdict(Cause.COMPLETED, Confidence.HIGH, Severity.OK, f"Job {f.name} completed: {f.counts}.",
                               evidence=f.earlier)
    summary = f"{f.what}'s rollout is complete: {f.counts}, {f.rev_text} everywhere."
    return WorkloadVerdict(Cause.HEALTHY, Confidence.HIGH, Severity.OK, summary, evidence=f.earlier)


@rule("D09", "stuck-unexplained", "condition:Progressing", "metadata:creationTimestamp")
def stuck_unexplained(f: WorkloadFacts) -> WorkloadVerdict | None:
    """Past the progress deadline (ProgressDeadlineExceeded; 600s for the kinds without one)
    with no pod that explains it: what was seen and what is missing (low confidence)."""
    if not f.stuck:
        return None
    ns = f.ns
    summary = (f"{f.what} is stuck past its progress deadline: {f.counts}, and no pod of {f.rev_text} says why "
               f"(events expired, or the pods are gone).{f.serving_note}")
    return WorkloadVerdict(Cause.UNKNOWN, Confidence.LOW, Severity.CRITICAL, summary, evidence=f.earlier,
                           steps=(f.describe, f"kubectl get pods -n {ns} -o wide",
                                  f"kubectl get events -n {ns} --sort-by=.lastTimestamp"))


def _watch_steps(f: WorkloadFacts) -> tuple[str, ...]:
    return (f"kubectl rollout status {f.kind.lower()}/{f.name} -n {f.ns}",) if f.kind != "Job" else (f.describe,)


@rule("D10", "degraded", "status:readyReplicas", "pods:current-revision")
def degraded(f: WorkloadFacts) -> WorkloadVerdict | None:
    """Every pod of the current revision exists, not all are ready, and none reports trouble
    (starting, or just restarted): no rollout is under way."""
    if f.rollout != "degraded":
        return None
    summary = (f"{f.what} has every pod of {f.rev_text}, {f.counts}; none of them reports trouble "
               "(starting, or just restarted).")
    return WorkloadVerdict(Cause.HEALTHY, Confidence.MEDIUM, Severity.OK, summary, evidence=f.earlier,
                           steps=_watch_steps(f))


@rule("D11", "in-progress", "status:replicas", "metadata:creationTimestamp")
def in_progress(f: WorkloadFacts) -> WorkloadVerdict:
    """Otherwise the rollout is in progress, within its deadline, and no pod of the current
    revision has trouble yet: not a finding (always decides)."""
    waited = f.shape.waited()
    since = f" for {human_duration(waited)}" if waited is not None else ""
    summary = (f"{f.what}'s rollout is in progress{since}: {f.counts}; no pod of {f.rev_text} has trouble "
               f"yet.{f.serving_note}")
    return WorkloadVerdict(Cause.HEALTHY, Confidence.MEDIUM, Severity.OK, summary, evidence=f.earlier,
                           steps=_watch_steps(f))


# The order of authority.
WORKLOAD: tuple[Rule, ...] = (
    job_deadline_exceeded,  # D01 first: a Job stopped by its deadline, whatever its pods say
    create_refused,  # D02 before D03: only when no pod of the current revision explains more
    pods_fail,  # D03
    job_failed_pods_gone,  # D04 after D03: a failed Job's pods, when left, say why
    paused,  # D05 before D08/D09: a paused rollout is neither complete nor stuck
    suspended,  # D06
    scaled_to_zero,  # D07
    complete,  # D08
    stuck_unexplained,  # D09 after D03: a stuck rollout's failing pods are its cause
    degraded,  # D10
    in_progress,  # D11 last: always decides
)


# the reasons of the events the workload rules read: a scan keeps these for its workload pass
EVENT_REASONS: frozenset[str] = frozenset().union(*(r.event_reasons for r in WORKLOAD))


def conclude(f: WorkloadFacts, v: WorkloadVerdict) -> WorkloadDiagnosis:
    """The WorkloadDiagnosis of a rule's verdict: what every verdict shares added."""
    s = f.shape
    return WorkloadDiagnosis(
        f.kind, f.ns, f.name, v.cause, v.confidence, v.severity, v.summary, f.rollout, uid=text(s.w, "metadata", "uid"),
        revision=s.revision, replicas=s.replicas, conditions=f.conditions, groups=f.groups, events=f.events[-20:],
        evidence=v.lead + f.evidence + v.evidence, next_steps=tuple(dict.fromkeys(v.steps or (f.describe,))),
        warnings=f.warnings + v.warnings, refused=f.refused if v.refusal_info else "",
        refusal=f.refusal if v.refusal_info else "", as_of=f.now, rule=v.rule)


def verdict(s: Shape, wevents: list[EventRecord], groups: list[PodGroup], now, events_note) -> WorkloadDiagnosis:
    f = build_facts(s, wevents, groups, now, events_note)
    return conclude(f, first(WORKLOAD, f))
