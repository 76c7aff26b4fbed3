"""Safe accessors over raw API dicts: any field may be missing or of the wrong type."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

from probectl.core.timefmt import human_duration  # noqa: F401 - re-exported (core/workload.py)

CONTAINER = "container"
INIT = "init"
SIDECAR = "sidecar"
EPHEMERAL = "ephemeral"


_MISSING = object()


def get(obj, *path, default=None):
    """obj[path[0]][path[1]]..., or `default` when any step is missing or not a dict/list.

    On the hot path of a scan (millions of calls for 10,000 pods): keep it lean."""
    cur = obj
    for key in path:
        if isinstance(cur, dict):
            cur = cur.get(key, _MISSING)
            if cur is _MISSING:
                return default
        elif isinstance(cur, list) and isinstance(key, int) and -len(cur) <= key < len(cur):
            cur = cur[key]
        else:
            return default
    return default if cur is None else cur


def text(obj, *path) -> str:
    v = get(obj, *path)
    return v if isinstance(v, str) else ("" if v is None or isinstance(v, (dict, list)) else str(v))


def integer(obj, *path, default: int | None = None) -> int | None:
    v = get(obj, *path)
    if isinstance(v, bool):
        return default
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and re.fullmatch(r"-?[0-9]{1,12}", v.strip()):
        return int(v)
    return default


def dicts(obj, *path) -> list[dict]:
    v = get(obj, *path)
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:?\d{2})?"
)


def parse_time(value) -> datetime | None:
    """RFC 3339 as the API writes it (`2024-05-01T10:00:00Z`, with fractions in MicroTime).

    Zero times (`0001-01-01T00:00:00Z`, as a lost container reports), the Unix epoch
    (containerd's startedAt for a process that never started: StartError) and junk give None.
    """
    if not isinstance(value, str):
        return None
    return _parse_time(value)


@lru_cache(maxsize=65536)
def _parse_time(value: str) -> datetime | None:
    """Cached: a cluster repeats the same timestamps across pods, containers and events."""
    m = _TIME.fullmatch(value.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, frac, tz = m.groups()
    if y == "0001" or (y == "1970" and mo == "01" and d == "01" and h == "00" and mi == "00" and s == "00"):
        return None
    try:
        micro = int((frac or "0")[:6].ljust(6, "0"))
        t = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro, tzinfo=timezone.utc)
    except ValueError:
        return None
    if tz and tz.upper() != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        from datetime import timedelta

        t -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return t


@dataclass(frozen=True)
class ContainerRef:
    """One container of a pod with its spec and its status (either may be empty)."""

    name: str
    type: str
    spec: dict
    status: dict
    index: int


def containers(pod: dict) -> list[ContainerRef]:
    """Every container of the pod, in start order: init and sidecar, main, ephemeral."""
    out: list[ContainerRef] = []
    groups = (
        ("initContainers", "initContainerStatuses"),
        ("containers", "containerStatuses"),
        ("ephemeralContainers", "ephemeralContainerStatuses"),
    )
    for spec_key, status_key in groups:
        statuses = {text(s, "name"): s for s in dicts(pod, "status", status_key)}
        seen = set()
        for i, spec in enumerate(dicts(pod, "spec", spec_key)):
            name = text(spec, "name")
            if not name or name in seen:
                continue
            seen.add(name)
            out.append(ContainerRef(name, _type(spec_key, spec), spec, statuses.pop(name, {}), i))
        # A status whose spec is missing (a partial object): keep it, it is evidence.
        for name, status in statuses.items():
            if name and name not in seen:
                out.append(ContainerRef(name, _type(spec_key, {}), {}, status, len(seen)))
    return out


def _type(spec_key: str, spec: dict) -> str:
    if spec_key == "initContainers":
        return SIDECAR if text(spec, "restartPolicy") == "Always" else INIT
    if spec_key == "ephemeralContainers":
        return EPHEMERAL
    return CONTAINER


_FIELD_PATH = re.compile(r"spec\.(containers|initContainers|ephemeralContainers)\{(.+)\}")


def field_path_container(field_path: str) -> tuple[str, str] | None:
    """`spec.containers{api}` -> ("containers", "api"); anything else -> None."""
    m = _FIELD_PATH.fullmatch(field_path.strip()) if isinstance(field_path, str) else None
    return (m.group(1), m.group(2)) if m else None


def condition(pod: dict, ctype: str) -> dict:
    for c in dicts(pod, "status", "conditions"):
        if c.get("type") == ctype:
            return c
    return {}


def owner(pod: dict) -> tuple[str, str]:
    """The controlling owner as users name it: a ReplicaSet's pods belong to its Deployment."""
    refs = dicts(pod, "metadata", "ownerReferences")
    ref = next((r for r in refs if r.get("controller") is True), refs[0] if refs else None)
    if not ref:
        return "", ""
    kind, name = text(ref, "kind"), text(ref, "name")
    pth = text(pod, "metadata", "labels", "pod-template-hash")
    if kind == "ReplicaSet" and pth and name.endswith("-" + pth):
        return "Deployment", name[: -len(pth) - 1]
    return kind, name


def memory_limit(spec: dict) -> str | None:
    v = get(spec, "resources", "limits", "memory")
    return str(v) if isinstance(v, (str, int, float)) and not isinstance(v, bool) else None


_UNITS = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18, "": 1,
}


def quantity_bytes(q: str | None) -> int | None:
    """`256Mi` -> 268435456; None when it is not a memory quantity."""
    if not isinstance(q, str):
        return None
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|)\s*", q)
    if not m:
        return None
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def format_bytes(n: int) -> str:
    """Binary units as a Kubernetes quantity: 536870912 -> 512Mi."""
    for unit, size in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if n >= size and n % size == 0:
            return f"{n // size}{unit}"
    for unit, size in (("Gi", 2**30), ("Mi", 2**20)):
        if n >= size:
            return f"{-(-n // size)}{unit}"
    return str(n)


_CONTAINER_KEYS = ("name", "image", "livenessProbe", "readinessProbe", "startupProbe", "resources", "restartPolicy", "ports",
                   "restartPolicyRules", "resizePolicy")
_SPEC_KEYS = ("nodeName", "restartPolicy", "terminationGracePeriodSeconds", "activeDeadlineSeconds", "schedulingGates",
              "resources")
_META_KEYS = ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
              "labels", "ownerReferences", "finalizers")


def _compact_container(c: dict) -> dict:
    out = {k: c[k] for k in _CONTAINER_KEYS if k in c}
    signal = get(c, "lifecycle", "stopSignal")
    if signal is not None:  # only the stop signal: hooks carry commands
        out["lifecycle"] = {"stopSignal": signal}
    return out


def compact_pod(pod: dict) -> dict:
    """What the engine reads of a pod, and nothing else: no managedFields, annotations,
    env (values can be secrets), volumes or commands. A scan of 10,000 pods keeps these.

    Anything not shaped as expected is passed through untouched: the engine copes."""
    if not isinstance(pod, dict) or not isinstance(pod.get("spec"), dict) or not isinstance(pod.get("metadata"), dict):
        return pod
    meta, spec = pod["metadata"], pod["spec"]
    out_spec = {k: spec[k] for k in _SPEC_KEYS if k in spec}
    for key in ("initContainers", "containers", "ephemeralContainers"):
        if isinstance(spec.get(key), list):
            out_spec[key] = [_compact_container(c) if isinstance(c, dict) else c for c in spec[key]]
        elif key in spec:
            out_spec[key] = spec[key]
    out = {"metadata": {k: meta[k] for k in _META_KEYS if k in meta}, "spec": out_spec}
    for k in ("apiVersion", "kind", "status"):
        if k in pod:
            out[k] = pod[k]
    return out
