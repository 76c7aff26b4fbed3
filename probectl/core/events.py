"""Events: normalise core/v1 and events.k8s.io/v1, match them to a pod, a container and
a container instance, and read the kubelet's probe and kill messages."""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta, timezone

from probectl.core.model import EventRecord
from probectl.core.objects import field_path_container, get, integer, parse_time, text


def _shared(s: str) -> str:
    """One string object for every equal value (reasons, sources, pod names and uids,
    repeated probe messages): a scan keeps the decisive events of the whole cluster."""
    return sys.intern(s) if type(s) is str else s


def normalise(raw: dict) -> EventRecord | None:
    """One event in either API's shape; None when it is not an event about anything."""
    if not isinstance(raw, dict):
        return None
    new_api = "regarding" in raw or text(raw, "apiVersion").startswith("events.k8s.io/")
    obj = get(raw, "regarding" if new_api else "involvedObject", default={})
    if not isinstance(obj, dict):
        obj = {}
    message = text(raw, "note" if new_api else "message") or text(raw, "message") or text(raw, "note")
    count = max(
        integer(raw, "count", default=0) or 0,
        integer(raw, "deprecatedCount", default=0) or 0,
        integer(raw, "series", "count", default=0) or 0,
        1,
    )
    event_time = parse_time(get(raw, "eventTime"))
    first = (
        parse_time(get(raw, "firstTimestamp"))
        or parse_time(get(raw, "deprecatedFirstTimestamp"))
        or event_time
        or parse_time(get(raw, "metadata", "creationTimestamp"))
    )
    last = (
        parse_time(get(raw, "series", "lastObservedTime"))
        or parse_time(get(raw, "lastTimestamp"))
        or parse_time(get(raw, "deprecatedLastTimestamp"))
        or event_time
        or first
    )
    if first and last and last < first:
        first, last = last, first
    source = (
        text(raw, "reportingController")
        or text(raw, "reportingComponent")
        or text(raw, "source", "component")
        or text(raw, "deprecatedSource", "component")
    )
    fp = text(obj, "fieldPath")
    parsed = field_path_container(fp)
    return EventRecord(
        type=_shared(text(raw, "type") or "Normal"),
        reason=_shared(text(raw, "reason")),
        message=_shared(message),
        count=count,
        first=first,
        last=last,
        source=_shared(source),
        kind=_shared(text(obj, "kind")),
        name=_shared(text(obj, "name")),
        namespace=_shared(text(obj, "namespace") or text(raw, "metadata", "namespace")),
        uid=_shared(text(obj, "uid")),
        field_path=_shared(fp),
        container=_shared(parsed[1]) if parsed else None,
    )


def for_pod(events: list[EventRecord], namespace: str, name: str, uid: str) -> list[EventRecord]:
    """The pod's own events, oldest first. An event about an earlier pod of the same name
    (a StatefulSet's pod re-created, another uid) is not this pod's."""
    out = []
    for e in events:
        if e.kind and e.kind != "Pod":
            continue
        if e.name != name or (e.namespace and namespace and e.namespace != namespace):
            continue
        if uid and e.uid and e.uid != uid:
            continue
        out.append(e)
    return sorted(out, key=_sort_key)


_NEVER = datetime.min.replace(tzinfo=timezone.utc)


def by_pod(raw_events) -> dict[str, list[EventRecord]]:
    """Events normalised once and grouped by the pod they are about (uid, else
    namespace/name): what a many-pod caller hands to diagnose() per pod."""
    out: dict[str, list[EventRecord]] = {}
    for raw in raw_events:
        e = raw if isinstance(raw, EventRecord) else normalise(raw)
        if e is None or (e.kind and e.kind != "Pod"):
            continue
        out.setdefault(e.uid or f"{e.namespace}/{e.name}", []).append(e)
    return out


def for_pod_key(grouped: dict[str, list[EventRecord]], pod: dict) -> list[EventRecord]:
    """The pod's events from by_pod(): by uid, plus uid-less events by namespace/name."""
    from probectl.core.objects import text as _text

    uid = _text(pod, "metadata", "uid")
    key = f"{_text(pod, 'metadata', 'namespace') or 'default'}/{_text(pod, 'metadata', 'name')}"
    return (grouped.get(uid, []) if uid else []) + grouped.get(key, [])


def _sort_key(e: EventRecord):
    t = e.last or e.first
    return (t is None, t or _NEVER)


def dedupe(events: list[EventRecord]) -> list[EventRecord]:
    """Merge events with the same reason, message and container (as `kubectl describe` shows
    "x6 over 3m"): counts added, the earliest first and the latest last time."""
    merged: dict[tuple, EventRecord] = {}
    for e in events:
        key = (e.type, e.reason, e.message, e.container, e.source)
        prev = merged.get(key)
        if prev is None:
            merged[key] = e
            continue
        firsts = [t for t in (prev.first, e.first) if t]
        lasts = [t for t in (prev.last, e.last) if t]
        merged[key] = EventRecord(
            type=e.type, reason=e.reason, message=e.message, count=prev.count + e.count,
            first=min(firsts) if firsts else None, last=max(lasts) if lasts else None,
            source=e.source, kind=e.kind, name=e.name, namespace=e.namespace, uid=e.uid,
            field_path=e.field_path, container=e.container,
        )
    return sorted(merged.values(), key=_sort_key)


# The kubelet's own words (pkg/kubelet/prober/prober.go, kuberuntime/kuberuntime_manager.go),
# today's and older releases'. Today: "Container api failed liveness probe, will be restarted"
# (no suffix under restartPolicy Never; "Init container ..." for sidecars, never with the
# suffix). Dockershim-era kubelets (1.1x) wrote "Killing container with id docker://api:
# Container failed liveness probe.. Container will be killed and recreated." and, for a
# deletion, "Killing container with id docker://api:Need to kill Pod".
_PROBE = re.compile(r"(Liveness|Readiness|Startup) probe (failed|errored)")
_KILL = re.compile(r"(?:Init c|C)ontainer (.+?) failed (liveness|startup) probe(?:, will be restarted)?\s*$")
_OLD_KILL = re.compile(r"Killing container with id \w+://([^:]*):(.*)$", re.S)
_OLD_PROBE_KILL = re.compile(r"Container failed (liveness|startup) probe")
_STOPPING = re.compile(r"Stopping container (.+)")
# "Container api definition changed, will be restarted" (sidecars: "Init container ...
# definition changed"); dockershim era: "Killing container with id docker://api:Container
# spec hash changed (3635549375 vs 3145631940).. Container will be killed and recreated."
_SPEC_CHANGE = re.compile(r"(?:Init c|C)ontainer (.+?) definition changed")
_BACKOFF_RESTART = re.compile(r"Back-off restarting failed container(?: (\S+))?")
# kubectl describe folds "x3 over 5m" into the row; a pasted event may keep a leading
# "(combined from similar events): " that the recorder's aggregator adds.
_COMBINED = "(combined from similar events): "


def message_of(e: EventRecord) -> str:
    """The message without the aggregator's "(combined from similar events): " prefix."""
    m = e.message
    return m[len(_COMBINED):] if m.startswith(_COMBINED) else m


def named_container(e: EventRecord) -> str | None:
    """The container an event's message names (kill, stop and back-off texts), if any."""
    m = message_of(e)
    for rx in (_KILL, _STOPPING, _BACKOFF_RESTART, _SPEC_CHANGE, _OLD_KILL):
        hit = rx.match(m)
        if hit and hit.group(1):
            return hit.group(1).strip()
    return None


def probe_result(e: EventRecord) -> tuple[str, str] | None:
    """("liveness", "failed") for an Unhealthy "Liveness probe failed: ..." event;
    ("liveness", "errored") when the probe could not run (the kubelet discards that result)."""
    if e.reason not in ("Unhealthy", ""):
        return None  # ProbeWarning (a redirect) is a success
    m = _PROBE.match(message_of(e))
    if not m:
        return None
    return m.group(1).lower(), m.group(2)


def probe_failed(e: EventRecord, kind: str) -> bool:
    """A *failed* probe of `kind`: the only result that counts toward failureThreshold."""
    r = probe_result(e)
    return r is not None and r == (kind, "failed")


def probe_kill(e: EventRecord) -> str | None:
    """"liveness" / "startup" for the kill the kubelet announced; None otherwise."""
    if e.reason != "Killing":
        return None
    msg = message_of(e)
    m = _KILL.match(msg)
    if m:
        return m.group(2)
    old = _OLD_KILL.match(msg)
    if old:
        k = _OLD_PROBE_KILL.match(old.group(2))
        return k.group(1) if k else None
    return None


def _killing(e: EventRecord, today: re.Pattern, old_reason: str) -> bool:
    """A Killing event in today's wording, or the dockershim era's "Killing container with
    id docker://NAME:REASON" with that reason."""
    if e.reason != "Killing":
        return False
    msg = message_of(e)
    if today.match(msg):
        return True
    old = _OLD_KILL.match(msg)
    return bool(old and old.group(2).startswith(old_reason))


def is_stop(e: EventRecord) -> bool:
    """A plain stop: "Stopping container X" (deletion, rollout, preemption, eviction)."""
    return _killing(e, _STOPPING, "Need to kill Pod")


def is_spec_change(e: EventRecord) -> bool:
    """A restart because the container's spec changed (image update in place, resize)."""
    return _killing(e, _SPEC_CHANGE, "Container spec hash changed")


def is_hook_kill(e: EventRecord) -> bool:
    """The kill after a failed postStart hook: Killing "FailedPostStartHook" (kuberuntime_container.go)."""
    return (e.reason == "Killing" and message_of(e).strip() == "FailedPostStartHook") or e.reason == "FailedPostStartHook"


def is_backoff(e: EventRecord) -> bool:
    """ "Back-off restarting failed container [X in pod ...]" (older kubelets name nothing;
    some clusters record it as Normal)."""
    return e.reason == "BackOff" and bool(_BACKOFF_RESTART.match(message_of(e)))


def overlaps(e: EventRecord, start: datetime | None, end: datetime | None, slack: float = 2.0) -> bool:
    """Could an occurrence of `e` (aggregated from first to last) fall in [start, end]?"""
    first, last = e.first or e.last, e.last or e.first
    if first is None:
        return False
    pad = timedelta(seconds=slack)
    if start is not None and last < start - pad:
        return False
    if end is not None and first > end + pad:
        return False
    return True
