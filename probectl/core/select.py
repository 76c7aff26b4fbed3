"""Pick pods from a set of pods (files, or a list from the API): the one the user named,
and those a kubectl label or field selector matches (`-l`, `--field-selector` with files)."""

from __future__ import annotations

import re

from probectl.core.objects import get, text
from probectl.errors import InputError


def strip_kind(name: str) -> str:
    """`pod/web-1` and `pods/web-1` -> `web-1`, as kubectl accepts them."""
    for prefix in ("pod/", "pods/", "po/"):
        if name.lower().startswith(prefix):
            return name[len(prefix):]
    return name


def find_pod(pods: list[dict], name: str | None, namespace: str | None) -> dict:
    """The one pod that matches; InputError with the candidates otherwise."""
    candidates = [p for p in pods if not namespace or (text(p, "metadata", "namespace") or "default") == namespace]
    label = lambda p: f"{text(p, 'metadata', 'namespace') or 'default'}/{text(p, 'metadata', 'name')}"  # noqa: E731
    if name:
        name = strip_kind(name)
        matches = [p for p in candidates if text(p, "metadata", "name") == name]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            spaces = ", ".join(sorted({text(p, "metadata", "namespace") or "default" for p in matches}))
            raise InputError(f'pod "{name}" is in several namespaces ({spaces}): choose one with -n')
        where = f' in namespace "{namespace}"' if namespace else ""
        close = sorted(label(p) for p in candidates if name in text(p, "metadata", "name"))[:5]
        hint = f"; similar: {', '.join(close)}" if close else (
            f"; pods there: {', '.join(sorted(label(p) for p in candidates)[:5])}" if candidates else "")
        raise InputError(f'pod "{name}" not found in the input{where}{hint}')
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        where = f' in namespace "{namespace}"' if namespace else ""
        raise InputError(f"no pod in the input{where}")
    names = ", ".join(sorted(label(p) for p in candidates)[:5])
    more = f" and {len(candidates) - 5} more" if len(candidates) > 5 else ""
    raise InputError(f"the input holds {len(candidates)} pods ({names}{more}): name one, e.g. 'probectl why POD -f ...'")


def related_pods(pods: list[dict], name: str) -> tuple[str, list[dict]]:
    """Pods a user probably means by `name` when no pod has that name: those a workload
    of that name owns (Deployment, StatefulSet, DaemonSet, Job, ReplicaSet, ...), else
    those whose name starts with `name-`. Returns (what they are, pods)."""
    from probectl.core.objects import owner

    owned = [(owner(p), p) for p in pods]
    mine = [(k, p) for (k, n), p in owned if n == name]
    if mine:
        kinds = sorted({k for k, _ in mine})
        return f"{'/'.join(kinds)} {name}", [p for _, p in mine]
    prefixed = [p for p in pods if text(p, "metadata", "name").startswith(name + "-")]
    return f'pods named "{name}-..."', prefixed


# --------------------------------------------------------------------------- selectors (for files)

_SET = re.compile(r"\s*([A-Za-z0-9_./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*")


def _split_selector(selector: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def label_matcher(selector: str | None):
    """A predicate over a pod for a kubectl label selector: `app=web,tier!=db,env in (a,b),!canary,gpu`."""
    from probectl.errors import UsageError

    if not selector:
        return lambda pod: True
    tests = []
    for term in _split_selector(selector):
        m = _SET.fullmatch(term)
        if m:
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",") if v.strip()}
            if op == "in":
                tests.append(lambda labels, k=key, vs=values: labels.get(k) in vs)
            else:  # notin: an absent label matches, as in Kubernetes
                tests.append(lambda labels, k=key, vs=values: labels.get(k) not in vs)
            continue
        m = re.fullmatch(r"([A-Za-z0-9_./-]+)\s*(==|=|!=)\s*([A-Za-z0-9_.-]*)", term)
        if m:
            key, op, value = m.groups()
            tests.append(lambda labels, k=key, o=op, v=value: (labels.get(k) == v) if o != "!=" else labels.get(k) != v)
            continue
        m = re.fullmatch(r"(!?)([A-Za-z0-9_./-]+)", term)
        if m:
            neg, key = m.groups()
            tests.append(lambda labels, k=key, n=bool(neg): (k in labels) != n)
            continue
        raise UsageError(f"cannot parse the label selector {selector!r} at {term!r}")

    def match(pod: dict) -> bool:
        labels = get(pod, "metadata", "labels", default={})
        labels = labels if isinstance(labels, dict) else {}
        return all(t(labels) for t in tests)

    return match


_FIELDS = {
    "metadata.name": ("metadata", "name"), "metadata.namespace": ("metadata", "namespace"),
    "spec.nodeName": ("spec", "nodeName"), "spec.restartPolicy": ("spec", "restartPolicy"),
    "status.phase": ("status", "phase"), "spec.serviceAccountName": ("spec", "serviceAccountName"),
}


def field_matcher(selector: str | None):
    """A predicate for the pod field selectors the API supports most: `status.phase!=Running`."""
    from probectl.errors import UsageError

    if not selector:
        return lambda pod: True
    tests = []
    for term in _split_selector(selector):
        m = re.fullmatch(r"([A-Za-z.]+)\s*(==|=|!=)\s*(.*)", term)
        if not m or m.group(1) not in _FIELDS:
            raise UsageError(f"unsupported field selector {term!r} (with files: {', '.join(sorted(_FIELDS))})")
        path, op, value = _FIELDS[m.group(1)], m.group(2), m.group(3).strip()
        tests.append(lambda pod, p=path, o=op, v=value: (text(pod, *p) == v) != (o == "!="))
    return lambda pod: all(t(pod) for t in tests)
