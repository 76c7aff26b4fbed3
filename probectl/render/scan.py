"""`probectl scan` output: a grouped table, Markdown, JUnit XML and GitHub annotations.

Each renderer returns a string. Cluster text is neutralised for every format meant for a
terminal or a CI viewer; JSON and YAML (render/data.py) keep it exact.
"""

from __future__ import annotations

from datetime import datetime

from probectl.core.model import Severity
from probectl.core.objects import human_duration
from probectl.core.scan import Group, ScanReport, group
from probectl.render.ci import gh_data as _gh_data
from probectl.render.ci import gh_prop as _gh_prop
from probectl.render.ci import xml_text as _xml
from probectl.render.console import Style, box_for, to_text
from probectl.render.safe import clean, truncate

TABLE_GROUPS = 100
MARKDOWN_LIMIT = 1024 * 1024 - 4096  # $GITHUB_STEP_SUMMARY takes 1 MiB per step
GITHUB_ANNOTATIONS = 10  # shown per type and step; the rest are summed up in one notice


def _age(now: datetime | None, t: datetime | None) -> str:
    return f"{human_duration((now - t).total_seconds())} ago" if now and t else "-"


def _pod_cell(g: Group) -> str:
    return g.pods[0].pod.name if g.count == 1 else f"{g.example.pod.name} (+{g.count - 1} more pods)"


def _owner(g: Group) -> str:
    return g.owner or "-"


def _counts(report: ScanReport) -> str:
    s = report.summary()
    parts = [f"{s['podsExamined']} pods examined", f"{s['podsWithFindings']} with findings"]
    if s["byCause"]:
        parts.append(", ".join(f"{cause} {n}" for cause, n in s["byCause"].items()))
    return "; ".join(parts)


def render_table(report: ScanReport, style: Style) -> str:
    from rich.table import Table
    from rich.text import Text

    from probectl.render.report import SEVERITY_STYLE

    groups = group([d for d in report.items if d.severity is not Severity.OK])
    healthy = [d for d in report.items if d.severity is Severity.OK]
    parts: list = []
    if groups:
        table = Table(box=box_for(style), title="Findings", title_justify="left", expand=True)
        table.add_column("Namespace/pod (owner)", overflow="fold", ratio=3)
        table.add_column("Container", overflow="fold", ratio=1)
        for col in ("Cause", "Exit", "Restarts", "Probes", "Terminated"):
            table.add_column(col, no_wrap=True)
        for g in groups[:TABLE_GROUPS]:
            who = Text(clean(f"{g.namespace}/{_pod_cell(g)}", oneline=True))
            if g.owner:
                who.append("\n" + clean(g.owner, oneline=True), style="dim")
            table.add_row(
                who, Text(clean(g.container or "-", oneline=True)),
                Text(g.cause, style=SEVERITY_STYLE[g.severity]), (g.exit or "-").replace(" (", " ").rstrip(")"),
                str(g.restarts), str(g.probe_failures),
                _age(report.as_of, g.last_terminated),
            )
        parts.append(table)
        if len(groups) > TABLE_GROUPS:
            parts.append(Text(f"{len(groups) - TABLE_GROUPS} more groups not shown: -o json has every pod.", style="dim"))
    else:
        parts.append(Text("No findings.", style="bold green"))
    if healthy:
        ht = Table(box=box_for(style), title="Healthy", title_justify="left", expand=False)
        for col in ("Namespace", "Pod", "Cause"):
            ht.add_column(col, overflow="fold")
        for d in healthy[:TABLE_GROUPS]:
            ht.add_row(Text(clean(d.pod.namespace, oneline=True)), Text(clean(d.pod.name, oneline=True)), d.cause.value)
        parts.append(ht)
        if len(healthy) > TABLE_GROUPS:
            parts.append(Text(f"{len(healthy) - TABLE_GROUPS} more healthy pods not shown.", style="dim"))
    parts.append(Text(_counts(report)))
    for w in report.warnings:
        parts.append(Text("! " + clean(w, oneline=True), style="yellow"))
    if report.failed:
        parts.append(Text(f"Failing: findings at or above --fail-on {report.fail_on}.", style="bold red"))
    return to_text(parts, style)


# --------------------------------------------------------------------------- Markdown


def _md(s: str) -> str:
    """Cluster text made safe inside a Markdown table cell: no control characters, no
    pipes or HTML, no newlines."""
    s = clean(s, oneline=True)
    for ch, rep in (("\\", "\\\\"), ("|", "\\|"), ("<", "&lt;"), (">", "&gt;"), ("`", "\\`"), ("[", "\\["), ("]", "\\]"),
                    ("*", "\\*"), ("_", "\\_")):
        s = s.replace(ch, rep)
    return s


def render_markdown(report: ScanReport) -> str:
    s = report.summary()
    verdict = "failed" if report.failed else "passed"
    icon = {"failed": "❌", "passed": "✅"}[verdict]
    lines = [f"## {icon} probectl scan: {verdict}", "",
             f"{s['podsExamined']} pods examined, {s['podsWithFindings']} with findings"
             + (f" (since {report.since})" if report.since else "") + f", fail on `{report.fail_on}`.", ""]
    if s["byCause"]:
        lines += ["| Cause | Pods |", "|---|---:|"] + [f"| `{c}` | {n} |" for c, n in s["byCause"].items()] + [""]
    groups = group([d for d in report.items if d.severity is not Severity.OK])
    if groups:
        lines += ["| Severity | Namespace | Owner | Pod | Container | Cause | Last exit | Restarts | Summary |",
                  "|---|---|---|---|---|---|---|---:|---|"]
        for g in groups:
            row = (f"| {g.severity.value} | {_md(g.namespace)} | {_md(_owner(g))} | {_md(_pod_cell(g))} | "
                   f"{_md(g.container or '-')} | `{g.cause}` | {_md(g.exit or '-')} | {g.restarts} | "
                   f"{_md(truncate(g.example.summary, 300))} |")
            if sum(len(x) + 1 for x in lines) + len(row) > MARKDOWN_LIMIT - 200:
                lines.append(f"| | | | | | | | | {len(groups)} groups in all; the rest is cut to fit the 1 MiB step summary |")
                break
            lines.append(row)
        lines.append("")
        worst = groups[0].example
        lines += ["<details><summary>Evidence for " + _md(worst.pod.namespace + "/" + worst.pod.name) + "</summary>", ""]
        lines += [f"- {_md(e)}" for e in worst.evidence]
        if worst.next_steps:
            lines += ["", "Next steps:", ""] + [f"- {_md(x)}" for x in worst.next_steps]
        lines += ["", "</details>", ""]
    for w in report.warnings:
        lines.append(f"> ⚠️ {_md(w)}")
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- JUnit


def render_junit(report: ScanReport) -> str:
    """A testsuite per namespace, a testcase per pod, a failure per finding."""
    by_ns: dict[str, list] = {}
    for d in report.items:
        by_ns.setdefault(d.pod.namespace, []).append(d)
    timestamp = report.as_of.strftime("%Y-%m-%dT%H:%M:%S") if report.as_of else ""
    total = sum(len(v) for v in by_ns.values())
    failures = sum(1 for d in report.items if d.severity is not Severity.OK)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuites name="probectl scan" tests="{total}" failures="{failures}" errors="0" time="0">']
    for ns in sorted(by_ns):
        items = by_ns[ns]
        nfail = sum(1 for d in items if d.severity is not Severity.OK)
        out.append(f'  <testsuite name="{_xml(ns)}" tests="{len(items)}" failures="{nfail}" errors="0" skipped="0" '
                   f'time="0" timestamp="{timestamp}">')
        for d in sorted(items, key=lambda d: d.pod.name):
            owner = f"{d.pod.owner_kind}/{d.pod.owner_name}" if d.pod.owner_kind else "Pod"
            classname = _xml(f"{ns}.{owner}")
            out.append(f'    <testcase classname="{classname}" name="{_xml(d.pod.name)}" time="0">')
            if d.severity is not Severity.OK:
                for c in d.containers:
                    if c.severity is Severity.OK:
                        continue
                    body = "\n".join([c.summary, "", *[f"- {e}" for e in c.evidence], "", *[f"$ {x}" for x in c.next_steps]])
                    out.append(f'      <failure type="{c.cause.value}" message="{_xml(f"{c.name}: {c.cause.value}: {truncate(c.summary, 400)}")}">'
                               f"{_xml(body)}</failure>")
                if not any(c.severity is not Severity.OK for c in d.containers):
                    out.append(f'      <failure type="{d.cause.value}" message="{_xml(truncate(d.summary, 400))}">'
                               f"{_xml(chr(10).join(d.evidence))}</failure>")
            out.append("    </testcase>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- GitHub


def render_github(report: ScanReport) -> str:
    """Workflow commands: one annotation per group (GitHub shows 10 errors and 10 warnings
    a step), a notice for the rest. Cluster text is escaped so it cannot start a command."""
    lines = []
    groups = group([d for d in report.items if d.severity is not Severity.OK])
    shown = {Severity.CRITICAL: 0, Severity.WARNING: 0}
    hidden = 0
    for g in groups:
        kind = "error" if g.severity is Severity.CRITICAL else "warning"
        if shown[g.severity] >= GITHUB_ANNOTATIONS:
            hidden += 1
            continue
        shown[g.severity] += 1
        who = f"{g.namespace}/{_pod_cell(g)}" + (f" ({g.owner})" if g.owner else "")
        title = f"{g.cause}: {who}"
        msg = truncate(g.example.summary, 900)
        if g.example.next_steps:
            msg += f" Next: {g.example.next_steps[0]}"
        lines.append(f"::{kind} title={_gh_prop(title)}::{_gh_data(msg)}")
    if hidden:
        lines.append(f"::notice title=probectl::{_gh_data(f'{hidden} more groups of findings; see the job summary or -o json')}")
    lines.append(f"::notice title=probectl scan::{_gh_data(_counts(report))}")
    return "\n".join(lines) + "\n"
