"""Resource paths and reads of the API server: pods, events, logs, workloads.

Paths are built here (names quoted); every list goes through `Client.list` (paged, never
one request per pod). `probectl.sources.cluster` re-exports these names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import quote

from probectl.errors import InputError

if TYPE_CHECKING:
    from probectl.sources.http import Client


# --------------------------------------------------------------------------- reads


def pod_path(namespace: str, name: str = "") -> str:
    base = f"/api/v1/namespaces/{quote(namespace, safe='')}/pods"
    return f"{base}/{quote(name, safe='')}" if name else base


def events_path(namespace: str) -> str:
    return f"/api/v1/namespaces/{quote(namespace, safe='')}/events"


def get_pod(client: Client, namespace: str, name: str) -> dict:
    return client.get(pod_path(namespace, name))


def pod_events(client: Client, pod: dict) -> list[dict]:
    """The pod's events: one list with a field selector (uid, else name)."""
    meta = pod.get("metadata") or {}
    uid, name, ns = meta.get("uid"), meta.get("name", ""), meta.get("namespace", "default")
    selector = f"involvedObject.uid={uid}" if uid else f"involvedObject.name={name},involvedObject.kind=Pod"
    return list(client.list(events_path(ns), {"fieldSelector": selector}))


def namespace_pods(client: Client, namespace: str) -> list[dict]:
    return list(client.list(pod_path(namespace)))


def namespace_pod_events(client: Client, namespace: str) -> list[dict]:
    return list(client.list(events_path(namespace), {"fieldSelector": "involvedObject.kind=Pod"}))


def _pods_query(namespace: str | None, label_selector: str | None, field_selector: str | None) -> tuple[str, dict]:
    params = {}
    if label_selector:
        params["labelSelector"] = label_selector
    if field_selector:
        params["fieldSelector"] = field_selector
    return (pod_path(namespace) if namespace else "/api/v1/pods"), params


def list_pods(client: Client, namespace: str | None, *, label_selector: str | None = None,
              field_selector: str | None = None, warn: Callable[[str], None] | None = None) -> Iterator[dict]:
    """Pods of a namespace (None: all namespaces), page by page."""
    path, params = _pods_query(namespace, label_selector, field_selector)
    return client.list(path, params, warn=warn)


def start_list_pods(client: Client, namespace: str | None, *, label_selector: str | None = None,
                    field_selector: str | None = None) -> None:
    """Ask for the first page of list_pods() with the same arguments now, in the background."""
    path, params = _pods_query(namespace, label_selector, field_selector)
    client.start_list(path, params)


def list_pod_events(client: Client, namespace: str | None, *, warn: Callable[[str], None] | None = None) -> Iterator[dict]:
    """Events about pods in a namespace (None: all namespaces), page by page."""
    path = events_path(namespace) if namespace else "/api/v1/events"
    return client.list(path, {"fieldSelector": "involvedObject.kind=Pod"}, warn=warn)


LOG_LIMIT_BYTES = 2 * 1024 * 1024  # a log read never downloads more (200 lines of long JSON records fit)


def previous_logs(client: Client, namespace: str, name: str, container: str, lines: int, previous: bool) -> list[str]:
    params = {"container": container, "tailLines": str(lines), "limitBytes": str(LOG_LIMIT_BYTES)}
    if previous:
        params["previous"] = "true"
    text = client.text(pod_path(namespace, name) + "/log", params)
    return text.splitlines()[-lines:] if lines else []


def not_found(namespace: str, name: str, candidates: list[str]) -> InputError:
    import difflib

    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return InputError(f'pod "{name}" not found in namespace "{namespace}"{hint}')


# --------------------------------------------------------------------------- workloads

WORKLOAD_RESOURCES = {  # kind -> (API group path, plural)
    "Deployment": ("/apis/apps/v1", "deployments"),
    "ReplicaSet": ("/apis/apps/v1", "replicasets"),
    "StatefulSet": ("/apis/apps/v1", "statefulsets"),
    "DaemonSet": ("/apis/apps/v1", "daemonsets"),
    "Job": ("/apis/batch/v1", "jobs"),
    "CronJob": ("/apis/batch/v1", "cronjobs"),
}


def workload_path(kind: str, namespace: str | None, name: str = "") -> str:
    group, plural = WORKLOAD_RESOURCES[kind]
    base = f"{group}/namespaces/{quote(namespace, safe='')}/{plural}" if namespace else f"{group}/{plural}"
    return f"{base}/{quote(name, safe='')}" if name else base


def get_workload(client: Client, kind: str, namespace: str, name: str) -> dict:
    obj = client.get(workload_path(kind, namespace, name))
    obj.setdefault("kind", kind)  # a GET answers with its kind; be sure
    return obj


def list_workloads(client: Client, kind: str, namespace: str | None, *, label_selector: str | None = None,
                   warn: Callable[[str], None] | None = None) -> Iterator[dict]:
    """A workload kind's objects in a namespace (None: all), page by page, kinds filled in
    (list items from the API server carry none)."""
    params = {"labelSelector": label_selector} if label_selector else {}
    for item in client.list(workload_path(kind, namespace), params, warn=warn):
        item.setdefault("kind", kind)
        yield item


def selector_string(selector: dict | None) -> str | None:
    """A LabelSelector (matchLabels, matchExpressions) in the API's query syntax; None when
    it selects nothing expressible (no selector)."""
    if not isinstance(selector, dict):
        return None
    terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for e in selector.get("matchExpressions") or []:
        if not isinstance(e, dict):
            continue
        key, op, values = e.get("key", ""), e.get("operator", ""), ",".join(e.get("values") or [])
        terms.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key,
                      "DoesNotExist": f"!{key}"}.get(op, ""))
    terms = [t for t in terms if t]
    return ",".join(terms) or None


def namespace_events(client: Client, namespace: str, *, field_selector: str | None = None) -> list[dict]:
    """Every event of a namespace (the workload's, its ReplicaSets' and its pods'): one list."""
    return list(client.list(events_path(namespace), {"fieldSelector": field_selector} if field_selector else {}))


def list_failed_creates(client: Client, namespace: str | None, *, warn: Callable[[str], None] | None = None) -> Iterator[dict]:
    """The controllers' FailedCreate events (pods they could not create): a small list."""
    path = events_path(namespace) if namespace else "/api/v1/events"
    return client.list(path, {"fieldSelector": "reason=FailedCreate"}, warn=warn)
