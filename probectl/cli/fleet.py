"""`probectl scan --all-contexts` / `--contexts a,b`: the single-cluster scan run once per
kubeconfig context, side by side, and one report.

Each context gets its own scan, exactly as `probectl scan --context NAME` makes it (the
same `_from_cluster`, hence the same engine and the same findings): its own Connection,
Configuration, requests session, credentials, event index and scanner. Nothing is shared
between contexts but this driver's bookkeeping. A bounded number of contexts are read at
once (--parallel, default 4) in daemon threads; configuration loaders are imported once
before they start (cluster.prepare), and exec credential plugins that may prompt run one
at a time (kubeconfig._PROMPT_LOCK).

Memory: each context keeps what a single scan keeps (a page of pods in flight, the event
index of the context being read, the findings as the formats need them); the JSON/YAML
items of each context are spooled (memory up to SPOOL_MEMORY, then a temporary file) and
copied out, context after context, when every context is done. A context that fails
part-way leaves no items: it is listed with status error and its one-line message.

Exit status: 3 when any context could not be read, else 1 when a context that was read
has findings at or above --fail-on, else 0 (2 for usage errors, before any request).
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time

from probectl.errors import ClusterError, ExitStatus, ProbectlError, UsageError

DEFAULT_PARALLEL = 4
SPOOL_MEMORY = 1024 * 1024  # each context's streamed items in memory up to this, then on disk


def selected(contexts: list[str] | None, all_contexts: bool, kubeconfig: str | None) -> list[str]:
    """The contexts to scan, checked against the kubeconfig (exit 2 for an unknown name)."""
    from probectl.sources import cluster as cl

    wanted: list[str] = []
    for value in contexts or []:
        for name in value.split(","):
            name = name.strip()
            if name and name not in wanted:
                wanted.append(name)
    if contexts is not None and contexts and not wanted:
        raise UsageError("--contexts: name at least one context, e.g. --contexts prod-us,staging")
    known, files = cl.context_names(kubeconfig)
    if all_contexts:
        if wanted:
            raise UsageError("--all-contexts and --contexts: give one of them")
        if not known:
            raise ClusterError(f"no contexts in {', '.join(files)}")
        return known
    missing = [n for n in wanted if n not in known]
    if missing:
        some = f" (contexts: {', '.join(known[:8])}{', ...' if len(known) > 8 else ''})" if known else ""
        raise UsageError(f'context{"s" if len(missing) > 1 else ""} {", ".join(repr(m) for m in missing)} '
                         f"not found in {', '.join(files)}{some}")
    return wanted


class _Context:
    """One context's run: its result, and its spooled items per streamed format."""

    def __init__(self, name: str, formats: set[str]):
        from probectl.core.fleet import ContextResult

        self.result = ContextResult(name)
        self.spools = {fmt: tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY, mode="w+", encoding="utf-8")
                       for fmt in formats}
        self.crash: BaseException | None = None  # an unexpected exception, re-raised with --debug

    def item(self, d) -> None:
        from probectl.render import fleet as rf

        for fmt, spool in self.spools.items():
            spool.write(rf.json_item(d, self.result.name) if fmt == "json" else rf.yaml_item(d, self.result.name))
            spool.write("\0")  # item separator (never in JSON/YAML text, which escape it)

    def drop_items(self) -> None:
        for spool in self.spools.values():
            spool.seek(0)
            spool.truncate()

    def items(self, fmt: str):
        from probectl.cli.reports import _split_spool

        spool = self.spools.get(fmt)
        if spool is None or not self.result.ok:
            return
        spool.seek(0)
        yield from _split_spool(spool)

    def close(self) -> None:
        for spool in self.spools.values():
            spool.close()
        self.spools = {}


def run_all(names: list[str], parallel: int, scan_one, formats: set[str], *, debug: bool = False) -> list[_Context]:
    """Run `scan_one(name, on_item)` for every context, at most `parallel` at once, in
    daemon threads (Ctrl-C ends the run without waiting for them). Returns the contexts in
    the order of `names`, each with its ScanReport or its error."""
    runs = [_Context(n, formats) for n in names]
    todo = list(reversed(runs))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                if not todo:
                    return
                c = todo.pop()
            started = time.monotonic()
            try:
                c.result.report = scan_one(c.result.name, c.item)
            except ProbectlError as e:
                c.result.error = e.message
            except Exception as e:  # noqa: BLE001 - one context's bug must not hide the others
                c.result.error = f"internal error: {type(e).__name__}: {e} (run with --debug for the traceback)"
                c.crash = e
            except BaseException:  # noqa: BLE001 - the interpreter is going away (Ctrl-C in the main thread)
                return
            c.result.seconds = time.monotonic() - started
            if c.result.error is not None:
                c.result.report = None
                c.drop_items()  # a context that failed part-way: no half list of its pods

    threads = [threading.Thread(target=worker, name=f"probectl-context-{i}", daemon=True)
               for i in range(max(1, min(parallel, len(runs))))]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.25)  # in short waits: Ctrl-C reaches the main thread
    if debug:
        for c in runs:
            if c.crash is not None:
                raise c.crash
    return runs


def scan(*, contexts, all_contexts: bool, parallel: int, namespace, all_namespaces, selector, field_selector,
         show_all, include_history, output, report, output_file, no_step_summary, fail_on, since, recent,
         no_logs, log_groups, kubeconfig, request_timeout, no_color, debug) -> int:
    """The fleet scan behind `probectl scan --all-contexts / --contexts`."""
    from probectl.cli import options, reports
    from probectl.cli import scan as single
    from probectl.core.fleet import FleetReport
    from probectl.gcpause import collector_paused
    from probectl.render import fleet as rf
    from probectl.render.safe import clean
    from probectl.sources import cluster as cl

    window = options.parse_duration(since, "--since")
    recent_window = options.parse_duration(recent, "--recent")
    cl.parse_timeout(request_timeout)  # exit 2 now, not once per context
    if parallel < 1:
        raise UsageError("--parallel: at least 1")
    targets = reports.plan(output, output_file, report, single.FORMATS)  # exit 2 before any request
    names = selected(contexts, all_contexts, kubeconfig)
    streamed = {t.fmt for t in targets if t.fmt in ("json", "yaml")}
    settings = dict(include_healthy=show_all, include_history=include_history, fail_on=fail_on, since=window,
                    since_text=since, recent=recent_window, recent_text=recent.strip(),
                    keep_findings=any(t.fmt == "junit" for t in targets),
                    group_findings=any(t.fmt in ("table", "markdown", "github") for t in targets),
                    keep_history=any(t.fmt not in streamed for t in targets))
    cl.prepare()  # the configuration loaders imported once, here, before the threads start
    # the contexts' pages are downloaded side by side and parsed one at a time: memory
    # holds one parsed page, not one per context (and the GIL parses one at a time anyway)
    gate = cl.PageGate(1)

    def scan_one(name: str, on_item):
        return single._from_cluster(namespace, all_namespaces, selector, field_selector, dict(settings), on_item,
                                    name, kubeconfig, request_timeout, progress=False, debug=debug,
                                    log_groups=0 if no_logs else log_groups, page_gate=gate)

    progress = _Progress(len(names)) if sys.stderr.isatty() else None
    runs: list[_Context] = []
    try:
        with collector_paused():  # as a single scan: no cyclic GC while pages are parsed
            runs = run_all(names, parallel, progress.wrap(scan_one) if progress else scan_one, streamed, debug=debug)
        if progress:
            progress.stop()
        fleet = FleetReport([c.result for c in runs], fail_on=fail_on, since=since,
                            recent=recent.strip() or "1h")
        documents = {"json": rf.json_document, "yaml": rf.yaml_document}
        writer = reports.Writer(targets, {fmt: reports.Streamed(
            lambda d: "", lambda rep, _items, fmt=fmt: documents[fmt](rep, (i for c in runs for i in c.items(fmt))))
            for fmt in ("json", "yaml")})
        for c in fleet.unreadable:  # one line each, before the report (which lists them too)
            msg = c.error or ""
            said = msg if f'"{c.name}"' in msg else f'context "{c.name}": {msg}'
            sys.stderr.write(f"probectl: error: {clean(said, oneline=True)}\n")
        style, file_style = options.style(no_color), options.file_style()
        writer.finish(fleet, lambda fmt, to_file: _render(fleet, fmt, file_style if to_file else style))
    finally:
        if progress:
            progress.stop()
        for c in runs:
            c.close()
    if "github" in {t.fmt for t in targets} and not no_step_summary:
        note = reports.step_summary(rf.render_markdown(fleet), skip=[t.path for t in targets if t.fmt == "markdown"])
        if note:
            sys.stderr.write(f"probectl: warning: {note}\n")
    if fleet.unreadable:
        return ExitStatus.CLUSTER
    return ExitStatus.FINDINGS if fleet.failed else ExitStatus.OK


def _render(fleet, fmt: str, style) -> str:
    from probectl.render import fleet as rf

    if fmt == "table":
        return rf.render_table(fleet, style)
    return rf.RENDERERS[fmt](fleet)


class _Progress:
    """A spinner on stderr while the contexts are read, only on a terminal."""

    def __init__(self, total: int):
        from rich.console import Console

        self.total, self.done = total, 0
        self._lock = threading.Lock()
        self.status = Console(stderr=True, highlight=False, markup=False, emoji=False).status(
            f"Scanning {total} contexts…")
        self.status.start()

    def wrap(self, fn):
        def run(name, on_item):
            try:
                return fn(name, on_item)
            finally:
                with self._lock:
                    self.done += 1
                    if self.status:
                        self.status.update(f"Scanned {self.done} of {self.total} contexts…")
        return run

    def stop(self) -> None:
        if self.status:
            self.status.stop()
            self.status = None
