"""`probectl why` as a report for a terminal: header, containers, probes, events, verdict.

Every string from the cluster goes through `clean` and is rendered as `Text`, never as
markup. Colour carries meaning (red critical, yellow warning, green fine) and every
coloured thing also says it in words.
"""

from __future__ import annotations

from probectl.core.model import ContainerDiagnosis, Diagnosis, Severity
from probectl.core.timefmt import elapsed
from probectl.render.console import Style, box_for, to_text
from probectl.render.safe import clean, truncate

SEVERITY_STYLE = {Severity.CRITICAL: "bold red", Severity.WARNING: "bold yellow", Severity.OK: "bold green"}
EVENT_ROWS = 20
NARROW = 100  # below this many columns: stacked sections instead of tables


def _t(value, style: str = "", limit: int | None = None):
    from rich.text import Text

    s = clean(value, oneline=True)
    if limit:
        s = truncate(s, limit)
    return Text(s, style=style)


def render(d: Diagnosis, style: Style, *, live: bool = False, narrow: bool | None = None) -> str:
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    box = box_for(style)
    now = d.as_of
    p = d.pod
    parts: list = []
    if narrow is None:
        narrow = style.width < NARROW

    # header
    head = Text()
    head.append("Pod ", style="bold")
    head.append(clean(f"{p.namespace}/{p.name}", oneline=True), style="bold")
    fields = [
        ("phase", p.phase or "?"),
        ("node", p.node or "none"),
        ("restartPolicy", p.restart_policy),
        ("age", elapsed(now, p.created, "-")),
    ]
    if p.owner_kind:
        fields.append(("owner", f"{p.owner_kind}/{p.owner_name}"))
    if p.deleting:
        fields.append(("deleting", "yes"))
    if narrow:  # the pod on its own line, then the fields packed in whole "key value" pairs
        parts.append(head)
        parts += _packed([(k, clean(v, oneline=True)) for k, v in fields], style.width)
    else:
        for k, v in fields:
            head.append(f"  {k} ")
            head.append(clean(v, oneline=True), style="bold")
        parts.append(head)
    if now and not live:
        parts.append(Text(f"As of {now.strftime('%Y-%m-%d %H:%M:%S')} UTC, the newest timestamp in the input (ages are relative to it).", style="dim"))
    parts += _stacked(d, now, style) if narrow else _tables(d, now, box)

    # logs
    for tail in d.logs:
        what = "previous instance" if tail.previous else "current instance"
        parts.append(Text(f"Logs of {clean(tail.container, oneline=True)} ({what}, last {len(tail.lines)} lines)", style="bold"))
        if tail.error:
            parts.append(Text(f"  {clean(tail.error, oneline=True)}", style="yellow"))
        elif not tail.lines:
            parts.append(Text("  (empty)", style="dim"))
        for line in tail.lines:
            parts.append(Text("  " + clean(line, oneline=True), style="dim", overflow="ellipsis"))

    # verdict
    sev_style = SEVERITY_STYLE[d.severity]
    bullet = "•" if style.unicode else "-"
    body: list = [Text(clean(d.summary), style="bold")]

    def section(title: str, rows: list[tuple[str, str]], title_style: str = "bold") -> None:
        if not rows:
            return
        body.append(Text(""))
        body.append(Text(title, style=title_style))
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="ellipsis")
        for marker, line in rows:
            grid.add_row(f" {marker}", Text(clean(line, oneline=True)))
        body.append(grid)

    culprit = next((c for c in d.containers if c.name == d.culprit), None)
    if culprit is not None and culprit.crash is not None:
        from probectl.core.diagnose import CRASH_SOURCE

        k = culprit.crash
        body.append(Text(""))
        body.append(Text(f"The line that says why ({k.kind}, from the {CRASH_SOURCE.get(k.source, k.source)})", style="bold"))
        body.append(Text("  " + clean(k.line, oneline=True), overflow="ellipsis"))
    section("Evidence", [(bullet, x) for x in d.evidence if not (culprit and culprit.crash and x.startswith("crash line ("))])
    section("Next steps", [("$" if x.startswith(("kubectl", "probectl")) else bullet, x) for x in d.next_steps])
    others = [c for c in d.containers if c.name != d.culprit and c.severity is not Severity.OK]
    section("Also", [(bullet, f"{c.summary} [{c.cause.value}]") for c in others])
    past = [c for c in d.containers if c.history and c.last_restart]
    section("Last restart (history: fine since)", [
        (bullet, line) for c in past for line in
        [f"{c.name}: {c.last_restart.summary} [{c.last_restart.cause.value}, confidence {c.last_restart.confidence.value}]"]
        + [f"  {e}" for e in c.last_restart.evidence]])
    section("Warnings", [("!", w) for w in d.warnings], "bold yellow")
    title = Text()
    title.append("Verdict: ")
    title.append(d.cause.value, style=sev_style)
    title.append(f"  ({d.severity.value}, confidence {d.confidence.value})")
    parts.append(Panel(Group(*body), title=title, title_align="left", box=box, border_style=sev_style.split()[-1], expand=True))
    return to_text(parts, style)


def _tables(d: Diagnosis, now, box) -> list:
    """The wide layout: containers, probes and events as tables."""
    from rich.table import Table
    from rich.text import Text

    out: list = []
    # containers
    table = Table(box=box, title="Containers", title_justify="left", expand=False)
    for col in ("Container", "Type", "State", "Ready", "Restarts", "Last exit", "Cause"):
        table.add_column(col, no_wrap=col in ("Ready", "Restarts", "Type", "Cause"), overflow="ellipsis")
    for c in d.containers:
        table.add_row(
            _t(c.name, "bold" if c.name == d.culprit else ""),
            c.type,
            _t(_state(c), limit=40),
            {True: "yes", False: "no", None: "-"}[c.ready],
            str(c.restart_count),
            _t(_last_exit(c, now), limit=60),
            Text(c.cause.value, style=SEVERITY_STYLE[c.severity]),
        )
    out.append(table)

    # probes
    rows = [(c, s) for c in d.containers for s in c.probes.values()]
    if rows:
        pt = Table(box=box, title="Probes", title_justify="left", expand=False)
        pt.add_column("Container", overflow="ellipsis")
        pt.add_column("Probe", no_wrap=True)
        pt.add_column("Configuration", overflow="ellipsis")
        pt.add_column("Acts after", overflow="ellipsis")
        pt.add_column("Failed/kills", no_wrap=True)
        pt.add_column("Last failure", overflow="ellipsis", max_width=40)
        for c, s in rows:
            cfg = s.config
            acts = "-"
            if cfg:
                acts = f"{cfg.failure_window}s" if s.kind != "startup" else f"{cfg.budget_seconds}s from start"
            failed = f"{s.failures}" + (f"+{s.errors}err" if s.errors else "") + f" / {s.kills}"
            pt.add_row(
                _t(c.name), s.kind,
                Text(clean(cfg.handler, oneline=True) + f"\ndelay={cfg.initial_delay}s timeout={cfg.timeout}s "
                     f"period={cfg.period}s #failure={cfg.failure_threshold}") if cfg else Text("not configured"),
                acts,
                Text(failed, style="red" if s.failures or s.errors or s.kills else ""),
                _t(f"{elapsed(now, s.last_seen, '-')} ago: {s.last_message}" if s.last_message else "-", limit=110),
            )
        out.append(pt)

    # events
    if d.events:
        et = Table(box=box, title="Events", title_justify="left", expand=False)
        for col in ("Last seen", "Type", "Reason", "Container", "Count", "Message"):
            et.add_column(col, no_wrap=col != "Message")
        shown = d.events[-EVENT_ROWS:]
        for e in shown:
            seen = elapsed(now, e.last, "-")
            if e.count > 1 and e.first and e.last and e.first != e.last:
                seen += f" (x{e.count} over {elapsed(e.last, e.first)})"
            et.add_row(
                seen, Text(e.type, style="yellow" if e.type == "Warning" else ""), _t(e.reason),
                _t(e.container or "-"), str(e.count), _t(e.message, limit=160),
            )
        out.append(et)
        if len(d.events) > len(shown):
            out.append(Text(f"{len(d.events) - len(shown)} older events not shown (-o json has them all).", style="dim"))
    return out


def _packed(pairs: list[tuple[str, str]], width: int, indent: int = 2) -> list:
    """`key value` pairs packed into lines of at most `width`, two spaces apart, a pair
    never split (a pair wider than the line gets a line of its own, cut with an ellipsis)."""
    from rich.text import Text

    lines: list = []
    line, used = None, 0
    for k, v in pairs:
        size = len(k) + 1 + len(v)
        if line is None or used + 2 + size > width:
            line = Text(" " * indent, no_wrap=True, overflow="ellipsis")
            lines.append(line)
            used = indent
        else:
            line.append("  ")
            used += 2
        line.append(f"{k} ")
        line.append(v, style="bold")
        used += size
    return lines


def _grid(rows: list[tuple[str, object]], indent: int = 2):
    """Label and value, the value wrapped at spaces under itself; indented."""
    from rich.padding import Padding
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, min_width=len("readiness"))
    grid.add_column(overflow="ellipsis")
    for label, value in rows:
        grid.add_row(label, value)
    return Padding(grid, (0, 0, 0, indent))


def _stacked(d: Diagnosis, now, style: Style) -> list:
    """The narrow layout (below NARROW columns): a section per container with its probes,
    then the events, each message under its line; wrapped at spaces, never mid-word. The
    labels are the wide tables' column names, so both layouts use the same words."""
    from rich.padding import Padding
    from rich.text import Text

    out: list = [Text(""), Text("Containers", style="bold")]
    for c in d.containers:
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(clean(c.name, oneline=True), style="bold" if c.name == d.culprit else "")
        head.append(f"  {c.type}  ")
        head.append(c.cause.value, style=SEVERITY_STYLE[c.severity])
        out.append(head)
        out += _packed([("State", _t(_state(c), limit=40).plain), ("Ready", {True: "yes", False: "no", None: "-"}[c.ready]),
                        ("Restarts", str(c.restart_count))], style.width)
        rows: list[tuple[str, object]] = []
        if c.last_termination:
            rows.append(("Last exit", _t(_last_exit(c, now), limit=60)))
        for s in c.probes.values():
            cfg = s.config
            if not cfg:
                rows.append((s.kind, Text("not configured")))
                continue
            acts = f"{cfg.failure_window}s" if s.kind != "startup" else f"{cfg.budget_seconds}s from start"
            failed = f"{s.failures}" + (f"+{s.errors}err" if s.errors else "") + f" / {s.kills}"
            value = Text(clean(cfg.handler, oneline=True) + "\n"
                         + f"delay={cfg.initial_delay}s timeout={cfg.timeout}s period={cfg.period}s #failure={cfg.failure_threshold}\n"
                         + f"Acts after {acts}  Failed/kills ")
            value.append(failed, style="red" if s.failures or s.errors or s.kills else "")
            if s.last_message:
                value.append("\nLast failure " + truncate(clean(f"{elapsed(now, s.last_seen, '-')} ago: {s.last_message}", oneline=True), 110))
            rows.append((s.kind, value))
        if rows:
            out.append(_grid(rows))

    if d.events:
        shown = d.events[-EVENT_ROWS:]
        out.append(Text(""))
        out.append(Text("Events", style="bold"))
        for e in shown:
            seen = elapsed(now, e.last, "-")
            if e.count > 1 and e.first and e.last and e.first != e.last:
                seen += f" (x{e.count} over {elapsed(e.last, e.first)})"
            line = Text("  " + seen + "  ", no_wrap=True, overflow="ellipsis")
            line.append(e.type, style="yellow" if e.type == "Warning" else "")
            line.append("  " + clean(e.reason, oneline=True))
            if e.container:
                line.append("  " + clean(e.container, oneline=True))
            if e.count > 1 and "(x" not in seen:
                line.append(f"  Count {e.count}")
            out.append(line)
            out.append(Padding(_t(e.message, limit=160), (0, 0, 0, 4)))
        if len(d.events) > len(shown):
            out.append(Text(f"{len(d.events) - len(shown)} older events not shown (-o json has them all).", style="dim"))
    out.append(Text(""))
    return out


def _state(c: ContainerDiagnosis) -> str:
    s = c.state
    if c.state_reason:
        s += f" ({c.state_reason})"
    return s


def _last_exit(c: ContainerDiagnosis, now) -> str:
    t = c.last_termination
    if not t:
        return "-"
    from probectl.core.exitcodes import decode

    s = decode(t.exit_code).short()
    if t.reason:
        s += f" {t.reason}"
    if t.finished_at and now:
        s += f", {elapsed(now, t.finished_at, '-')} ago"
    return s


def render_overview(diagnoses: list[Diagnosis], style: Style, *, live: bool = False) -> str:
    """Several pods (the pods of a workload): one line each, then the worst one in full."""
    from rich.table import Table
    from rich.text import Text

    if style.width < NARROW:  # a line per pod, its summary under it
        from rich.padding import Padding

        table = [Text(f"{len(diagnoses)} pods", style="bold")]
        for d in diagnoses:
            line = Text(clean(d.pod.name, oneline=True), no_wrap=True, overflow="ellipsis")
            restarts = sum(c.restart_count for c in d.containers)
            line.append(f"  {clean(d.pod.phase or '?', oneline=True)}  Restarts {restarts}  ")
            line.append(d.cause.value, style=SEVERITY_STYLE[d.severity])
            table += [line, Padding(_t(d.summary, limit=160), (0, 0, 0, 2))]
    else:
        table = Table(box=box_for(style), title=f"{len(diagnoses)} pods", title_justify="left", expand=False)
        for col in ("Pod", "Phase", "Restarts", "Cause", "Summary"):
            table.add_column(col, overflow="ellipsis", no_wrap=col in ("Restarts", "Cause"))
        for d in diagnoses:
            table.add_row(
                _t(d.pod.name), _t(d.pod.phase or "?"), str(sum(c.restart_count for c in d.containers)),
                Text(d.cause.value, style=SEVERITY_STYLE[d.severity]), _t(d.summary, limit=160),
            )
        table = [table]
    worst = max(diagnoses, key=lambda d: (d.severity.rank, sum(c.restart_count for c in d.containers)))
    head = to_text([*table, Text(f"The most troubled pod in full: {clean(worst.pod.name, oneline=True)}", style="bold")], style)
    return head + "\n" + render(worst, style, live=live)
