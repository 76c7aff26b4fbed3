"""`probectl watch`: each failure the moment it happens, already explained."""

from __future__ import annotations

import queue
import sys
import threading
import time

import typer

from probectl.cli import options
from probectl.core.model import Cause
from probectl.errors import ExitStatus, UsageError

HELP = """Watch pods and events and print one line per new incident, explained: a container
termination (exit code decoded, cause from the same engine as 'why'), a kill the kubelet
announced, an unready container, an image that cannot be pulled, a config error, an
eviction, an unschedulable pod. An incident gets a line when it starts and another only
when it escalates (kill, restart, crash loop); pods being deleted (rollouts) stay silent.
What is already failing when the watch begins is listed once first, under its own
heading ("new": false in JSON Lines; --only-new leaves it out), then only what is new.

\b
  probectl watch -n shop
  probectl watch -A -o json | jq .
  probectl watch -A --timeout 10m --exit-on oom-killed,crashed-signal    # in CI

Exit status: 0 at --timeout, 1 as soon as a new finding's cause is in --exit-on, 3 when the
cluster cannot be watched, 130 on Ctrl-C.
"""

CAUSES = {c.value for c in Cause}


def _line(finding, style, output: str) -> str:
    if output == "json":
        import json

        return json.dumps(finding.to_dict(), ensure_ascii=False) + "\n"
    import textwrap

    from probectl.core.exitcodes import decode
    from probectl.core.model import SEVERITY, Cause, Severity
    from probectl.render.safe import clean

    when = finding.time.strftime("%H:%M:%SZ") if finding.time else "--:--:--"
    who = clean(f"{finding.namespace}/{finding.pod}" + (f" {finding.container}" if finding.container else ""), oneline=True)
    exit_text = f" [{decode(finding.exit_code).short()}{' ' + finding.reason if finding.reason else ''}]" if finding.exit_code is not None else ""
    cause = finding.cause
    mark = "\ue000" * len(cause)  # stands in for the cause while wrapping, to colour it after
    line = f"{when}  {who}  {finding.kind}  {mark}{exit_text}  {clean(finding.summary, oneline=True)}"
    # wider than the terminal (or COLUMNS): wrapped at spaces onto lines indented under the time
    text = "\n".join(textwrap.wrap(line, width=style.line_width, subsequent_indent=" " * (len(when) + 2),
                                   break_long_words=False, break_on_hyphens=False)) or line
    if style.color:
        sev = SEVERITY.get(Cause(cause), Severity.WARNING) if cause in CAUSES else Severity.WARNING
        cause = {"critical": "\x1b[1;31m", "warning": "\x1b[1;33m", "ok": "\x1b[32m"}[sev.value] + cause + "\x1b[0m"
    text = text.replace(mark, cause, 1)
    return text + "\n"


def watch(
    namespace: str | None = options.NAMESPACE,
    all_namespaces: bool = typer.Option(False, "-A", "--all-namespaces", help="Watch every namespace."),
    selector: str | None = typer.Option(None, "-l", "--selector", help="Label selector for the pods."),
    output: str = typer.Option("table", "-o", "--output", help="table (one line per finding) or json (JSON Lines)."),
    timeout: str | None = typer.Option(None, "--timeout", help="Stop after this long: 90s, 10m, 2h (exit 0)."),
    exit_on: str | None = typer.Option(None, "--exit-on", help="Exit 1 as soon as a new finding has one of these causes: oom-killed,crashed-signal"),
    only_new: bool = typer.Option(False, "--only-new", help="Leave out what was already failing when the watch began."),
    recent: str = options.RECENT,
    context: str | None = options.CONTEXT,
    kubeconfig: str | None = options.KUBECONFIG,
    request_timeout: str | None = options.REQUEST_TIMEOUT,
    no_color: bool = options.NO_COLOR,
    debug: bool = options.DEBUG,
) -> int:
    from datetime import datetime, timezone

    from probectl.core.watch import Tracker
    from probectl.sources import cluster as cl
    from probectl.sources import watching

    if output not in ("table", "json"):
        raise UsageError(f"-o {output}: watch writes table (lines) or json (JSON Lines)")
    stop_after = options.parse_duration(timeout, "--timeout", bare_seconds=True, examples="90s, 10m or 2h")
    stop_after = stop_after.total_seconds() if stop_after else None
    recent_window = options.parse_duration(recent, "--recent")
    wanted = {c.strip() for c in (exit_on or "").split(",") if c.strip()}
    unknown = wanted - CAUSES
    if unknown:
        raise UsageError(f"--exit-on: unknown cause {', '.join(sorted(unknown))} (causes: {', '.join(sorted(CAUSES))})")
    conn = cl.connect(kubeconfig, context, namespace)
    trace = sys.stderr if debug else None
    timeout_s = cl.parse_timeout(request_timeout)
    ns = None if all_namespaces else conn.target.namespace
    pods_path = cl.pod_path(ns) if ns else "/api/v1/pods"
    events_path = cl.events_path(ns) if ns else "/api/v1/events"
    pod_params = {"labelSelector": selector} if selector else {}
    event_params = {"fieldSelector": "involvedObject.kind=Pod"}

    tracker = Tracker(recent_window)
    pod_client = cl.Client(conn, timeout_s, debug=trace)
    for pod in pod_client.list(pods_path, pod_params):
        tracker.baseline(pod)
    event_client = cl.Client(conn, timeout_s, debug=trace)
    try:
        for event in event_client.list(events_path, event_params):
            tracker.baseline_event(event)
        events_ok = True
    except cl.Forbidden as e:
        events_ok = False
        sys.stderr.write(f"probectl: warning: events cannot be read ({e.message}): probe failures and kills will not show\n")

    style = options.style(no_color)
    where = "all namespaces" if all_namespaces else f'namespace "{ns}"'
    if sys.stderr.isatty():
        sys.stderr.write(f"Watching {len(tracker.pods)} pods in {where} ({conn.target.where()}); Ctrl-C to stop.\n")
    started = datetime.now(timezone.utc)
    already = tracker.baseline_done(started)
    if already and not only_new:
        # what was wrong before the watch began: said once, marked, never a reason to --exit-on
        if output == "table":
            sys.stdout.write(f"Already failing when the watch began ({len(already)}):\n")
        for f in already:
            sys.stdout.write(_line(f, style, output))
        if output == "table":
            sys.stdout.write(f"New since {started.strftime('%H:%M:%SZ')}:\n")
        sys.stdout.flush()
    q: queue.Queue = queue.Queue(maxsize=10000)
    stop = threading.Event()
    streams = [(pod_client, pods_path, pod_params, pod_client.list_version, "pods")]
    if events_ok:
        streams.append((event_client, events_path, event_params, event_client.list_version, "events"))
    watching.start(streams, q, stop)
    deadline = time.monotonic() + stop_after if stop_after else None
    try:
        while True:
            wait = 0.5 if deadline is None else max(0.0, min(0.5, deadline - time.monotonic()))
            if deadline is not None and time.monotonic() >= deadline:
                return ExitStatus.OK
            try:
                name, kind, obj = q.get(timeout=wait)
            except queue.Empty:
                continue
            now = datetime.now(timezone.utc)
            if kind == "FATAL":
                raise obj
            if name == "pods":
                if kind == "DELETED":
                    tracker.forget(obj)
                    found = []
                elif kind == "RELIST":
                    found = tracker.resync(obj, now)
                else:
                    found = tracker.pod_update(obj, now)
            else:
                if kind == "DELETED":
                    tracker.event_deleted(obj)
                    found = []
                elif kind == "RELIST":
                    found = [f for e in obj for f in tracker.event_update(e, now)]
                else:
                    found = tracker.event_update(obj, now)
            for f in found:
                sys.stdout.write(_line(f, style, output))
                sys.stdout.flush()
                if f.cause in wanted:
                    return ExitStatus.FINDINGS
    finally:
        stop.set()


def register(app: typer.Typer) -> None:
    app.command("watch", help=HELP)(watch)
