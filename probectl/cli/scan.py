"""`probectl scan`: every troubled pod of a namespace, several, or the cluster; for CI triage."""

from __future__ import annotations

import sys
from enum import Enum

import typer

from probectl.cli import options
from probectl.errors import ExitStatus

HELP = """Diagnose every pod of a namespace, several namespaces or the whole cluster.

Shows only pods with problems (--all for every pod), replicas of one workload failing the
same way as one line. Lists pods and events page by page and joins them in memory: a
handful of requests whatever the size of the cluster.

\b
  probectl scan -n shop
  probectl scan -A --since 30m -o junit --output-file probectl.xml
  probectl scan -A -o github --report junit=probectl.xml --report markdown=summary.md

In GitHub Actions, -o github also appends the Markdown report to the job summary.

Several clusters in one report: --contexts prod-us,staging or --all-contexts (every
context of the kubeconfig), read side by side; then exit 3 when any context could not be
read (the others are still reported).

\b
  probectl scan --all-contexts -A -o json
  probectl scan --contexts prod-us,staging --report junit=fleet.xml

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


FORMATS = [f.value for f in ScanOutput]


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
    include_history: bool = typer.Option(False, "--include-history", help="List pods that restarted earlier and are fine now (always in -o json/yaml)."),
    output: ScanOutput | None = typer.Option(None, "-o", "--output", case_sensitive=False, show_default=False,
                                             help="Format on standard output. [default: table]"),
    report: list[str] | None = options.REPORT,
    output_file: str | None = options.OUTPUT_FILE,
    no_step_summary: bool = options.NO_STEP_SUMMARY,
    fail_on: options.FailOn = options.FAIL_ON,
    since: str | None = typer.Option(None, "--since", help="Consider only terminations and events newer than this: 30m, 2h, 1d."),
    recent: str = options.RECENT,
    no_logs: bool = typer.Option(False, "--no-logs", help="Read no logs (by default one previous log per failing group, to find the line that says why)."),
    log_groups: int = typer.Option(20, "--log-groups", min=0, help="Read at most this many logs: one per failing group that its termination messages leave unexplained."),
    context: str | None = options.CONTEXT,
    contexts: list[str] | None = typer.Option(
        None, "--contexts", metavar="A,B,...",
        help="Scan these kubeconfig contexts side by side, one report; comma-separated or repeated."),
    all_contexts: bool = typer.Option(False, "--all-contexts", help="Scan every context of the kubeconfig, one report."),
    parallel: int = typer.Option(4, "--parallel", min=1, help="With --contexts/--all-contexts: contexts read at once."),
    kubeconfig: str | None = options.KUBECONFIG,
    request_timeout: str | None = options.REQUEST_TIMEOUT,
    no_color: bool = options.NO_COLOR,
    debug: bool = options.DEBUG,
) -> int:
    from probectl.cli import reports
    from probectl.render import scan as r

    if contexts or all_contexts:
        from probectl.cli import fleet
        from probectl.errors import UsageError

        if context:
            raise UsageError("--context names one cluster: use --contexts A,B or --all-contexts for several")
        if filename:
            raise UsageError("-f reads files, not contexts: --contexts and --all-contexts scan clusters")
        return fleet.scan(contexts=contexts, all_contexts=all_contexts, parallel=parallel, namespace=namespace,
                          all_namespaces=all_namespaces, selector=selector, field_selector=field_selector,
                          show_all=show_all, include_history=include_history, output=output.value if output else None,
                          report=report, output_file=output_file, no_step_summary=no_step_summary,
                          fail_on=fail_on.value, since=since, recent=recent, no_logs=no_logs, log_groups=log_groups,
                          kubeconfig=kubeconfig, request_timeout=request_timeout, no_color=no_color, debug=debug)

    window = options.parse_duration(since, "--since")
    recent_window = options.parse_duration(recent, "--recent")
    targets = reports.plan(output.value if output else None, output_file, report, FORMATS)  # exit 2 before any request
    writer = reports.Writer(targets, {"json": reports.Streamed(r.json_item, r.json_document),
                                      "yaml": reports.Streamed(r.yaml_item, r.yaml_document)})
    settings = dict(include_healthy=show_all, include_history=include_history, fail_on=fail_on.value, since=window,
                    since_text=since, recent=recent_window, recent_text=recent.strip(),
                    # JUnit lists every failing pod whole; the table, Markdown and GitHub formats
                    # read the groups, built as the findings come
                    keep_findings=any(t.fmt == "junit" for t in targets),
                    group_findings=any(t.fmt in ("table", "markdown", "github") for t in targets),
                    keep_history=any(t.fmt not in writer.streamed for t in targets))
    from probectl.gcpause import collector_paused

    try:
        # No cyclic GC while the pages are parsed, analysed and the reports written: half
        # the run otherwise, for nothing freed (probectl/gcpause.py says why).
        with collector_paused():
            result = _collect(filename, namespace, all_namespaces, selector, field_selector, settings, writer,
                              targets, context, kubeconfig, request_timeout, debug, 0 if no_logs else log_groups)
            style, file_style = options.style(no_color), options.file_style()
            writer.finish(result, lambda fmt, to_file: _render(result, fmt, file_style if to_file else style))
    finally:
        writer.close()
    if "github" in writer.formats and not no_step_summary:
        note = reports.step_summary(r.render_markdown(result), skip=[t.path for t in targets if t.fmt == "markdown"])
        if note:
            sys.stderr.write(f"probectl: warning: {note}\n")
    return ExitStatus.FINDINGS if result.failed else ExitStatus.OK


def _collect(filename, namespace, all_namespaces, selector, field_selector, settings, writer, targets,
             context, kubeconfig, request_timeout, debug, log_groups):
    from probectl.cli import reports

    progress = any(t.path != reports.STDOUT or t.fmt == "table" for t in targets)
    return collect(filename, namespace, all_namespaces, selector, field_selector, settings, writer.item,
                   context=context, kubeconfig=kubeconfig, request_timeout=request_timeout, progress=progress,
                   debug=debug, log_groups=log_groups)


def collect(filename, namespace, all_namespaces, selector, field_selector, settings, on_item=None, *,
            context=None, kubeconfig=None, request_timeout=None, progress=False, debug=False, log_groups=0):
    """The ScanReport of files (-f) or the cluster; nothing printed. `on_item` gets each
    Diagnosis meant for a JSON/YAML report as it comes. `probectl scan` and the MCP
    server's probectl_scan both call this."""
    on_item = on_item or (lambda d: None)
    if filename:
        return _from_files(filename, namespace, all_namespaces, selector, field_selector, settings, on_item)
    return _from_cluster(namespace, all_namespaces, selector, field_selector, settings, on_item,
                         context, kubeconfig, request_timeout, progress=progress, debug=debug, log_groups=log_groups)


def _render(report, fmt: str, style) -> str:
    from probectl.render import scan as r

    if fmt == "table":
        return r.render_table(report, style)
    if fmt == "markdown":
        return r.render_markdown(report)
    if fmt == "junit":
        return r.render_junit(report)
    if fmt == "github":
        return r.render_github(report)
    raise AssertionError(f"streamed format {fmt} rendered whole")  # json/yaml are streamed


def _from_files(paths, namespaces, all_namespaces, selector, field_selector, settings, on_item):
    """Events are indexed and pods spooled as the files are read (a pod's verdict needs
    all its events, which may come after it); then the spooled pods are diagnosed."""
    import pickle
    import tempfile

    from probectl.cli import scan_workloads
    from probectl.core import scan as core
    from probectl.core.diagnose import event_time, snapshot_time
    from probectl.core.select import field_matcher, label_matcher
    from probectl.core.workload import EVENT_REASONS as WORKLOAD_EVENTS
    from probectl.core.workload import PodTally
    from probectl.sources.files import load

    index = core.EventIndex()
    newest = []
    tally = PodTally()
    on_item = scan_workloads.tallying(on_item, tally)
    failed_creates: list[dict] = []  # the events the workload rules read (FailedCreate), for the workload pass

    def on_event(raw: dict) -> None:
        index.add(raw)
        if raw.get("reason") in WORKLOAD_EVENTS:
            failed_creates.append(raw)
        t = event_time(raw)
        if t and (not newest or t > newest[0]):
            newest[:] = [t]

    labels, fields = label_matcher(selector), field_matcher(field_selector)
    wanted = set(namespaces or [])

    def chosen(p):
        ns = (p.get("metadata") or {}).get("namespace") or "default"
        return (all_namespaces or not wanted or ns in wanted) and labels(p) and fields(p)

    # the pods wait in a spool (memory up to 32 MiB, then a temporary file): pickled, so
    # that they come back exactly as parsed
    with tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024) as spool:
        def on_pod(p: dict) -> None:
            t = snapshot_time([p], [])
            if t and (not newest or t > newest[0]):
                newest[:] = [t]
            if chosen(p):
                pickle.dump(p, spool, protocol=pickle.HIGHEST_PROTOCOL)

        snap = load(paths, on_event=on_event, on_pod=on_pod)
        now = newest[0] if newest else None
        scope = {"source": "files", "files": list(paths), "namespaces": sorted(wanted) if wanted and not all_namespaces else "all"}
        # a lone pod with no events: "now" is only its own newest timestamp
        scanner = core.Scanner(index, now, scope=scope, clock_known=index.seen > 0 or snap.pod_count > 1, **settings)
        spool.seek(0)
        while True:
            try:
                p = pickle.load(spool)
            except EOFError:
                break
            d = scanner.add(p)
            if d is not None:
                on_item(d)
    report = scanner.finish()
    if snap.workloads and not field_selector:
        scan_workloads.from_snapshot(snap.workloads, failed_creates, report, tally, now,
                                     namespaces=None if all_namespaces else sorted(wanted), label_selector=selector)
    if not snap.pod_count:
        report.warnings.append("The input holds no pods.")
    return report


def _from_cluster(namespaces, all_namespaces, selector, field_selector, settings, on_item,
                  context, kubeconfig, request_timeout, progress: bool, debug: bool = False, log_groups: int = 0,
                  page_gate=None):
    from datetime import datetime, timezone

    from probectl.cli import crashlogs, scan_workloads
    from probectl.core import scan as core
    from probectl.core.workload import PodTally
    from probectl.sources import cluster as cl

    conn = cl.connect(kubeconfig, context, namespaces[0] if namespaces else None)
    client = cl.Client(conn, cl.parse_timeout(request_timeout), debug=sys.stderr if debug else None, page_gate=page_gate)
    tally = PodTally()  # the troubled pods by owner, for the workload pass
    on_item = scan_workloads.tallying(on_item, tally)
    scopes: list[str | None] = [None] if all_namespaces else list(dict.fromkeys(namespaces or [conn.target.namespace]))
    warnings: list[str] = []
    now = datetime.now(timezone.utc)
    bar = _Progress(progress and sys.stderr.isatty())
    index = core.EventIndex()
    readable: list[str | None] = []
    try:
        # the first page of pods is asked for now and read once the events are indexed (one
        # scope only: with several, the answer would wait for every namespace's events)
        if len(scopes) == 1:
            cl.start_list_pods(client, scopes[0], label_selector=selector, field_selector=field_selector)
        for ns in scopes:
            where = f'namespace "{ns}"' if ns else "all namespaces"
            try:
                for e in _counted(cl.list_pod_events(client, ns, warn=warnings.append), bar, "event"):
                    index.add(e)
            except cl.Forbidden as e:
                warnings.append(f"events in {where} could not be read ({e.message}): verdicts there rest on pod status alone")
            readable.append(ns)

        scope = {"source": "cluster", "context": conn.target.context, "server": conn.target.server,
                 "namespaces": "all" if all_namespaces else [s for s in scopes if s],
                 "labelSelector": selector, "fieldSelector": field_selector}
        explain = crashlogs.GroupLogs(client, log_groups, settings.get("recent")) if log_groups else None
        scanner = core.Scanner(index, now, scope=scope, warnings=warnings, explain=explain, **settings)
        ok = 0
        for ns in readable:
            where = f'namespace "{ns}"' if ns else "all namespaces"
            try:
                listed = 0
                for p in _counted(cl.list_pods(client, ns, label_selector=selector, field_selector=field_selector,
                                               warn=warnings.append), bar, "pod"):
                    listed += 1
                    d = scanner.add(p)
                    if d is not None:
                        on_item(d)
                ok += 1
                if not listed and not selector and not field_selector:
                    warnings.append(f"{where} has no pods at all")
            except cl.Forbidden as e:
                warnings.append(f"{where} skipped: pods could not be listed ({e.message})")
        if ok == 0:
            raise cl.ClusterError(f"no pods could be read in {', '.join(s or 'any namespace' for s in scopes)} "
                                  f"({conn.target.where()}): {warnings[-1] if warnings else 'forbidden'}")
        report = scanner.finish()
        report.warnings[:] = warnings
        if not field_selector:  # pod field selectors (spec.nodeName, ...) mean nothing to a workload
            scan_workloads.from_cluster(client, readable, report, tally, now, label_selector=selector)
        if explain is not None:
            report.scope["logRequests"] = explain.requests
            report.warnings += [w + (" (--log-groups)" if "log reads" in w else "") for w in explain.warnings()]
    finally:
        bar.stop()
        client.close()
    report.scope["requests"] = client.requests
    return report


def register(app: typer.Typer) -> None:
    app.command("scan", help=HELP)(scan)
