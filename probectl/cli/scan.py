"""`probectl scan`: every troubled pod of a namespace, several, or the cluster; for CI triage."""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from enum import Enum

import typer

from probectl.cli import options
from probectl.errors import ExitStatus, UsageError

HELP = """Diagnose every pod of a namespace, several namespaces or the whole cluster.

Shows only pods with problems (--all for every pod), replicas of one workload failing the
same way as one line. Lists pods and events page by page and joins them in memory: a
handful of requests whatever the size of the cluster.

  probectl scan -n shop
  probectl scan -A --since 30m -o junit --output-file probectl.xml
  probectl scan -f ./cluster-state/ -o markdown >> "$GITHUB_STEP_SUMMARY"

Exit status: 0 when nothing is at or above --fail-on, 1 when something is, 2 for usage
errors or bad files, 3 when the cluster cannot be read.
"""


class ScanOutput(str, Enum):
    table = "table"
    json = "json"
    yaml = "yaml"
    markdown = "markdown"
    junit = "junit"
    github = "github"


def parse_since(text: str | None) -> timedelta | None:
    if not text:
        return None
    m = re.fullmatch(r"\s*([0-9]+)\s*(s|m|h|d)\s*", text)
    if not m or int(m.group(1)) == 0:
        raise UsageError(f"--since {text!r}: use a duration such as 30m, 2h, 90s or 1d")
    return timedelta(seconds=int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)])


class _Progress:
    """A spinner on stderr while listing, only on a terminal."""

    def __init__(self, enabled: bool):
        self.status = None
        self.pods = self.events = 0
        if enabled:
            from rich.console import Console

            self.status = Console(stderr=True, highlight=False, markup=False, emoji=False).status("Listing…")
            self.status.start()

    def tick(self, what: str) -> None:
        if what == "pod":
            self.pods += 1
        else:
            self.events += 1
        if self.status and (self.pods + self.events) % 250 == 0:
            self.status.update(f"Listed {self.events} events and {self.pods} pods…")

    def stop(self) -> None:
        if self.status:
            self.status.stop()
            self.status = None


def _counted(items, progress: _Progress, what: str):
    for item in items:
        progress.tick(what)
        yield item


def scan(
    namespace: list[str] | None = typer.Option(None, "-n", "--namespace", help="A namespace to scan; repeatable. [default: the context's]"),
    all_namespaces: bool = typer.Option(False, "-A", "--all-namespaces", help="Scan every namespace."),
    selector: str | None = typer.Option(None, "-l", "--selector", help="Label selector, e.g. app=web,tier!=db."),
    field_selector: str | None = typer.Option(None, "--field-selector", help="Field selector, e.g. spec.nodeName=node-3."),
    filename: list[str] | None = options.FILENAME,
    show_all: bool = typer.Option(False, "--all", help="Include healthy pods."),
    output: ScanOutput = typer.Option(ScanOutput.table, "-o", "--output", case_sensitive=False, help="Output format."),
    output_file: str | None = options.OUTPUT_FILE,
    fail_on: options.FailOn = options.FAIL_ON,
    since: str | None = typer.Option(None, "--since", help="Consider only terminations and events newer than this: 30m, 2h, 1d."),
    context: str | None = options.CONTEXT,
    kubeconfig: str | None = options.KUBECONFIG,
    request_timeout: str | None = options.REQUEST_TIMEOUT,
    no_color: bool = options.NO_COLOR,
    debug: bool = options.DEBUG,
) -> int:
    window = parse_since(since)
    if filename:
        report = _from_files(filename, namespace, all_namespaces, selector, field_selector, show_all, fail_on.value, window, since)
    else:
        report = _from_cluster(namespace, all_namespaces, selector, field_selector, show_all, fail_on.value, window, since,
                               context, kubeconfig, request_timeout, progress=output is ScanOutput.table or bool(output_file),
                               debug=debug)
    text = _render(report, output, no_color)
    if output_file:
        _write(output_file, text)
        if output is not ScanOutput.table:
            options.emit(_render(report, ScanOutput.table, no_color))
    else:
        options.emit(text)
    return ExitStatus.FINDINGS if report.failed else ExitStatus.OK


def _render(report, output: ScanOutput, no_color: bool) -> str:
    from probectl.render import scan as r

    if output is ScanOutput.table:
        return r.render_table(report, options.style(no_color))
    if output is ScanOutput.markdown:
        return r.render_markdown(report)
    if output is ScanOutput.junit:
        return r.render_junit(report)
    if output is ScanOutput.github:
        return r.render_github(report)
    from probectl.render.data import dump

    return dump(report.to_dict(), output.value)


def _write(path: str, text: str) -> None:
    from probectl.errors import InputError

    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise InputError(f"--output-file {path}: {e.strerror or e}") from None


def _from_files(paths, namespaces, all_namespaces, selector, field_selector, show_all, fail_on, window, since_text):
    from probectl.core import scan as core
    from probectl.core.diagnose import event_time, snapshot_time
    from probectl.sources.files import load

    index = core.EventIndex()
    newest = []

    def on_event(raw: dict) -> None:
        index.add(raw)
        t = event_time(raw)
        if t and (not newest or t > newest[0]):
            newest[:] = [t]

    snap = load(paths, on_event=on_event)
    now = max(filter(None, [snapshot_time(snap.pods, []), *newest]), default=None)
    labels, fields = core.label_matcher(selector), core.field_matcher(field_selector)
    wanted = set(namespaces or [])

    def chosen(p):
        ns = (p.get("metadata") or {}).get("namespace") or "default"
        return (all_namespaces or not wanted or ns in wanted) and labels(p) and fields(p)

    scope = {"source": "files", "files": list(paths), "namespaces": sorted(wanted) if wanted and not all_namespaces else "all"}
    report = core.scan((p for p in snap.pods if chosen(p)), index, now, include_healthy=show_all, fail_on=fail_on,
                       since=window, since_text=since_text, scope=scope)
    if not snap.pods:
        report.warnings.append("The input holds no pods.")
    return report


def _from_cluster(namespaces, all_namespaces, selector, field_selector, show_all, fail_on, window, since_text,
                  context, kubeconfig, request_timeout, progress: bool, debug: bool = False):
    from datetime import datetime, timezone

    from probectl.core import scan as core
    from probectl.sources import cluster as cl

    conn = cl.connect(kubeconfig, context, namespaces[0] if namespaces else None)
    client = cl.Client(conn, cl.parse_timeout(request_timeout), debug=sys.stderr if debug else None)
    scopes: list[str | None] = [None] if all_namespaces else list(dict.fromkeys(namespaces or [conn.target.namespace]))
    warnings: list[str] = []
    now = datetime.now(timezone.utc)
    bar = _Progress(progress and sys.stderr.isatty())
    index = core.EventIndex()
    readable: list[str | None] = []
    try:
        for ns in scopes:
            where = f'namespace "{ns}"' if ns else "all namespaces"
            try:
                for e in _counted(cl.list_pod_events(client, ns, warn=warnings.append), bar, "event"):
                    index.add(e)
            except cl.Forbidden as e:
                warnings.append(f"events in {where} could not be read ({e.message}): verdicts there rest on pod status alone")
            readable.append(ns)

        def pods():
            ok = 0
            for ns in readable:
                where = f'namespace "{ns}"' if ns else "all namespaces"
                try:
                    yield from _counted(cl.list_pods(client, ns, label_selector=selector, field_selector=field_selector,
                                                     warn=warnings.append), bar, "pod")
                    ok += 1
                except cl.Forbidden as e:
                    warnings.append(f"{where} skipped: pods could not be listed ({e.message})")
            if ok == 0:
                raise cl.ClusterError(f"no pods could be read in {', '.join(s or 'any namespace' for s in scopes)} "
                                      f"({conn.target.where()}): {warnings[-1] if warnings else 'forbidden'}")

        scope = {"source": "cluster", "context": conn.target.context, "server": conn.target.server,
                 "namespaces": "all" if all_namespaces else [s for s in scopes if s],
                 "labelSelector": selector, "fieldSelector": field_selector}
        report = core.scan(pods(), index, now, include_healthy=show_all, fail_on=fail_on, since=window,
                           since_text=since_text, scope=scope, warnings=warnings)
    finally:
        bar.stop()
    report.scope["requests"] = client.requests
    return report


def register(app: typer.Typer) -> None:
    app.command("scan", help=HELP)(scan)
