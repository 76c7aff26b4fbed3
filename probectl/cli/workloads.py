"""`probectl why KIND/NAME`: read a workload, its revisions, events and pods (from the API
or from files) and hand them to core/workload.py. Bounded: a GET of the workload, one
list of its ReplicaSets (or, for a CronJob, its Jobs) and one of its pods by its
selector, one list of the namespace's events; never a request per pod."""

from __future__ import annotations

import sys

from probectl.errors import ClusterError, InputError


class WorkloadMissing(InputError):
    """The input files hold no object of the workload's kind (kubectl get pods,events): `why`
    falls back to the pods of that name."""


class WorkloadForbidden(ClusterError):
    """RBAC allows no get on the workload kind: `why` falls back to the pods of that name."""


def from_files(snap, kind: str, name: str, namespace: str | None, recent=None):
    from probectl.core.diagnose import snapshot_time
    from probectl.core.objects import parse_time, text
    from probectl.core.workload import diagnose_workload

    label = lambda o: f"{text(o, 'metadata', 'namespace') or 'default'}/{text(o, 'metadata', 'name')}"  # noqa: E731
    same_kind = [o for o in snap.workloads if o.get("kind") == kind
                 and (not namespace or (text(o, "metadata", "namespace") or "default") == namespace)]
    found = [o for o in same_kind if text(o, "metadata", "name") == name]
    if len(found) > 1:
        spaces = ", ".join(sorted({text(o, "metadata", "namespace") or "default" for o in found}))
        raise InputError(f'{kind.lower()} "{name}" is in several namespaces ({spaces}): choose one with -n')
    if not found:
        where = f' in namespace "{namespace}"' if namespace else ""
        there = sorted(label(o) for o in same_kind)[:5]
        if not there:
            raise WorkloadMissing(f'the input holds no {kind} (kubectl get {kind.lower()},rs,pods,events -o json, '
                                  "or a cluster-info dump)")
        raise InputError(f'{kind.lower()} "{name}" not found in the input{where}; {kind}s there: {", ".join(there)}')
    w = found[0]
    times = [t for o in snap.workloads for t in _times(o, parse_time)]
    base = snapshot_time(snap.pods, snap.events)
    now = max([t for t in [base, *times] if t], default=None)
    return diagnose_workload(w, replicasets=[o for o in snap.workloads if o.get("kind") == "ReplicaSet"],
                             jobs=[o for o in snap.workloads if o.get("kind") == "Job"], pods=snap.pods,
                             events=snap.events, now=now, recent=recent,
                             clock_known=bool(snap.events) or len(snap.pods) > 1)


def _times(obj: dict, parse_time):
    from probectl.core.objects import dicts, get

    yield parse_time(get(obj, "metadata", "creationTimestamp"))
    for c in dicts(obj, "status", "conditions"):
        yield parse_time(c.get("lastUpdateTime"))
        yield parse_time(c.get("lastTransitionTime"))


def live(kind: str, name: str, *, namespace, context, kubeconfig, timeout, debug: bool = False, recent=None,
         read_logs: bool = True):
    import dataclasses
    from datetime import datetime, timezone

    from probectl.core.objects import get
    from probectl.core.workload import diagnose_workload, latest_job
    from probectl.sources import cluster as cl

    conn = cl.connect(kubeconfig, context, namespace)
    client = cl.Client(conn, cl.parse_timeout(timeout), debug=sys.stderr if debug else None)
    ns = conn.target.namespace
    warnings: list[str] = []
    try:
        try:
            w = cl.get_workload(client, kind, ns, name)
        except cl.NotFound:
            raise _not_found(client, kind, ns, name) from None
        except cl.Forbidden as e:
            raise WorkloadForbidden(f'{kind.lower()} "{name}" could not be read in namespace "{ns}" ({e.message})') from None
        replicasets, jobs = [], []
        target = w
        if kind == "Deployment":
            try:
                replicasets = list(cl.list_workloads(client, "ReplicaSet", ns,
                                                     label_selector=cl.selector_string(get(w, "spec", "selector"))))
            except cl.Forbidden as e:
                warnings.append(f"ReplicaSets could not be listed ({e.message}): revisions are not known, and "
                                "the pods are judged without telling the new revision from the old.")
        elif kind == "CronJob":
            try:
                jobs = list(cl.list_workloads(client, "Job", ns))
            except cl.Forbidden as e:
                raise cl.ClusterError(f"the Jobs of CronJob {name} could not be listed: {e.message}") from None
            target = latest_job(w, jobs) or w
        pods: list[dict] = []
        selector = cl.selector_string(get(target, "spec", "selector"))
        if target is not w or kind != "CronJob":
            try:
                pods = list(cl.list_pods(client, ns, label_selector=selector)) if selector else []
            except cl.Forbidden as e:
                warnings.append(f"its pods could not be listed ({e.message}): the verdict rests on the "
                                f"{kind}'s status and events.")
        events_note = None
        try:
            events = cl.namespace_events(client, ns)
        except cl.Forbidden as e:
            events, events_note = [], (f"Events could not be read ({e.message}): FailedCreate, probe failures and "
                                       "kills are not visible and confidence is lower.")
        now = datetime.now(timezone.utc)
        judge = dict(replicasets=replicasets, pods=pods, events=events, jobs=jobs, now=now, recent=recent,
                     events_note=events_note)
        d = diagnose_workload(w, **judge)
        if read_logs and d.groups:
            known = _crash_lines(client, d, pods, events, recent, events_note)
            log_notes = tuple(known.pop("", ()))
            if known:  # judged again, the representatives with the crash lines their logs hold
                d = diagnose_workload(w, **judge, pod_diagnoses=known)
            d = dataclasses.replace(d, warnings=d.warnings + log_notes)
    finally:
        client.close()
    if warnings:
        d = dataclasses.replace(d, warnings=tuple(warnings) + d.warnings)
    return d


def _crash_lines(client, d, pods, events, recent, events_note) -> dict:
    """Each failing group's representative with the crash line of its previous log, as
    `why POD` reads it: one log request per group, never per pod. Returns {uid: Diagnosis}
    (and "" -> the warnings of logs that could not be read)."""
    from probectl.cli import crashlogs
    from probectl.core.events import by_pod, for_pod_key

    by_name = {(p.get("metadata") or {}).get("name"): p for p in pods}
    grouped = by_pod(events)
    logs = crashlogs.GroupLogs(client, recent=recent)
    known: dict = {}
    for g in d.groups:
        pod = by_name.get(g.representative.pod.name)
        if pod is None:
            continue
        rep = logs(g.representative, pod, for_pod_key(grouped, pod), None, events_note=events_note)
        if rep is not g.representative:
            meta = pod.get("metadata") or {}
            known[meta.get("uid") or f"{meta.get('namespace') or 'default'}/{meta.get('name')}"] = rep
    if logs.warnings():
        known[""] = logs.warnings()
    return known


def _not_found(client, kind: str, ns: str, name: str) -> InputError:
    import difflib

    from probectl.sources import cluster as cl

    try:
        names = [(o.get("metadata") or {}).get("name", "") for o in cl.list_workloads(client, kind, ns)]
    except cl.ClusterError:
        names = []
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return InputError(f'{kind.lower()} "{name}" not found in namespace "{ns}"{hint}')
