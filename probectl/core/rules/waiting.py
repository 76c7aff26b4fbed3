"""Rules for a container that is waiting, has no status, or was stopped with its pod:
W01-W03 (the waiting reason states the trouble), W04-W07 (waiting, other), S01-S02 (no
status), K01 (stopped by a pod-level verdict), U01 (no state at all)."""

from __future__ import annotations

from probectl.core import exitcodes
from probectl.core import objects as ob
from probectl.core import reasons as rs
from probectl.core.facts import ContainerFacts
from probectl.core.model import Cause, Confidence
from probectl.core.rules.base import events, rule
from probectl.core.verdict import Verdict
from probectl.core.wording import clip, pull_detail


def _waiting_line(f: ContainerFacts) -> str:
    msg = clip(f.message)
    return f"state.waiting.reason is {f.reason}" + (f": {msg}" if msg else "")


@rule("S01", "not-created-yet", "status.containerStatuses", "status.phase")
def not_created(f: ContainerFacts) -> Verdict | None:
    """No status for the container while the pod is Pending: not created yet."""
    if f.pf.pod.phase == "Pending" or not f.pf.pod.phase:
        return Verdict(Cause.HEALTHY, Confidence.LOW, f"{f.label} {f.name} has not been created yet.",
                       ("no status for this container yet",))
    return None


@rule("S02", "no-status", "status.containerStatuses")
def no_status(f: ContainerFacts) -> Verdict | None:
    """No status for the container in a pod past Pending: the object may be incomplete."""
    return Verdict(Cause.UNKNOWN, Confidence.LOW, f"{f.label} {f.name} has no status in the pod.",
                   ("the pod's status lists no such container: the object may be incomplete",))


@rule("W01", "image-pull", "state.waiting.reason", *events("Failed"))
def image_pull(f: ContainerFacts) -> Verdict | None:
    """Waiting in ErrImagePull, ImagePullBackOff, InvalidImageName, ...: the image cannot be
    pulled; the Failed event's text says why."""
    if f.reason not in rs.IMAGE_PULL:
        return None
    image = ob.text(f.ref.spec, "image") or ob.text(f.ref.status, "image")
    failed = [e for e in f.events if e.reason == "Failed" and e.message.startswith("Failed to pull image")]
    evidence = (_waiting_line(f),) + tuple(f"{e.reason} x{e.count}: {clip(e.message)}" for e in failed[-2:])
    detail = clip(pull_detail(failed[-1].message if failed else f.message, image), 200)
    return Verdict(Cause.IMAGE_PULL_FAILED, Confidence.HIGH,
                   f"Image {image or '?'} of container {f.name} cannot be pulled ({f.reason})" + (f": {detail}" if detail else "."),
                   evidence)


@rule("W02", "hook-error", "state.waiting.reason")
def hook_error(f: ContainerFacts) -> Verdict | None:
    """Waiting in PostStartHookError / PreStartHookError: its lifecycle hook failed."""
    if f.reason not in rs.HOOK_ERRORS:
        return None
    # lifecycle/handlers.go: 'Exec lifecycle hook ([...]) for Container "api" in Pod ... failed - error: ...'
    hook = "postStart" if f.reason.startswith("Post") else "preStart"
    return Verdict(Cause.START_ERROR, Confidence.HIGH,
                   f"{f.label} {f.name} does not start: its {hook} hook failed" + (f": {clip(f.message, 200)}" if f.message else "."),
                   (_waiting_line(f),))


@rule("W03", "create-or-start-error", "state.waiting.reason", "lastState.terminated.message", *events("Failed"))
def create_or_start_error(f: ContainerFacts) -> Verdict | None:
    """Waiting in CreateContainerConfigError, CreateContainerError, RunContainerError, ...:
    the runtime's text (waiting message, last termination, Failed events) says whether the
    command is missing, not executable, or the spec cannot be used."""
    if f.reason not in rs.CONFIG and f.reason not in rs.START:
        return None
    text = f.start_text(f.message)
    evidence = (_waiting_line(f),)
    if text and text != f.message:
        evidence += (f"the runtime said: {clip(text)}",)
    cause = rs.start_cause(text)
    if cause is None:
        cause = Cause.CONFIG_ERROR if f.reason == "CreateContainerConfigError" or (
            f.reason == "CreateContainerError" and not rs.RUNTIME_TROUBLE.search(text)) else Cause.START_ERROR
    rests_on = f.rests_on if f.last and f.last.reason in rs.START else ""
    return Verdict(cause, Confidence.HIGH if text else Confidence.MEDIUM, f.start_summary(cause, text), evidence,
                   rests_on=rests_on)


@rule("K01", "stopped-by-pod", "pod verdict", "state.terminated")
def stopped_by_pod(f: ContainerFacts) -> Verdict | None:
    """A container that ended with its pod (evicted, preempted, deadline, ...) takes the
    pod-level verdict."""
    pl, t = f.pod_verdict, f.last
    if pl is None or t is None or not t.current:
        return None
    evidence = f.term_evidence
    if t.reason == rs.PLACEHOLDER:
        evidence += ("reason ContainerStatusUnknown: a stand-in the kubelet writes for a container it could not "
                     "find when the pod was stopped, not a kill of its own",)
    code = exitcodes.decode(t.exit_code).short()
    return Verdict(pl.cause, pl.confidence, f"{f.label} {f.name} {pl.what} (exit {code}).", evidence, rests_on=f.rests_on)


def _warnings(f: ContainerFacts) -> list:
    return [e for e in f.pf.events if e.type == "Warning" and e.reason in rs.POD_WARNINGS]


@rule("W04", "missing-config-object", *events("FailedMount"))
def missing_object(f: ContainerFacts) -> Verdict | None:
    """Waiting while FailedMount says a ConfigMap or Secret (or a key) does not exist: the
    pod cannot start until it does."""
    missing = [e for e in _warnings(f) if e.reason == "FailedMount" and rs.MISSING_REF.search(e.message)]
    if not missing:
        return None
    # MountVolume.SetUp failed for volume "config" : configmap "app-config" not found
    w = missing[-1]
    return Verdict(Cause.CONFIG_ERROR, Confidence.HIGH,
                   f"{f.label} {f.name} cannot start: a volume refers to a missing object: {clip(w.message, 200)}",
                   (f"state.waiting.reason is {f.reason or 'not set'}", f"{w.reason} x{sum(e.count for e in missing)}: {clip(w.message)}"))


@rule("W05", "pod-warning", *events(*sorted(rs.POD_WARNINGS)))
def pod_warning(f: ContainerFacts) -> Verdict | None:
    """Waiting while the pod has Warning events about volumes, sandbox or hooks: the newest
    one is the likely reason."""
    warns = _warnings(f)
    if not warns:
        return None
    w = warns[-1]
    return Verdict(Cause.UNKNOWN, Confidence.MEDIUM,
                   f"{f.label} {f.name} is stuck in {f.reason or 'waiting'}: {w.reason}: {clip(w.message, 200)}",
                   (f"state.waiting.reason is {f.reason or 'not set'}",) + tuple(f"{e.reason} x{e.count}: {clip(e.message)}" for e in warns[-3:]))


@rule("W06", "creating", "state.waiting.reason")
def creating(f: ContainerFacts) -> Verdict | None:
    """Waiting in ContainerCreating / PodInitializing (or no reason): nothing has failed yet."""
    if f.reason not in rs.CREATING:
        return None
    what = "waiting for its init containers" if f.reason == "PodInitializing" else "being created"
    return Verdict(Cause.HEALTHY, Confidence.LOW, f"{f.label} {f.name} is {what}; nothing has failed yet.",
                   (f"state.waiting.reason is {f.reason or 'not set'}",))


@rule("W07", "waiting-unknown", "state.waiting.reason")
def waiting_unknown(f: ContainerFacts) -> Verdict | None:
    """Waiting for a reason no rule knows: reported as it is."""
    return Verdict(Cause.UNKNOWN, Confidence.LOW,
                   f"{f.label} {f.name} is waiting ({f.reason})" + (f": {clip(f.message, 200)}" if f.message else "."),
                   (f"state.waiting.reason is {f.reason}" + (f": {clip(f.message)}" if f.message else ""),))


@rule("U01", "no-state", "status.state")
def no_state(f: ContainerFacts) -> Verdict | None:
    """No state and no last termination: the object may be incomplete."""
    return Verdict(Cause.UNKNOWN, Confidence.LOW, f"{f.label} {f.name} reports no state.",
                   ("status.state is empty and there is no last termination: the object may be incomplete",))
