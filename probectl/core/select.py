"""Pick the pod the user named from a set of pods (files, or a list from the API)."""

from __future__ import annotations

from probectl.core.objects import text
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
