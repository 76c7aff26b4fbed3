"""`probectl scan` output: a grouped table, Markdown, JUnit XML and GitHub annotations.

Each renderer returns a string. Cluster text is neutralised for every format meant for a
terminal or a CI viewer; JSON and YAML (render/data.py) keep it exact.
"""

from __future__ import annotations

from probectl.core.model import Severity
from probectl.core.scan import Group, ScanReport, group
from probectl.core.timefmt import ago
from probectl.render.ci import gh_data as _gh_data
from probectl.render.ci import gh_prop as _gh_prop
from probectl.render.ci import xml_text as _xml
from probectl.render.console import Style, to_text
from probectl.render.safe import clean, truncate

TABLE_GROUPS = 100
MARKDOWN_LIMIT = 1024 * 1024 - 4096  # $GITHUB_STEP_SUMMARY takes 1 MiB per step
GITHUB_ANNOTATIONS = 10  # shown per type and step; the rest are summed up in one notice


def _pods_text(g: Group) -> str:
    if g.count == 0:  # a workload finding (core.scan.workload_group)
        return "its pods cannot be created" if g.cause == "create-refused" else "its rollout is past its deadline"
    return g.first_pod if g.count == 1 else f"{g.example.name} and {g.count - 1} more"


def _where(g: Group) -> str:
    """`shop/Deployment/web, container api`: the workload (or the pod) and the container."""
    who = f"{g.namespace}/{g.owner}" if g.owner else f"{g.namespace}/pod/{g.first_pod}"
    return who + (f", container {g.container}" if g.container else "")


def _owner(g: Group) -> str:
    return g.owner or "-"


def _pods(n: int) -> str:
    return f"{n} pod{'s' if n != 1 else ''}"


def _counts(report: ScanReport) -> str:
    s = report.summary()
    parts = [f"{_pods(s['podsExamined'])} examined", f"{s['podsWithFindings']} with findings"]
    if report.workloads:
        n = len(report.workloads)
        parts.append(f"{n} workload{'s' if n != 1 else ''} stuck or unable to create pods")
    if s["byCause"]:
        parts.append(", ".join(f"{cause} {n}" for cause, n in s["byCause"].items()))
    return "; ".join(parts)


def _notes(report: ScanReport) -> list[str]:
    """What is not a finding, said in one line each."""
    out = []
    n = report.history_count
    if n:
        verb = "restarted earlier and is fine now" if n == 1 else "restarted earlier and are fine now"
        out.append(f"{n} pod{'s' if n != 1 else ''} {verb} (last restart over {report.recent} ago)"
                   + ("." if report.include_history else "; use --include-history to list them."))
    if report.terminating_count:
        n = report.terminating_count
        out.append(f"{n} pod{'s are' if n != 1 else ' is'} being deleted (terminating): not findings.")
    if report.outside_since:
        n = report.outside_since
        out.append(f"{n} pod{'s' if n != 1 else ''} had trouble only before the --since {report.since} window.")
    return out


def history_groups(report: ScanReport) -> list[Group]:
    """Pods that restarted earlier, grouped by the cause of their last restart."""
    import dataclasses

    from probectl.core.model import Cause

    def ended(c) -> float:
        t = (c.last_restart.finished_at if c.last_restart else None) or c.started_at
        return t.timestamp() if t else 0

    as_causes = []
    for d in report.history:
        c = max((c for c in d.containers if c.history), key=ended)
        cause = c.last_restart.cause if c.last_restart else Cause.UNKNOWN  # no lastState: why is not recorded
        as_causes.append(dataclasses.replace(d, cause=cause, culprit=c.name, severity=Severity.OK))
    return group(as_causes)


# --------------------------------------------------------------------------- table

_COLUMNS = (("Pods", 4), ("Restarts", 8), ("Probe failures", 14), ("Exit codes", 10), ("Last exit", 9))


def _rows(groups: list[Group], now, width: int, unicode: bool, title: str, first: str = "Cause", cause_w: int = 0):
    """Two lines a group: the counts, then where (workload, container, pods), truncated
    with an ellipsis, never broken mid-word; a third with the crash line when there is one."""
    from rich.text import Text

    from probectl.render.why import SEVERITY_STYLE

    cells = []
    for g in groups:
        exits = ", ".join(x.split()[0] for x in g.exits) or "-"
        cells.append((g, [str(g.count), str(g.restarts), str(g.probe_failures), exits, ago(now, g.last_terminated, "-")]))
    cause_w = max([cause_w, len(first)] + [len(g.cause) for g in groups])
    cols = list(_COLUMNS)
    widths = [max([w] + [len(c[1][i]) for c in cells]) for i, (_, w) in enumerate(cols)]
    widths[3] = min(widths[3], 12)

    def total(n: int) -> int:
        return cause_w + sum(widths[:n]) + 2 * n

    n = len(cols)
    while n > 2 and total(n) > width:
        n -= 1  # drop columns from the right when the terminal is narrow
    lines = [Text(title, style="bold")]
    head = first.ljust(cause_w)
    for (name, _), w in zip(cols[:n], widths[:n], strict=True):
        head += "  " + name.rjust(w) if name != "Exit codes" else "  " + name.ljust(w)
    lines.append(Text(head.rstrip(), style="bold"))
    lines.append(Text(("─" if unicode else "-") * min(width, total(n))))
    for g, values in cells:
        row = Text(g.cause.ljust(cause_w), style=SEVERITY_STYLE[g.severity])
        for i, (v, w) in enumerate(zip(values[:n], widths[:n], strict=True)):
            v = truncate(v, w)
            row.append("  " + (v.ljust(w) if cols[i][0] == "Exit codes" else v.rjust(w)))
        row.rstrip()
        lines.append(row)
        where = clean(f"{_where(g)}: {_pods_text(g)}", oneline=True)
        lines.append(Text("  " + truncate(where, max(10, width - 2)), style="dim"))
        crash = g.crash
        if crash is not None:
            lines.append(Text("  " + truncate(clean(f"{crash.kind}: {crash.line}", oneline=True), max(10, width - 2))))
    return lines


def render_table(report: ScanReport, style: Style) -> str:
    from rich.text import Text

    groups = report.groups
    parts: list = []
    width = max(40, style.width)
    cause_w = max([len(g.cause) for g in groups], default=0)  # the same columns in every section
    if groups:
        for sev in (Severity.CRITICAL, Severity.WARNING):
            mine = [g for g in groups if g.severity is sev]
            if not mine:
                continue
            shown = mine[:TABLE_GROUPS]
            pods = sum(g.count for g in mine)
            rollouts = sum(1 for g in mine if g.count == 0)  # workload findings (issue 27)
            where = [f"{pods} pod{'s' if pods != 1 else ''}"] if pods or not rollouts else []
            if rollouts:
                where.append(f"{rollouts} workload{'s' if rollouts != 1 else ''}")
            title = f"{sev.value.capitalize()}: {len(mine)} problem{'s' if len(mine) != 1 else ''} in {' and '.join(where)}"
            parts += _rows(shown, report.as_of, width, style.unicode, title, cause_w=cause_w)
            if len(mine) > len(shown):
                parts.append(Text(f"{len(mine) - len(shown)} more groups not shown: -o json has every pod.", style="dim"))
            parts.append(Text(""))
    else:
        parts += [Text("No findings.", style="bold green"), Text("")]
    if report.include_history and report.history:
        hg = history_groups(report)
        parts += _rows(hg[:TABLE_GROUPS], report.as_of, width, style.unicode,
                       f"Restarted earlier, fine now: {len(report.history)} pod{'s' if len(report.history) != 1 else ''}",
                       first="Last restart")
        parts.append(Text(""))
    if report.healthy:
        parts.append(Text(f"Healthy ({report.healthy_count} pods)", style="bold"))
        for d in report.healthy[:TABLE_GROUPS]:
            parts.append(Text("  " + truncate(clean(f"{d.pod.namespace}/{d.pod.name}", oneline=True), width - 2)))
        if report.healthy_count > len(report.healthy[:TABLE_GROUPS]):
            parts.append(Text(f"  {report.healthy_count - len(report.healthy[:TABLE_GROUPS])} more healthy pods not shown.",
                              style="dim"))
        parts.append(Text(""))
    parts.append(Text(_counts(report)))
    for note in _notes(report):
        parts.append(Text(note))
    for w in report.warnings:
        parts.append(Text("! " + clean(w, oneline=True), style="yellow"))
    if report.failed:
        parts.append(Text(f"Failing: findings at or above --fail-on {report.fail_on}.", style="bold red"))
    return to_text(parts, style)


# --------------------------------------------------------------------------- JSON and YAML, streamed


def json_item(d) -> str:
    """One Diagnosis as it stands inside the report's "items" (indented for its place)."""
    from probectl.jsonio import dumps_pretty

    return dumps_pretty(d.to_dict()).rstrip("\n").replace("\n", "\n    ")


def json_document(report: ScanReport, items):
    from probectl.jsonio import dumps_pretty

    yield '{\n  "apiVersion": "probectl/v1",\n  "kind": "ScanReport",\n  "items": ['
    first = True
    for it in items:
        yield ("\n    " if first else ",\n    ") + it
        first = False
    summary = dumps_pretty(report.summary()).rstrip("\n").replace("\n", "\n  ")
    workloads = dumps_pretty([w.to_dict() for w in report.workloads]).rstrip("\n").replace("\n", "\n  ")
    yield ("]" if first else "\n  ]") + ',\n  "workloads": ' + workloads + ',\n  "summary": ' + summary + "\n}\n"


def yaml_item(d) -> str:
    from probectl.render.data import to_yaml

    return to_yaml([d.to_dict()])


def yaml_items(items):
    """The head of a streamed ScanReport in YAML and its `items`, as they come."""
    yield "apiVersion: probectl/v1\nkind: ScanReport\n"
    first = True
    for it in items:
        if first:
            yield "items:\n"
            first = False
        yield it
    if first:
        yield "items: []\n"


def yaml_document(report: ScanReport, items):
    from probectl.render.data import to_yaml

    yield from yaml_items(items)
    yield to_yaml({"workloads": [w.to_dict() for w in report.workloads], "summary": report.summary()})


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
             f"{_pods(s['podsExamined'])} examined, {s['podsWithFindings']} with findings"
             + (f" (since {report.since})" if report.since else "")
             + (f", {len(report.workloads)} workload{'s' if len(report.workloads) != 1 else ''} stuck or unable to "
                "create pods" if report.workloads else "") + f", fail on `{report.fail_on}`.", ""]
    lines += [f"{_md(n)}  " for n in _notes(report)]
    if _notes(report):
        lines.append("")
    if s["byCause"]:
        lines += ["| Cause | Pods |", "|---|---:|"] + [f"| `{c}` | {n} |" for c, n in s["byCause"].items()] + [""]
    groups = report.groups
    if groups:
        lines += _md_groups(groups, "Cause", report)
        worst = groups[0].example
        lines += ["<details><summary>Evidence for " + _md(worst.namespace + "/" + worst.name) + "</summary>", ""]
        lines += [f"- {_md(e)}" for e in worst.evidence]
        if worst.next_steps:
            lines += ["", "Next steps:", ""] + [f"- {_md(x)}" for x in worst.next_steps]
        lines += ["", "</details>", ""]
    if report.include_history and report.history:
        lines += ["### Restarted earlier, fine now", ""] + _md_groups(history_groups(report), "Last restart", report)
    for w in report.warnings:
        lines.append(f"> ⚠️ {_md(w)}")
    return "\n".join(lines).rstrip() + "\n"


def _md_groups(groups: list[Group], first: str, report: ScanReport) -> list[str]:
    crash = any(g.crash for g in groups)
    lines = [f"| Severity | Workload | Pods | Container | {first} | Exit codes | Restarts | Summary |"
             + (" Crash line |" if crash else ""),
             "|---|---|---|---|---|---|---:|---|" + ("---|" if crash else "")]
    size = sum(len(x) + 1 for x in lines)
    for g in groups:
        where = f"{g.namespace}/{g.owner}" if g.owner else f"{g.namespace}/pod"
        row = (f"| {g.severity.value} | {_md(where)} | {_md(_pods_text(g))} | {_md(g.container or '-')} | `{g.cause}` | "
               f"{_md(g.exit or '-')} | {g.restarts} | {_md(truncate(g.example.summary, 300))} |")
        if crash:
            row += f" {_md(truncate(f'{g.crash.kind}: {g.crash.line}', 300)) if g.crash else '-'} |"
        if size + len(row) > MARKDOWN_LIMIT - 200:
            lines.append(f"\n{len(groups)} groups in all; the rest is cut to fit the 1 MiB step summary.")
            break
        lines.append(row)
        size += len(row) + 1
    return lines + [""]


# --------------------------------------------------------------------------- JUnit


def render_junit(report: ScanReport) -> str:
    """A testsuite per namespace, a testcase per pod, a failure per finding. Pods that
    restarted earlier and are fine now are left out (listed as passing with --include-history)."""
    items = list(report.findings) + (list(report.history) if report.include_history else []) + list(report.healthy)
    by_ns: dict[str, list] = {}
    for d in items:
        by_ns.setdefault(d.pod.namespace, []).append(d)
    rollouts: dict[str, list] = {}
    for w in report.workloads:  # a testcase per workload finding, in its namespace's suite
        rollouts.setdefault(w.namespace, []).append(w)
        by_ns.setdefault(w.namespace, [])
    timestamp = report.as_of.strftime("%Y-%m-%dT%H:%M:%S") if report.as_of else ""
    total = sum(len(v) for v in by_ns.values()) + len(report.workloads)
    failures = sum(1 for d in items if d.severity is not Severity.OK) + len(report.workloads)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuites name="probectl scan" tests="{total}" failures="{failures}" errors="0" time="0">']
    for ns in sorted(by_ns):
        items = by_ns[ns]
        mine = rollouts.get(ns, [])
        nfail = sum(1 for d in items if d.severity is not Severity.OK) + len(mine)
        out.append(f'  <testsuite name="{_xml(ns)}" tests="{len(items) + len(mine)}" failures="{nfail}" errors="0" skipped="0" '
                   f'time="0" timestamp="{timestamp}">')
        for w in mine:
            body = "\n".join([w.summary, "", *[f"- {e}" for e in w.evidence], "", *[f"$ {x}" for x in w.next_steps]])
            out.append(f'    <testcase classname="{_xml(f"{ns}.{w.kind}/{w.name}")}" name="{_xml(w.name)}" time="0">')
            out.append(f'      <failure type="{w.cause.value}" message="{_xml(truncate(w.summary, 400))}">{_xml(body)}</failure>')
            out.append("    </testcase>")
        for d in sorted(items, key=lambda d: d.pod.name):
            owner = f"{d.pod.owner_kind}/{d.pod.owner_name}" if d.pod.owner_kind else "Pod"
            classname = _xml(f"{ns}.{owner}")
            out.append(f'    <testcase classname="{classname}" name="{_xml(d.pod.name)}" time="0">')
            if d.severity is not Severity.OK:
                for c in d.containers:
                    if c.severity is Severity.OK:
                        continue
                    body = "\n".join([c.summary, "", *[f"- {e}" for e in c.evidence], "", *[f"$ {x}" for x in c.next_steps]])
                    message = f"{c.name}: {c.cause.value}: {truncate(c.summary, 400)}"
                    if c.crash:
                        message += f" | {c.crash.kind}: {truncate(c.crash.line, 200)}"
                    out.append(f'      <failure type="{c.cause.value}" message="{_xml(message)}">{_xml(body)}</failure>')
                if not any(c.severity is not Severity.OK for c in d.containers):
                    out.append(f'      <failure type="{d.cause.value}" message="{_xml(truncate(d.summary, 400))}">'
                               f"{_xml(chr(10).join(d.evidence))}</failure>")
            elif any(c.history for c in d.containers):
                out.append(f"      <system-out>{_xml(d.summary)}</system-out>")
            out.append("    </testcase>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- GitHub


def render_github(report: ScanReport) -> str:
    """Workflow commands: one annotation per group (GitHub shows 10 errors and 10 warnings
    a step), a notice for the rest. Cluster text is escaped so it cannot start a command."""
    lines = []
    groups = report.groups
    shown = {Severity.CRITICAL: 0, Severity.WARNING: 0}
    hidden = 0
    for g in groups:
        kind = "error" if g.severity is Severity.CRITICAL else "warning"
        if shown[g.severity] >= GITHUB_ANNOTATIONS:
            hidden += 1
            continue
        shown[g.severity] += 1
        pods = f"{g.count} pods" if g.count > 1 else (g.first_pod or _pods_text(g))
        title = f"{g.cause}: {g.namespace}/{g.owner or 'pod'} ({pods})" + (f" container {g.container}" if g.container else "")
        msg = truncate(g.example.summary, 900)
        if g.crash:
            msg += f" Crash line ({g.crash.kind}): {truncate(g.crash.line, 300)}"
        if g.example.next_steps:
            msg += f" Next: {g.example.next_steps[0]}"
        lines.append(f"::{kind} title={_gh_prop(title)}::{_gh_data(msg)}")
    if hidden:
        lines.append(f"::notice title=probectl::{_gh_data(f'{hidden} more groups of findings; see the job summary or -o json')}")
    notes = " ".join(_notes(report))
    lines.append(f"::notice title=probectl scan::{_gh_data(_counts(report) + ('. ' + notes if notes else ''))}")
    return "\n".join(lines) + "\n"
