"""`probectl why` as a report for a terminal: header, containers, probes, events, verdict.

Every string from the cluster goes through `clean` and is rendered as `Text`, never as
markup. Colour carries meaning (red critical, yellow warning, green fine) and every
coloured thing also says it in words.
"""

from __future__ import annotations

from datetime import datetime

from probectl.core.model import ContainerDiagnosis, Diagnosis, Severity
from probectl.core.objects import human_duration
from probectl.render.console import Style, box_for, to_text
from probectl.render.safe import clean, truncate

SEVERITY_STYLE = {Severity.CRITICAL: "bold red", Severity.WARNING: "bold yellow", Severity.OK: "bold green"}
EVENT_ROWS = 20


def _t(value, style: str = "", limit: int | None = None):
    from rich.text import Text

    s = clean(value, oneline=True)
    if limit:
        s = truncate(s, limit)
    return Text(s, style=style)


def _age(now: datetime | None, t: datetime | None) -> str:
    if not now or not t:
        return "-"
    return human_duration((now - t).total_seconds())


def render(d: Diagnosis, style: Style, *, live: bool = False, narrow: bool | None = None) -> str:
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    box = box_for(style)
    now = d.as_of
    p = d.pod
    parts: list = []

    # header
    head = Text()
    head.append("Pod ", style="bold")
    head.append(clean(f"{p.namespace}/{p.name}", oneline=True), style="bold")
    fields = [
        ("phase", p.phase or "?"),
        ("node", p.node or "none"),
        ("restartPolicy", p.restart_policy),
        ("age", _age(now, p.created)),
    ]
    if p.owner_kind:
        fields.append(("owner", f"{p.owner_kind}/{p.owner_name}"))
    if p.deleting:
        fields.append(("deleting", "yes"))
    for k, v in fields:
        head.append(f"  {k} ")
        head.append(clean(v, oneline=True), style="bold")
    parts.append(head)
    if now and not live:
        parts.append(Text(f"As of {now.strftime('%Y-%m-%d %H:%M:%S')} UTC, the newest timestamp in the input (ages are relative to it).", style="dim"))

    # containers
    table = Table(box=box, title="Containers", title_justify="left", expand=False)
    for col in ("Container", "Type", "State", "Ready", "Restarts", "Last exit", "Cause"):
        table.add_column(col, no_wrap=col in ("Ready", "Restarts", "Type", "Cause"), overflow="fold")
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
    parts.append(table)

    # probes
    rows = [(c, s) for c in d.containers for s in c.probes.values()]
    if rows:
        pt = Table(box=box, title="Probes", title_justify="left", expand=False)
        pt.add_column("Container", overflow="fold")
        pt.add_column("Probe", no_wrap=True)
        pt.add_column("Configuration", overflow="fold")
        pt.add_column("Acts after", overflow="fold")
        pt.add_column("Failed/kills", no_wrap=True)
        pt.add_column("Last failure", overflow="fold", max_width=40)
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
                _t(f"{_age(now, s.last_seen)} ago: {s.last_message}" if s.last_message else "-", limit=110),
            )
        parts.append(pt)

    # events
    if d.events:
        et = Table(box=box, title="Events", title_justify="left", expand=False)
        for col in ("Last seen", "Type", "Reason", "Container", "Count", "Message"):
            et.add_column(col, no_wrap=col != "Message")
        shown = d.events[-EVENT_ROWS:]
        for e in shown:
            seen = _age(now, e.last)
            if e.count > 1 and e.first and e.last and e.first != e.last:
                seen += f" (x{e.count} over {human_duration((e.last - e.first).total_seconds())})"
            et.add_row(
                seen, Text(e.type, style="yellow" if e.type == "Warning" else ""), _t(e.reason),
                _t(e.container or "-"), str(e.count), _t(e.message, limit=160),
            )
        parts.append(et)
        if len(d.events) > len(shown):
            parts.append(Text(f"{len(d.events) - len(shown)} older events not shown (-o json has them all).", style="dim"))

    # logs
    for tail in d.logs:
        what = "previous instance" if tail.previous else "current instance"
        parts.append(Text(f"Logs of {clean(tail.container, oneline=True)} ({what}, last {len(tail.lines)} lines)", style="bold"))
        if tail.error:
            parts.append(Text(f"  {clean(tail.error, oneline=True)}", style="yellow"))
        elif not tail.lines:
            parts.append(Text("  (empty)", style="dim"))
        for line in tail.lines:
            parts.append(Text("  " + clean(line, oneline=True), style="dim", overflow="fold"))

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
        grid.add_column(overflow="fold")
        for marker, line in rows:
            grid.add_row(f" {marker}", Text(clean(line, oneline=True)))
        body.append(grid)

    culprit = next((c for c in d.containers if c.name == d.culprit), None)
    if culprit is not None and culprit.crash is not None:
        from probectl.core.diagnose import CRASH_SOURCE

        k = culprit.crash
        body.append(Text(""))
        body.append(Text(f"The line that says why ({k.kind}, from the {CRASH_SOURCE.get(k.source, k.source)})", style="bold"))
        body.append(Text("  " + clean(k.line, oneline=True), overflow="fold"))
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
        s += f", {_age(now, t.finished_at)} ago"
    return s


def render_overview(diagnoses: list[Diagnosis], style: Style, *, live: bool = False) -> str:
    """Several pods (the pods of a workload): one line each, then the worst one in full."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box_for(style), title=f"{len(diagnoses)} pods", title_justify="left", expand=False)
    for col in ("Pod", "Phase", "Restarts", "Cause", "Summary"):
        table.add_column(col, overflow="fold", no_wrap=col in ("Restarts", "Cause"))
    for d in diagnoses:
        table.add_row(
            _t(d.pod.name), _t(d.pod.phase or "?"), str(sum(c.restart_count for c in d.containers)),
            Text(d.cause.value, style=SEVERITY_STYLE[d.severity]), _t(d.summary, limit=160),
        )
    worst = max(diagnoses, key=lambda d: (d.severity.rank, sum(c.restart_count for c in d.containers)))
    head = to_text([table, Text(f"The most troubled pod in full: {clean(worst.pod.name, oneline=True)}", style="bold")], style)
    return head + "\n" + render(worst, style, live=live)
