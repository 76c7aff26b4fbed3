"""Live diagnosis: turn a stream of pod and event updates into findings, each reported once.

Pure: the CLI feeds pods and events from the API's watch (or a relist after 410 Gone);
the tracker keeps a compact state per pod and the keys of what it already reported, so
reconnects and relists never repeat a finding, and memory stays bounded over hours.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime

from probectl.core import events as ev
from probectl.core.diagnose import IMAGE_PULL, diagnose
from probectl.core.model import Cause, Diagnosis, EventRecord, iso
from probectl.core.objects import condition, containers, get, text

EVENTS_PER_POD = 64  # decisive events kept per pod, newest last
MAX_SEEN = 100_000  # report keys remembered (oldest forgotten first)
MAX_PODS = 50_000  # pods whose events are kept
CONFIG_WAITING = {"CreateContainerConfigError", "CreateContainerError", "RunContainerError"}


@dataclass(frozen=True)
class Finding:
    time: datetime | None
    namespace: str
    pod: str
    container: str
    kind: str  # termination | crashloop | probe-failure | kill | image-pull | config-error | eviction | unschedulable
    cause: str
    summary: str
    exit_code: int | None = None
    signal: str | None = None
    reason: str = ""
    message: str = ""

    def to_dict(self) -> dict:
        return {"apiVersion": "probectl/v1", "kind": "Finding", "time": iso(self.time), "namespace": self.namespace,
                "pod": self.pod, "container": self.container or None, "event": self.kind, "cause": self.cause,
                "exitCode": self.exit_code, "signal": self.signal, "reason": self.reason or None,
                "message": self.message or None, "summary": self.summary}


class _Seen:
    """A bounded set of report keys."""

    def __init__(self, limit: int = MAX_SEEN):
        self.keys: OrderedDict = OrderedDict()
        self.limit = limit

    def add(self, key) -> bool:
        """True when `key` is new."""
        if key in self.keys:
            self.keys.move_to_end(key)
            return False
        self.keys[key] = None
        if len(self.keys) > self.limit:
            self.keys.popitem(last=False)
        return True


@dataclass
class _Container:
    restarts: int
    waiting: str
    finished: str  # key of the newest termination seen


class Tracker:
    def __init__(self) -> None:
        self.pods: dict[str, dict[str, _Container]] = {}
        self.pod_flags: dict[str, set[str]] = {}
        self.events: OrderedDict[str, deque] = OrderedDict()  # pod key -> its recent decisive events (bounded)
        self.event_counts: OrderedDict = OrderedDict()  # event uid -> (count seen, count reported), bounded
        self.seen = _Seen()

    # ---------------------------------------------------------------- state

    @staticmethod
    def _key(pod: dict) -> str:
        return text(pod, "metadata", "uid") or f"{text(pod, 'metadata', 'namespace')}/{text(pod, 'metadata', 'name')}"

    @staticmethod
    def _termination_key(status: dict) -> str:
        for where in ("state", "lastState"):
            t = get(status, where, "terminated")
            if isinstance(t, dict):
                return f"{text(t, 'containerID')}|{text(t, 'finishedAt')}|{t.get('exitCode')}"
        return ""

    def _snapshot(self, pod: dict) -> tuple[dict[str, _Container], set[str]]:
        state = {}
        for ref in containers(pod):
            s = ref.status
            state[ref.name] = _Container(
                restarts=s.get("restartCount") if isinstance(s.get("restartCount"), int) else 0,
                waiting=text(s, "state", "waiting", "reason"),
                finished=self._termination_key(s),
            )
        flags = set()
        if text(pod, "status", "reason") == "Evicted":
            flags.add("evicted")
        sched = condition(pod, "PodScheduled")
        if sched.get("status") == "False" and sched.get("reason") == "Unschedulable":
            flags.add("unschedulable")
        return state, flags

    def baseline(self, pod: dict) -> None:
        """A pod as it was when watching began: nothing to report about it yet."""
        key = self._key(pod)
        self.pods[key], self.pod_flags[key] = self._snapshot(pod)

    def forget(self, pod: dict) -> None:
        key = self._key(pod)
        self.pods.pop(key, None)
        self.pod_flags.pop(key, None)
        self.events.pop(key, None)

    def resync(self, pods: list[dict], now: datetime | None) -> list[Finding]:
        """After a relist (410 Gone): report what changed while the watch was down."""
        found = []
        alive = set()
        for pod in pods:
            alive.add(self._key(pod))
            found += self.pod_update(pod, now)
        for key in [k for k in self.pods if k not in alive]:
            self.pods.pop(key, None)
            self.pod_flags.pop(key, None)
            self.events.pop(key, None)
        return found

    # ---------------------------------------------------------------- updates

    def _diagnose(self, pod: dict, now: datetime | None) -> Diagnosis:
        return diagnose(pod, list(self.events.get(self._key(pod), ())), now)

    def pod_update(self, pod: dict, now: datetime | None) -> list[Finding]:
        if not isinstance(pod, dict):
            return []
        key = self._key(pod)
        ns, name = text(pod, "metadata", "namespace") or "default", text(pod, "metadata", "name")
        before, before_flags = self.pods.get(key, {}), self.pod_flags.get(key, set())
        after, flags = self._snapshot(pod)
        self.pods[key], self.pod_flags[key] = after, flags
        found: list[Finding] = []
        d: Diagnosis | None = None

        def diag() -> Diagnosis:
            nonlocal d
            if d is None:
                d = self._diagnose(pod, now)
            return d

        for flag, kind in (("evicted", "eviction"), ("unschedulable", "unschedulable")):
            if flag in flags and flag not in before_flags and self.seen.add((key, flag)):
                found.append(Finding(now, ns, name, "", kind, diag().cause.value, diag().summary,
                                     message=text(pod, "status", "message")))
        for cname, c in after.items():
            old = before.get(cname)
            new_end = bool(c.finished) and (old is None or old.finished != c.finished)
            new_wait = bool(c.waiting) and (old is None or old.waiting != c.waiting)
            if not (new_end or new_wait):
                continue
            cd = next((x for x in diag().containers if x.name == cname), None)
            if cd is None:
                continue
            if new_end and self.seen.add((key, cname, c.finished)):
                t = cd.last_termination
                found.append(Finding(t.finished_at if t and t.finished_at else now, ns, name, cname, "termination",
                                     cd.cause.value, cd.summary, t.exit_code if t else None, t.signal if t else None,
                                     t.reason if t else "", t.message if t else ""))
            if new_wait:
                kind = ("crashloop" if c.waiting == "CrashLoopBackOff" else "image-pull" if c.waiting in IMAGE_PULL
                        else "config-error" if c.waiting in CONFIG_WAITING else "")
                if kind and self.seen.add((key, cname, "waiting", c.waiting, c.restarts)):
                    found.append(Finding(now, ns, name, cname, kind, cd.cause.value, cd.summary, reason=c.waiting,
                                         message=cd.state_message))
        return found

    def baseline_event(self, raw: dict) -> None:
        """An event as it was when watching began: kept as evidence, not reported."""
        self.event_update(raw, None, report=False)

    def event_update(self, raw: dict, now: datetime | None, *, report: bool = True) -> list[Finding]:
        e = ev.normalise(raw)
        if e is None or (e.kind and e.kind != "Pod"):
            return []
        key = e.uid or f"{e.namespace}/{e.name}"
        uid = text(raw, "metadata", "uid") or f"{key}|{e.reason}|{e.message}"
        if e.reason in ("Unhealthy", "Killing", "BackOff", "Failed", "FailedScheduling", "Evicted") or e.type == "Warning":
            bucket = self.events.setdefault(key, deque(maxlen=EVENTS_PER_POD))
            bucket.append(e)
            self.events.move_to_end(key)
            if len(self.events) > MAX_PODS:  # events of pods that came and went unseen
                self.events.popitem(last=False)
        last, reported = self.event_counts.get(uid, (0, 0))
        if not report:
            reported = max(reported, e.count)  # the baseline: already there, not news
        self.event_counts[uid] = (max(last, e.count), reported)
        self.event_counts.move_to_end(uid)
        if len(self.event_counts) > MAX_SEEN:
            self.event_counts.popitem(last=False)
        if e.count <= last or not report:
            return []  # seen already (a reconnect or relist hands it out again), or the baseline
        kill = ev.probe_kill(e)
        if kill:
            cause = Cause.LIVENESS_PROBE_FAILED if kill == "liveness" else Cause.STARTUP_PROBE_FAILED
            return [self._event_finding(e, "kill", cause.value, f"The kubelet is restarting container {e.container or '?'}: "
                                        f"its {kill} probe failed.")]
        result = ev.probe_result(e)
        if result and (reported == 0 or e.count >= 2 * reported):  # the first failure, then when the streak doubles
            self.event_counts[uid] = (max(last, e.count), e.count)
            kind_cause = {"liveness": Cause.LIVENESS_PROBE_FAILED, "readiness": Cause.READINESS_PROBE_FAILED,
                          "startup": Cause.STARTUP_PROBE_FAILED}[result[0]]
            return [self._event_finding(e, "probe-failure", kind_cause.value,
                                        f"{result[0].capitalize()} probe {result[1]} x{e.count}: {e.message}")]
        return []

    @staticmethod
    def _event_finding(e: EventRecord, kind: str, cause: str, summary: str) -> Finding:
        return Finding(e.last or e.first, e.namespace or "default", e.name, e.container or "", kind, cause, summary,
                       reason=e.reason, message=e.message)

    def event_deleted(self, raw: dict) -> None:
        self.event_counts.pop(text(raw, "metadata", "uid"), None)
