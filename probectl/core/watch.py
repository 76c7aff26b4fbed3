"""Live diagnosis: turn a stream of pod and event updates into findings, each reported once.

Pure: the CLI feeds pods and events from the API's watch (or a relist after 410 Gone);
the tracker keeps a compact state per pod and the keys of what it already reported, so
reconnects and relists never repeat a finding, and memory stays bounded over hours.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from probectl.core import events as ev
from probectl.core.diagnose import diagnose
from probectl.core.model import Cause, Diagnosis, EventRecord, Severity, iso
from probectl.core.objects import compact_pod, condition, containers, get, text
from probectl.core.probes import SPEC_KEY
from probectl.core.reasons import CONFIG_WAITING, IMAGE_PULL
from probectl.core.rules import kept
from probectl.core.scan import plainly_healthy

EVENTS_PER_POD = 64  # decisive events kept per pod, newest last
MAX_SEEN = 100_000  # report keys remembered (oldest forgotten first)
MAX_PODS = 50_000  # pods whose events are kept
MAX_INCIDENTS = 50_000  # open incidents remembered (oldest forgotten first)
QUIET_AFTER = timedelta(minutes=10)  # running and ready this long after its last report: the incident is over

# The stages of a restart incident. A line is written when an incident opens and when it
# reaches a higher stage; repeats of a stage are counted into the next line.
KILL, RESTART, CRASHLOOP = 2, 3, 4


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
    incident: str = ""  # the same id on every line about one incident
    repeats: int = 0  # occurrences since the incident's previous line, not reported on their own
    new: bool = True  # False: already wrong when the watch began (reported once, at the start)

    def to_dict(self) -> dict:
        return {"apiVersion": "probectl/v1", "kind": "Finding", "time": iso(self.time), "namespace": self.namespace,
                "pod": self.pod, "container": self.container or None, "event": self.kind, "cause": self.cause,
                "exitCode": self.exit_code, "signal": self.signal, "reason": self.reason or None,
                "message": self.message or None, "summary": self.summary, "incident": self.incident,
                "repeats": self.repeats, "new": self.new}


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
    ready: bool = False
    running: bool = False
    thresholds: tuple[int, int, int] = (3, 3, 3)  # failureThreshold of liveness, readiness, startup
    ready_since: datetime | None = None  # when it was first seen running and ready, this stretch
    started: str = ""  # state.running.startedAt: this instance
    ever_ready: bool = False  # this instance has been seen ready
    warmup: int = 60  # seconds a new instance may take before its unreadiness is news


@dataclass
class _Incident:
    id: str
    stage: int
    opened: datetime | None
    last: datetime | None  # last activity (a line or a repeat)
    repeats: int = 0
    restarts: int = 0  # terminations seen in this incident


class Tracker:
    def __init__(self, recent: timedelta | None = None) -> None:
        self.pods: dict[str, dict[str, _Container]] = {}
        self.pod_flags: dict[str, set[str]] = {}
        self.names: dict[str, tuple[str, str]] = {}  # pod key -> (namespace, name)
        self.keys: dict[tuple[str, str], str] = {}  # (namespace, name) -> pod key: events without a uid
        self.deleting: set[str] = set()
        self.gone: OrderedDict[str, None] = OrderedDict()  # pods deleted (bounded): their late events are not news
        self.events: OrderedDict[str, deque] = OrderedDict()  # pod key -> its recent decisive events (bounded)
        self.event_counts: OrderedDict = OrderedDict()  # event uid -> (count seen, count reported), bounded
        self.incidents: OrderedDict[tuple, _Incident] = OrderedDict()
        self.seen = _Seen()
        self.recent = recent
        self._serial = 0
        self._starting: dict[str, dict] = {}  # pods not plainly healthy at the start, until baseline_done()

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
            thresholds = tuple(
                t if isinstance(t := get(ref.spec, SPEC_KEY[k], "failureThreshold"), int) and t > 0 else 3
                for k in ("liveness", "readiness", "startup"))
            rp = get(ref.spec, "readinessProbe")
            budget = 0
            if isinstance(rp, dict):  # initialDelaySeconds + periodSeconds x failureThreshold
                delay, period = get(rp, "initialDelaySeconds"), get(rp, "periodSeconds")
                budget = ((delay if isinstance(delay, int) else 0)
                          + (period if isinstance(period, int) and period > 0 else 10) * thresholds[1])
            state[ref.name] = _Container(
                restarts=s.get("restartCount") if isinstance(s.get("restartCount"), int) else 0,
                waiting=text(s, "state", "waiting", "reason"),
                finished=self._termination_key(s),
                ready=s.get("ready") is True,
                running=isinstance(get(s, "state", "running"), dict),
                thresholds=thresholds,  # type: ignore[arg-type]
                started=text(s, "state", "running", "startedAt"),
                warmup=max(60, 2 * budget),
            )
        flags = set()
        if text(pod, "status", "reason") == "Evicted":
            flags.add("evicted")
        sched = condition(pod, "PodScheduled")
        if sched.get("status") == "False" and sched.get("reason") == "Unschedulable":
            flags.add("unschedulable")
        return state, flags

    def _remember(self, pod: dict, now: datetime | None = None) -> str:
        key = self._key(pod)
        before = self.pods.get(key, {})
        self.pods[key], self.pod_flags[key] = self._snapshot(pod)
        for cname, c in self.pods[key].items():
            old = before.get(cname)
            c.ever_ready = c.ready or (old is not None and old.started == c.started and old.ever_ready)
            if c.running and c.ready:
                c.ready_since = old.ready_since if old is not None and old.ready_since is not None else now
        self.names[key] = (text(pod, "metadata", "namespace") or "default", text(pod, "metadata", "name"))
        self.keys[self.names[key]] = key
        if get(pod, "metadata", "deletionTimestamp") is not None:
            self.deleting.add(key)
        return key

    def baseline(self, pod: dict) -> None:
        """A pod as it was when watching began: nothing to report about it yet. Trouble it is
        already in counts as an incident already reported (a crash loop stays quiet)."""
        key = self._remember(pod)
        for cname, c in self.pods[key].items():
            if c.waiting == "CrashLoopBackOff":
                self._incident((key, cname, "restart"), CRASHLOOP, None)
            elif c.waiting in IMAGE_PULL or c.waiting in CONFIG_WAITING:
                self._incident((key, cname, "waiting"), 1, None)
        for flag in self.pod_flags[key]:
            self.seen.add((key, flag))
        if not plainly_healthy(pod) and get(pod, "metadata", "deletionTimestamp") is None:
            self._starting[key] = compact_pod(pod)

    def baseline_done(self, now: datetime | None) -> list[Finding]:
        """After the first lists of pods and events: what is already wrong, one finding per pod
        (the pod's verdict, as `scan` gives it), marked new=False. Its incident counts as
        reported: from now on only what is new or escalates gets a line (a readiness failure
        whose events keep counting up stays quiet; a crash loop that was one stays quiet)."""
        found: list[Finding] = []
        starting, self._starting = self._starting, {}
        for key, pod in starting.items():
            d = diagnose(pod, list(self.events.get(key, ())), now, recent=self.recent)
            if d.severity is Severity.OK:
                continue
            ns, name = self.names.get(key, (d.pod.namespace, d.pod.name))
            cd = next((c for c in d.containers if c.name == d.culprit), None)
            cname = cd.name if cd else ""
            t = cd.last_termination if cd else None
            kind, track, stage = "termination", "restart", RESTART
            if d.cause is Cause.EVICTED:
                kind, track = "eviction", "eviction"
            elif d.cause is Cause.UNSCHEDULABLE:
                kind, track = "unschedulable", "unschedulable"
            elif d.cause is Cause.IMAGE_PULL_FAILED or (cd and cd.state_reason in IMAGE_PULL):
                kind, track, stage = "image-pull", "waiting", 1
            elif d.cause is Cause.CONFIG_ERROR or (cd and cd.state_reason in CONFIG_WAITING):
                kind, track, stage = "config-error", "waiting", 1
            elif d.cause is Cause.READINESS_PROBE_FAILED:
                kind, track, stage = "probe-failure", "readiness", 1
            elif cd and cd.state_reason == "CrashLoopBackOff":
                kind, stage = "crashloop", CRASHLOOP
            if track in ("eviction", "unschedulable"):
                cname = ""
            inc, _ = self._incident((key, cname, track), stage, now)
            inc.opened, inc.last, inc.repeats = inc.opened or now, now, 0
            # every unready container in trouble now: its readiness failures are not news either
            for c in d.containers:
                state = self.pods.get(key, {}).get(c.name)
                if state is not None and state.running and not state.ready and c.severity is not Severity.OK:
                    r, _ = self._incident((key, c.name, "readiness"), 1, now)
                    r.opened, r.last, r.repeats = r.opened or now, now, 0
            when = t.finished_at if t is not None and t.finished_at and kind in ("termination", "crashloop") else now
            found.append(Finding(when, ns, name, cname, kind, d.cause.value, d.summary,
                                 t.exit_code if t else None, t.signal if t else None,
                                 (t.reason if t else "") if kind == "termination" else (cd.state_reason if cd else ""),
                                 (t.message if t else "") if kind == "termination" else text(pod, "status", "message"),
                                 incident=inc.id, new=False))
        for inc in self.incidents.values():  # opened by baseline(): time them from now, so that they can end
            if inc.last is None:
                inc.opened = inc.last = now
        found.sort(key=lambda f: (f.namespace, f.pod, f.container))
        return found

    def forget(self, pod: dict) -> None:
        """A pod was deleted: forget its state, remember that it is gone."""
        key = self._key(pod)
        self._drop(key)
        self.gone[key] = None
        ns, name = text(pod, "metadata", "namespace") or "default", text(pod, "metadata", "name")
        self.gone[f"{ns}/{name}"] = None
        while len(self.gone) > MAX_SEEN:
            self.gone.popitem(last=False)

    def _drop(self, key: str) -> None:
        self.pods.pop(key, None)
        self.pod_flags.pop(key, None)
        self.events.pop(key, None)
        named = self.names.pop(key, None)
        if named is not None and self.keys.get(named) == key:
            del self.keys[named]
        self.deleting.discard(key)
        for k in [k for k in self.incidents if k[0] == key]:
            del self.incidents[k]

    def resync(self, pods: list[dict], now: datetime | None) -> list[Finding]:
        """After a relist (410 Gone): report what changed while the watch was down."""
        found = []
        alive = set()
        for pod in pods:
            alive.add(self._key(pod))
            found += self.pod_update(pod, now)
        for key in [k for k in self.pods if k not in alive]:
            ns, name = self.names.get(key, ("", ""))
            self._drop(key)
            self.gone[key] = None  # deleted while the watch was down: its late events are not news
            if name:
                self.gone[f"{ns}/{name}"] = None
        return found

    # ---------------------------------------------------------------- incidents

    def _incident(self, ikey: tuple, stage: int, now: datetime | None) -> tuple[_Incident, bool]:
        """The incident for `ikey` at `stage`: (incident, whether to write a line now)."""
        inc = self.incidents.get(ikey)
        if inc is None:
            self._serial += 1
            pod_key, cname, track = ikey
            inc = _Incident(f"{pod_key[:8]}-{cname or 'pod'}-{track}-{self._serial}", stage, now, now)
            self.incidents[ikey] = inc
            if len(self.incidents) > MAX_INCIDENTS:
                self.incidents.popitem(last=False)
            return inc, now is not None
        self.incidents.move_to_end(ikey)
        inc.last = now or inc.last
        if stage > inc.stage:
            inc.stage = stage
            return inc, True
        inc.repeats += 1
        return inc, False

    def _line(self, inc: _Incident, finding: Finding) -> Finding:
        repeats, inc.repeats = inc.repeats, 0
        if repeats:
            finding = Finding(**{**finding.__dict__, "repeats": repeats,
                                 "summary": finding.summary + f" ({repeats} more since the last report)"})
        return Finding(**{**finding.__dict__, "incident": inc.id})

    def _close_quiet(self, key: str, cname: str, c: _Container | None, now: datetime | None,
                     ran_from: datetime | None = None, ran_to: datetime | None = None) -> None:
        """An incident is over once the container has run fine for QUIET_AFTER after its last
        line: seen running and ready that long, or an instance that started after the last
        line and ran that long before it died. The next failure then opens a new incident."""
        for track in ("restart", "readiness", "waiting"):
            inc = self.incidents.get((key, cname, track))
            if inc is None or inc.last is None:
                continue
            steady = (c is not None and c.running and c.ready and c.ready_since is not None and now is not None
                      and c.ready_since >= inc.last and now - c.ready_since >= QUIET_AFTER)
            lived = (ran_from is not None and ran_to is not None and ran_from >= inc.last
                     and ran_to - ran_from >= QUIET_AFTER)
            if steady or lived:
                del self.incidents[(key, cname, track)]

    # ---------------------------------------------------------------- updates

    def _diagnose(self, pod: dict) -> Diagnosis:
        # judged as of the pod's own newest timestamp: a change just seen is current news,
        # whatever the skew between this machine's clock and the cluster's
        return diagnose(pod, list(self.events.get(self._key(pod), ())), None, recent=self.recent)

    def pod_update(self, pod: dict, now: datetime | None) -> list[Finding]:
        if not isinstance(pod, dict):
            return []
        key = self._key(pod)
        before, before_flags = self.pods.get(key, {}), self.pod_flags.get(key, set())
        key = self._remember(pod, now)
        after, flags = self.pods[key], self.pod_flags[key]
        ns, name = self.names[key]
        if key in self.deleting:
            return []  # a deletion (rollout, scale-down): containers stopping now are not failures
        found: list[Finding] = []
        d: Diagnosis | None = None

        def diag() -> Diagnosis:
            nonlocal d
            if d is None:
                d = self._diagnose(pod)
            return d

        for flag, kind in (("evicted", "eviction"), ("unschedulable", "unschedulable")):
            if flag in flags and flag not in before_flags and self.seen.add((key, flag)):
                inc, _ = self._incident((key, "", kind), 1, now)
                found.append(self._line(inc, Finding(now, ns, name, "", kind, diag().cause.value, diag().summary,
                                                     message=text(pod, "status", "message"))))
        if "evicted" in flags:
            return found  # its containers' placeholder terminations are the eviction, said once
        for cname, c in after.items():
            found += self._container_update(key, ns, name, cname, before.get(cname), c, diag, now)
        return found

    def _container_update(self, key, ns: str, name: str, cname: str, old, c, diag, now) -> list[Finding]:
        """One container's change between two updates of its pod: a termination, a crash
        loop, a probe-failure unreadiness, an image pull or configuration wait."""
        found: list[Finding] = []
        self._close_quiet(key, cname, old if old is not None else c, now)
        new_end = bool(c.finished) and (old is None or old.finished != c.finished)
        new_wait = bool(c.waiting) and (old is None or old.waiting != c.waiting)
        if old is not None and old.ready and c.running and not c.ready:
            found += self._unready(key, cname, c, now)  # the failures may have come before this update
        if not (new_end or new_wait):
            return found
        cd = next((x for x in diag().containers if x.name == cname), None)
        if cd is None:
            return found
        ended = new_end and self.seen.add((key, cname, c.finished))
        t = cd.last_termination
        if ended and t is not None:
            self._close_quiet(key, cname, None, now, t.started_at, t.finished_at)
        explained = cd.last_restart if (cd.history and cd.last_restart) else None
        trouble = cd.type != "ephemeral" and (cd.severity is not Severity.OK or explained is not None)
        ikey = (key, cname, "restart")
        stage = RESTART if ended and trouble else 0
        if new_wait and c.waiting == "CrashLoopBackOff":
            inc = self.incidents.get(ikey)
            seen_restarts = (inc.restarts if inc else 0) + (1 if stage else 0)
            if seen_restarts >= 2 or c.restarts >= 3:
                stage = CRASHLOOP  # it crashed again after a restart: a loop, not a single failure
        if stage:
            prior = self.incidents.get(ikey)
            if stage == RESTART and prior is not None and prior.stage == KILL:
                prior.stage = RESTART  # the restart the kill announced: said already
                inc, report = prior, False
                prior.repeats += 1
            else:
                inc, report = self._incident(ikey, stage, now)
            if ended:
                inc.restarts += 1
            if report:
                cause = explained.cause if explained else cd.cause
                summary = explained.summary if explained else cd.summary
                kind = "termination"
                if stage == CRASHLOOP:
                    kind, summary = "crashloop", f"Crash-looping after {c.restarts} restart{'s' if c.restarts != 1 else ''}: {summary}"
                found.append(self._line(inc, Finding(
                    (t.finished_at if t and t.finished_at and stage == RESTART else now), ns, name, cname, kind,
                    cause.value, summary, t.exit_code if t else None, t.signal if t else None,
                    (t.reason if t else "") if stage == RESTART else c.waiting, t.message if t else "")))
        if new_wait and (c.waiting in IMAGE_PULL or c.waiting in CONFIG_WAITING):
            kind = "image-pull" if c.waiting in IMAGE_PULL else "config-error"
            inc, report = self._incident((key, cname, "waiting"), 1, now)
            if report:
                found.append(self._line(inc, Finding(now, ns, name, cname, kind, cd.cause.value, cd.summary,
                                                     reason=c.waiting, message=cd.state_message)))
        return found

    def baseline_event(self, raw: dict) -> None:
        """An event as it was when watching began: kept as evidence, not reported."""
        self.event_update(raw, None, report=False)

    def event_update(self, raw: dict, now: datetime | None, *, report: bool = True) -> list[Finding]:
        e = ev.normalise(raw)
        if e is None or (e.kind and e.kind != "Pod"):
            return []
        # the pod's key: its uid; an event without one (older recorders, pasted) by name
        key = e.uid or self.keys.get((e.namespace or "default", e.name)) or f"{e.namespace}/{e.name}"
        uid = text(raw, "metadata", "uid") or f"{key}|{e.reason}|{e.message}"
        if kept(e):  # what the rules read (rules.EVENT_REASONS) and every Warning, as scan keeps
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
        if key in self.deleting or key in self.gone or (not e.uid and f"{e.namespace}/{e.name}" in self.gone):
            return []  # probes fail and containers stop while a pod is deleted: not findings
        pod_key = key
        cname = e.container or ev.named_container(e) or ""
        kill = ev.probe_kill(e)
        when = e.last or e.first or now
        if kill:
            inc, report_now = self._incident((pod_key, cname, "restart"), KILL, when)
            if not report_now:
                return []
            cause = Cause.LIVENESS_PROBE_FAILED if kill == "liveness" else Cause.STARTUP_PROBE_FAILED
            fails = sum(x.count for x in self.events.get(key, ()) if ev.probe_failed(x, kill) and (x.container or "") == cname)
            after = f" after {fails} {kill} probe failure{'s' if fails != 1 else ''}" if fails else ""
            # ", will be restarted" unless restartPolicy Never; sidecars ("Init container ...") always restart
            restarting = ev.message_of(e).rstrip().endswith("will be restarted") or ev.message_of(e).startswith("Init container")
            verb = "restarting" if restarting else "stopping (it will not be restarted)"
            return [self._line(inc, self._event_finding(
                e, "kill", cause.value, f"The kubelet is {verb} container {cname or '?'}{after}: its {kill} probe failed."))]
        result = ev.probe_result(e)
        if result and result[0] == "readiness":
            c = self.pods.get(pod_key, {}).get(cname)
            if c is not None and c.ready:
                return []  # still ready: an event's count adds up failures over its life, not the streak
            return self._unready(pod_key, cname, c, when)
        return []

    def _unready(self, key: str, cname: str, c: _Container | None, when: datetime | None) -> list[Finding]:
        """A running container not ready now, with at least failureThreshold readiness
        failures in its events: it gets no traffic. Said once per incident."""
        threshold = c.thresholds[1] if c else 3
        fails = [x for x in self.events.get(key, ()) if (x.container or "") == cname
                 and (r := ev.probe_result(x)) is not None and r[0] == "readiness"]
        if not fails or max(x.count for x in fails) < threshold:
            return []
        if c is not None and not c.ever_ready and c.started and when is not None:
            from probectl.core.objects import parse_time

            started = parse_time(c.started)
            if started is not None and (when - started).total_seconds() < c.warmup:
                return []  # a new instance not ready yet (a rollout): readiness starts as Failure
        self._close_quiet(key, cname, c, when)
        inc, report_now = self._incident((key, cname, "readiness"), 1, when)
        if not report_now:
            return []
        e = fails[-1]
        verb = "errored (cannot run)" if ev.probe_result(e) == ("readiness", "errored") else "failed"
        return [self._line(inc, self._event_finding(
            e, "probe-failure", Cause.READINESS_PROBE_FAILED.value,
            f"Container {cname or '?'} gets no traffic: readiness probe {verb} x{e.count}: {e.message}"))]

    @staticmethod
    def _event_finding(e: EventRecord, kind: str, cause: str, summary: str) -> Finding:
        return Finding(e.last or e.first, e.namespace or "default", e.name, e.container or "", kind, cause, summary,
                       reason=e.reason, message=e.message)

    def event_deleted(self, raw: dict) -> None:
        self.event_counts.pop(text(raw, "metadata", "uid"), None)
