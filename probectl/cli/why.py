"""`probectl why POD`: one pod's verdict with its evidence, from a cluster or from files."""

from __future__ import annotations

import dataclasses
import sys
from enum import Enum

import typer

from probectl.cli import options
from probectl.errors import ExitStatus, InputError, UsageError

HELP = """Say why a pod's containers restart, crash or get no traffic.

Reads the pod and its events, decodes each container's last termination, correlates it
with probe failures, the kills the kubelet announced and the restartPolicy, and gives one
verdict with its evidence and next steps.

From the current kubectl context:

\b
  probectl why web-7f9c6d8b5-x2lqz -n shop
  probectl why web -n shop            # no such pod: the pods of Deployment web
  probectl why web-7f9c6d8b5-x2lqz --logs 20   # and show its last 20 log lines
  probectl why web-7f9c6d8b5-x2lqz --no-logs   # no log request at all

Why is a rollout stuck? Name the workload as kubectl does (deploy, sts, ds, job,
cronjob/cj: its latest Job, rs): one verdict for the rollout, from its revisions, the
controller's events (pods it cannot create: quota, PodSecurity, a webhook, a missing
service account) and the pods of the current revision:

\b
  probectl why deploy/web -n shop
  probectl why sts/db -n shop -o json
  probectl why deploy/web -n shop -o github   # after a failed helm upgrade --wait

From kubectl output instead of a cluster, with -f (repeatable, '-' for stdin):

\b
  probectl why web-7f9c6d8b5-x2lqz -n shop -f pod.json -f events.json
  kubectl get deploy,rs,pods,events -n shop -o json | probectl why deploy/web -f -

Exit status: 0 when the pod or rollout is fine (complete, progressing in time, or
paused), 1 when it has trouble, 2 for bad input or an unknown pod or workload, 3 when
the cluster cannot be read.
"""


class WhyOutput(str, Enum):
    table = "table"
    json = "json"
    yaml = "yaml"
    github = "github"


LOG_LINE_LIMIT = 1000


def diagnose_snapshot(snap, pod_name: str | None, namespace: str | None, recent=None):
    """Pick the pod from a file snapshot and diagnose it as of the snapshot's time."""
    from probectl.core.diagnose import diagnose, snapshot_time
    from probectl.core.select import find_pod

    pod = find_pod(snap.pods, pod_name, namespace)
    # with no events and no other pod, "now" is this pod's own newest timestamp
    clock_known = bool(snap.events) or len(snap.pods) > 1
    return diagnose(pod, snap.events, snapshot_time(snap.pods, snap.events), recent=recent, clock_known=clock_known)


def diagnose_live(name: str, *, namespace: str | None, context: str | None, kubeconfig: str | None,
                  timeout: str | None, logs: int, debug: bool = False, recent=None, read_logs: bool = True) -> list:
    """GET the pod, LIST its events, and read at most one log per container that ended by
    itself or crashed (read_logs) or is troubled (--logs N). When no pod has that name,
    the pods of the workload of that name."""
    from probectl.sources import cluster as cl

    conn = cl.connect(kubeconfig, context, namespace)
    client = cl.Client(conn, cl.parse_timeout(timeout), debug=sys.stderr if debug else None)
    try:  # closed whatever happens: a long-running caller (probectl mcp) must not keep sessions
        return _diagnose_live(client, conn, name, logs=logs, recent=recent, read_logs=read_logs)
    finally:
        client.close()


def _diagnose_live(client, conn, name: str, *, logs: int, recent, read_logs: bool) -> list:
    from datetime import datetime, timezone

    from probectl.cli import crashlogs
    from probectl.core.diagnose import diagnose
    from probectl.core.events import by_pod, for_pod_key
    from probectl.core.select import related_pods, strip_kind
    from probectl.sources import cluster as cl

    ns = conn.target.namespace
    name = strip_kind(name)
    notes: list[str] = []
    try:
        pods = [cl.get_pod(client, ns, name)]
        fetch_events = lambda: cl.pod_events(client, pods[0])  # noqa: E731
    except cl.NotFound:
        try:
            everyone = cl.namespace_pods(client, ns)
        except cl.Forbidden as e:
            raise cl.ClusterError(f'pod "{name}" not found in namespace "{ns}", and listing its pods is {e.message}') from None
        what, pods = related_pods(everyone, name)
        if not pods:
            raise cl.not_found(ns, name, [p.get("metadata", {}).get("name", "") for p in everyone]) from None
        notes.append(f'There is no pod named "{name}" in namespace "{ns}": these are the {len(pods)} pod(s) of {what}.')
        fetch_events = lambda: cl.namespace_pod_events(client, ns)  # noqa: E731
    except cl.Forbidden as e:
        raise cl.ClusterError(f'cannot read pod "{name}" in namespace "{ns}" ({conn.target.where()}): {e.message}') from None
    events_note = None
    try:
        events = fetch_events()
    except cl.Forbidden as e:
        events, events_note = [], (f"Events could not be read ({e.message}): the verdict rests on the pod's status alone, "
                                   "so probe failures and kills are not visible and confidence is lower.")
    now = datetime.now(timezone.utc)
    grouped = by_pod(events)  # normalised once, not once per pod of a workload
    # a workload's pods: one log per group of pods failing the same way, as scan reads them
    group_logs = crashlogs.GroupLogs(client, recent=recent) if len(pods) > 1 and read_logs else None
    diagnoses = []
    for pod in pods:
        pod_events = for_pod_key(grouped, pod)
        d = diagnose(pod, pod_events, now, events_note=events_note, recent=recent)
        if group_logs is not None and d.severity.value != "ok":
            d = group_logs(d, pod, pod_events, None, events_note=events_note)
        if logs > 0 or (read_logs and group_logs is None):
            texts, tails, log_notes = _read_logs(client, d, min(logs, LOG_LINE_LIMIT), read_logs and group_logs is None)
            if texts:  # judged again with the crash lines the logs hold
                d = diagnose(pod, pod_events, now, events_note=events_note, recent=recent, logs=texts)
            d = dataclasses.replace(d, logs=tuple(tails), warnings=d.warnings + tuple(log_notes))
        if notes:
            d = dataclasses.replace(d, warnings=tuple(notes) + d.warnings)
        diagnoses.append(d)
    if group_logs is not None and group_logs.warnings() and diagnoses:
        diagnoses[0] = dataclasses.replace(diagnoses[0], warnings=diagnoses[0].warnings + tuple(group_logs.warnings()))
    return diagnoses


def _read_logs(client, d, show: int, crash: bool):
    """One log request per container that needs one (core.diagnose.wants_crash_log: it
    ended by itself or crashed, and its termination message says nothing), or that is
    troubled and --logs N asks for. Returns (texts for the engine, tails to show, warnings)."""
    from probectl.cli import crashlogs
    from probectl.core.diagnose import wants_crash_log
    from probectl.core.model import LogTail, Severity
    from probectl.sources import cluster as cl

    texts: dict[str, tuple[str, str]] = {}
    tails, notes = [], []
    for c in d.containers:
        explain = crash and wants_crash_log(d, c)
        shown = show > 0 and c.severity is not Severity.OK and (c.last_termination is not None or c.state == "running")
        if not (explain or shown):
            continue
        previous = c.restart_count > 0 and not (c.last_termination and c.last_termination.current)
        try:
            got, source, previous = crashlogs.read(client, d, c, max(show, crashlogs.CRASH_TAIL_LINES if explain else 0))
        except cl.ClusterError as e:
            if shown:
                tails.append(LogTail(c.name, previous, (), f"logs could not be read: {e.message}"))
            if explain:
                notes.append(f"The {'previous ' if previous else ''}log of container {c.name} could not be read "
                             f"({e.message}): the line that says why it died is not known.")
            continue
        if explain:
            texts[c.name] = crashlogs.for_engine(got, source)
        if shown:
            tails.append(LogTail(c.name, previous, tuple(got[-show:])))
    return texts, tails, notes


def collect(pod: str | None, *, namespace: str | None, filename: list[str] | None, context: str | None,
            kubeconfig: str | None, request_timeout: str | None, logs: int = 0, read_logs: bool = True,
            recent=None, debug: bool = False) -> list:
    """The diagnoses `why` shows, read from files (-f) or the cluster; nothing printed.
    `probectl why` and the MCP server's probectl_why both call this."""
    if filename:
        if logs:
            raise UsageError("--logs reads a live cluster; with -f there are no logs to read")
        from probectl.sources.files import load

        return [diagnose_snapshot(load(filename), pod, namespace, recent)]
    if not pod:
        raise UsageError("name a pod: probectl why POD [-n NAMESPACE] (or read kubectl output with -f FILE)")
    return diagnose_live(pod, namespace=namespace, context=context, kubeconfig=kubeconfig, timeout=request_timeout,
                         logs=logs, debug=debug, recent=recent, read_logs=read_logs)


def show(diagnoses, output, no_color: bool, *, live: bool = False) -> None:
    if not isinstance(diagnoses, list):
        diagnoses = [diagnoses]
    if output.value == "github":
        from probectl.render.workload import render_pod_github

        options.emit("".join(render_pod_github(d) for d in diagnoses))
        return
    if output.value == "table":
        from probectl.render.why import render, render_overview

        style = options.style(no_color)
        if len(diagnoses) == 1:
            options.emit(render(diagnoses[0], style, live=live))
        else:
            options.emit(render_overview(diagnoses, style, live=live))
        return
    from probectl.render.data import dump

    options.emit(dump(document(diagnoses), output.value))


def document(diagnoses: list) -> dict:
    """What -o json/yaml print: the Diagnosis, or a List of them for a workload's pods."""
    if len(diagnoses) == 1:
        return diagnoses[0].to_dict()
    return {"apiVersion": "probectl/v1", "kind": "List", "items": [d.to_dict() for d in diagnoses]}


def why(
    pod: str | None = typer.Argument(None, metavar="POD", help="The pod's name (pod/NAME works too), a workload as kubectl names it (deploy/NAME, sts/NAME, ds/NAME, job/NAME, cj/NAME, rs/NAME), or a workload's bare name (its pods); optional with -f when the input holds one pod."),
    namespace: str | None = options.NAMESPACE,
    filename: list[str] | None = options.FILENAME,
    context: str | None = options.CONTEXT,
    kubeconfig: str | None = options.KUBECONFIG,
    request_timeout: str | None = options.REQUEST_TIMEOUT,
    logs: int = typer.Option(0, "--logs", min=0, help="Show the last N log lines of each troubled container (its previous instance if it restarted)."),
    no_logs: bool = typer.Option(False, "--no-logs", help="Read no logs: by default the previous log of a container that ended by itself or crashed is read (one request each) to find the line that says why."),
    recent: str = options.RECENT,
    output: WhyOutput = typer.Option(WhyOutput.table, "-o", "--output", help="Output format (github: workflow commands).",
                                     case_sensitive=False),
    no_color: bool = options.NO_COLOR,
    debug: bool = options.DEBUG,
) -> int:
    recent_window = options.parse_duration(recent, "--recent")
    if logs and no_logs:
        raise UsageError("--logs and --no-logs contradict each other")
    from probectl.core.workload import parse_ref

    ref = parse_ref(pod) if pod else None
    if ref is not None:
        return _why_workload(ref, namespace=namespace, filename=filename, context=context, kubeconfig=kubeconfig,
                             request_timeout=request_timeout, logs=logs, no_logs=no_logs, recent=recent_window,
                             output=output, no_color=no_color, debug=debug)
    diagnoses = collect(pod, namespace=namespace, filename=filename, context=context, kubeconfig=kubeconfig,
                        request_timeout=request_timeout, logs=logs, read_logs=not no_logs, recent=recent_window,
                        debug=debug)
    show(diagnoses, output, no_color, live=not filename)
    return ExitStatus.OK if all(d.severity.value == "ok" for d in diagnoses) else ExitStatus.FINDINGS


def collect_workload(ref, *, namespace, filename, context, kubeconfig, request_timeout, read_logs: bool = True,
                     recent=None, debug: bool = False, warn=None):
    """`why KIND/NAME` without printing: the rollout's WorkloadDiagnosis, or, when the
    workload itself cannot be read (forbidden, or absent from the files), its pods'
    Diagnoses, each carrying a warning that this is the pod-level answer. `warn` gets the
    one-line warning for stderr. `probectl why` and the MCP server's probectl_why call this."""
    from probectl.cli import workloads

    kind, name = ref
    warn = warn or (lambda line: None)
    if filename:
        from probectl.sources.files import load

        snap = load(filename)
        try:
            return workloads.from_files(snap, kind, name, namespace, recent)
        except workloads.WorkloadMissing as e:
            return _pods_of(snap, kind, name, namespace, recent, e.message, warn)
    try:
        return workloads.live(kind, name, namespace=namespace, context=context, kubeconfig=kubeconfig,
                              timeout=request_timeout, debug=debug, recent=recent, read_logs=read_logs)
    except workloads.WorkloadForbidden as e:
        warn(f"{e.message}: showing the pods of {name} instead")
        diagnoses = diagnose_live(name, namespace=namespace, context=context, kubeconfig=kubeconfig,
                                  timeout=request_timeout, logs=0, debug=debug, recent=recent, read_logs=read_logs)
        note = (f"{kind} {name} could not be read ({e.message}): this is the pod-level answer; "
                f"grant get/list on {kind.lower()}s for the rollout's verdict (deploy/rbac.yaml).")
        diagnoses[0] = dataclasses.replace(diagnoses[0], warnings=(note,) + diagnoses[0].warnings)
        return diagnoses


def _why_workload(ref, *, namespace, filename, context, kubeconfig, request_timeout, logs, no_logs, recent, output,
                  no_color, debug) -> int:
    """`why KIND/NAME`: the rollout's verdict. Without permission to read the workload kind,
    the pods of that name, with a warning (never an error)."""
    if logs:
        raise UsageError("--logs is for a pod: probectl why POD --logs N (a workload's verdict reads one crash log per failing group)")
    d = collect_workload(ref, namespace=namespace, filename=filename, context=context, kubeconfig=kubeconfig,
                         request_timeout=request_timeout, read_logs=not no_logs, recent=recent, debug=debug,
                         warn=lambda line: sys.stderr.write(f"probectl: warning: {line}\n"))
    if isinstance(d, list):
        show(d, output, no_color, live=not filename)
        return ExitStatus.OK if all(x.severity.value == "ok" for x in d) else ExitStatus.FINDINGS
    if output.value == "table":
        from probectl.render.workload import render

        options.emit(render(d, options.style(no_color)))
    elif output.value == "github":
        from probectl.render.workload import render_github

        options.emit(render_github(d))
    else:
        from probectl.render.data import dump

        options.emit(dump(d.to_dict(), output.value))
    return ExitStatus.OK if d.severity.value == "ok" else ExitStatus.FINDINGS


def _pods_of(snap, kind, name, namespace, recent, why_not: str, warn) -> list:
    """From files without the workload object: the pods it owns, each diagnosed, with a warning."""
    from probectl.core.diagnose import diagnose, snapshot_time
    from probectl.core.events import by_pod, for_pod_key
    from probectl.core.objects import owner

    pods = [p for p in snap.pods if not namespace or ((p.get("metadata") or {}).get("namespace") or "default") == namespace]
    mine = [p for p in pods if owner(p) == (kind, name)]  # a ReplicaSet's pods are their Deployment's
    what = f"{kind} {name}"
    if not mine:
        raise InputError(f"{kind.lower()}/{name}: {why_not}, and no pod of it either") from None
    warn(f"{why_not}: showing the pods of {what}")
    now = snapshot_time(snap.pods, snap.events)
    grouped = by_pod(snap.events)
    note = f"{why_not}: this is the pod-level answer, not the rollout's verdict."
    return [dataclasses.replace(d, warnings=(note,) + d.warnings) for d in
            (diagnose(p, for_pod_key(grouped, p), now, recent=recent) for p in mine)]


def register(app: typer.Typer) -> None:
    app.command("why", help=HELP)(why)
