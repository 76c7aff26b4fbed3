"""Events: normalise core/v1 and events.k8s.io/v1, match them to a pod, a container and
a container instance, and read the kubelet's probe and kill messages."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from probectl.core.model import EventRecord
from probectl.core.objects import field_path_container, get, integer, parse_time, text


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
        type=text(raw, "type") or "Normal",
        reason=text(raw, "reason"),
        message=message,
        count=count,
        first=first,
        last=last,
        source=source,
        kind=text(obj, "kind"),
        name=text(obj, "name"),
        namespace=text(obj, "namespace") or text(raw, "metadata", "namespace"),
        uid=text(obj, "uid"),
        field_path=fp,
        container=parsed[1] if parsed else None,
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


# The kubelet's own words (pkg/kubelet/prober/prober.go, kuberuntime/kuberuntime_manager.go).
_PROBE = re.compile(r"(Liveness|Readiness|Startup) probe (failed|errored)")
_KILL = re.compile(r"Container (.+) failed (liveness|startup) probe, will be restarted")
_STOPPING = re.compile(r"Stopping container (.+)")
_BACKOFF_RESTART = re.compile(r"Back-off restarting failed container (\S+)")


def probe_result(e: EventRecord) -> tuple[str, str] | None:
    """("liveness", "failed") for an Unhealthy "Liveness probe failed: ..." event."""
    if e.reason not in ("Unhealthy", "ProbeWarning", ""):
        return None
    m = _PROBE.match(e.message)
    if not m:
        return None
    if e.reason == "ProbeWarning":
        return None  # a warning (e.g. a redirect), not a failure
    return m.group(1).lower(), m.group(2)


def probe_kill(e: EventRecord) -> str | None:
    """"liveness" / "startup" for the kill the kubelet announced; None otherwise."""
    if e.reason != "Killing":
        return None
    m = _KILL.match(e.message)
    return m.group(2) if m else None


def is_stop(e: EventRecord) -> bool:
    """A plain stop: "Stopping container X" (deletion, rollout, preemption, eviction)."""
    return e.reason == "Killing" and bool(_STOPPING.match(e.message))


def is_backoff(e: EventRecord) -> bool:
    return e.reason == "BackOff" and bool(_BACKOFF_RESTART.match(e.message))


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
