"""`probectl scan --all-contexts` / `--contexts` output: one report for a fleet.

Each context's own scan is rendered by render/scan.py as it would be alone; this adds
what a fleet needs around it: a status line per context (read, or the error that kept it
from being read), the context on every item, annotation and test suite, and the counts
summed over the fleet. Cluster text and context names (from the user's kubeconfig,
possibly shared) are neutralised as everywhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from probectl.core.fleet import ContextResult, FleetReport
from probectl.core.model import Severity
from probectl.render import scan as r
from probectl.render.ci import gh_data, gh_prop
from probectl.render.console import Style, to_text
from probectl.render.safe import clean, truncate


def _pods(n: int) -> str:
    return f"{n} pod{'s' if n != 1 else ''}"


def _contexts(n: int) -> str:
    return f"{n} context{'s' if n != 1 else ''}"


def context_line(c: ContextResult) -> str:
    """What one context came to, in a line: its counts, or its error."""
    if not c.ok:
        return f"could not be read: {c.error}"
    s = c.report.summary()
    text = f"{_pods(s['podsExamined'])} examined, {s['podsWithFindings']} with findings"
    if s["byCause"]:
        text += ": " + ", ".join(f"{cause} {n}" for cause, n in s["byCause"].items())
    return text + _workloads(s["workloadsWithFindings"])


def _workloads(n: int) -> str:
    return f"; {n} workload{'s' if n != 1 else ''} stuck or unable to create pods" if n else ""


def fleet_counts(fleet: FleetReport) -> str:
    s = fleet.summary()
    parts = [f"{_contexts(s['contextsTotal'])}, {s['contextsRead']} read"
             + (f", {s['contextsFailed']} could not be read" if s["contextsFailed"] else ""),
             f"{_pods(s['podsExamined'])} examined, {s['podsWithFindings']} with findings"]
    if s["byCause"]:
        parts.append(", ".join(f"{cause} {n}" for cause, n in s["byCause"].items()))
    return "; ".join(parts) + _workloads(s["workloadsWithFindings"])


# --------------------------------------------------------------------------- table


def render_table(fleet: FleetReport, style: Style) -> str:
    """A status line per context, then each context's findings as `scan` shows them alone,
    under its name; the fleet's counts last."""
    from rich.table import Table
    from rich.text import Text

    from probectl.render.why import SEVERITY_STYLE

    width = max(40, style.width)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True, overflow="ellipsis", max_width=max(12, width // 3))
    grid.add_column(overflow="fold")  # words wrap; only a word wider than the column is cut
    for c in fleet.contexts:
        if c.ok:
            mark = Text("ok", style=SEVERITY_STYLE[c.report.worst] if c.report.findings_count else "green")
        else:
            mark = Text("error", style="bold red")
        grid.add_row(mark, Text(clean(c.name, oneline=True)), Text(clean(context_line(c), oneline=True)))
    head = [Text(f"Contexts: {len(fleet.read)} of {len(fleet.contexts)} read", style="bold"), grid, Text("")]
    out = to_text(head, style)
    rule = "─" if style.unicode else "-"
    for c in fleet.read:
        title = truncate(clean(f"Context {c.name}", oneline=True), width)
        out += to_text([Text(title, style="bold"), Text(rule * min(width, max(len(title), 20)))], style)
        out += r.render_table(c.report, style)
        out += "\n"
    foot = [Text("Fleet: " + fleet_counts(fleet), style="bold")]
    for c in fleet.unreadable:
        foot.append(Text("! " + clean(f'context "{c.name}" could not be read: {c.error}', oneline=True), style="yellow"))
    if fleet.failed:
        foot.append(Text(f"Failing: findings at or above --fail-on {fleet.fail_on}.", style="bold red"))
    if fleet.unreadable:
        foot.append(Text(f"Failing: {_contexts(len(fleet.unreadable))} could not be read.", style="bold red"))
    return out + to_text(foot, style)


# --------------------------------------------------------------------------- JSON and YAML, streamed


def _with_context(d, context: str) -> dict:
    """The Diagnosis's (or WorkloadDiagnosis's) JSON with `context` after `kind` (an
    addition: every other field as `scan` gives it for that context alone)."""
    out: dict = {}
    for k, v in d.to_dict().items():
        out[k] = v
        if k == "kind":
            out["context"] = context
    out.setdefault("context", context)
    return out


def json_item(d, context: str) -> str:
    from probectl.jsonio import dumps_pretty

    return dumps_pretty(_with_context(d, context)).rstrip("\n").replace("\n", "\n    ")


def yaml_item(d, context: str) -> str:
    from probectl.render.data import to_yaml

    return to_yaml([_with_context(d, context)])


def json_document(fleet: FleetReport, items: Iterable[str]):
    """The report: every read context's items (in the order of the contexts), `contexts`,
    and the fleet's `summary`. `items` are the texts of json_item."""
    from probectl.jsonio import dumps_pretty

    yield '{\n  "apiVersion": "probectl/v1",\n  "kind": "ScanReport",\n  "items": ['
    first = True
    for it in items:
        yield ("\n    " if first else ",\n    ") + it
        first = False
    workloads = dumps_pretty(_workload_items(fleet)).rstrip("\n").replace("\n", "\n  ")
    contexts = dumps_pretty([c.to_dict() for c in fleet.contexts]).rstrip("\n").replace("\n", "\n  ")
    summary = dumps_pretty(fleet.summary()).rstrip("\n").replace("\n", "\n  ")
    yield (("]" if first else "\n  ]") + ',\n  "workloads": ' + workloads + ',\n  "contexts": ' + contexts
           + ',\n  "summary": ' + summary + "\n}\n")


def _workload_items(fleet: FleetReport) -> list[dict]:
    """Every read context's workload findings, each with its `context`, as `scan` gives
    them under `workloads` for that context alone."""
    return [_with_context(w, c.name) for c in fleet.read for w in c.report.workloads]


def yaml_document(fleet: FleetReport, items: Iterable[str]):
    from probectl.render.data import to_yaml

    yield from r.yaml_items(items)
    yield to_yaml({"workloads": _workload_items(fleet)})
    yield to_yaml({"contexts": [c.to_dict() for c in fleet.contexts]})
    yield to_yaml({"summary": fleet.summary()})


# --------------------------------------------------------------------------- Markdown


def render_markdown(fleet: FleetReport) -> str:
    """A table of the contexts, then each context's groups of findings under its name."""
    md = r._md
    s = fleet.summary()
    bad = fleet.failed or bool(fleet.unreadable)
    verdict = "failed" if bad else "passed"
    lines = [f"## {'❌' if bad else '✅'} probectl fleet scan: {verdict}", "",
             f"{_contexts(s['contextsTotal'])}, {s['contextsRead']} read"
             + (f", **{s['contextsFailed']} could not be read**" if s["contextsFailed"] else "")
             + f"; {_pods(s['podsExamined'])} examined, {s['podsWithFindings']} with findings"
             + (f" (since {fleet.since})" if fleet.since else "") + _workloads(s["workloadsWithFindings"]).replace(";", ",")
             + f", fail on `{fleet.fail_on}`.", "",
             "| Context | Status | Pods | With findings | Critical | Warning | Causes, or the error |",
             "|---|---|---:|---:|---:|---:|---|"]
    for c in fleet.contexts:
        if c.ok:
            cs = c.report.summary()
            causes = ", ".join(f"`{cause}` {n}" for cause, n in cs["byCause"].items()) or "-"
            lines.append(f"| {md(c.name)} | ok | {cs['podsExamined']} | {cs['podsWithFindings']} | "
                         f"{cs['bySeverity']['critical']} | {cs['bySeverity']['warning']} | {causes} |")
        else:
            lines.append(f"| {md(c.name)} | **error** | - | - | - | - | {md(truncate(c.error or '', 500))} |")
    lines.append("")
    size = sum(len(x) + 1 for x in lines)
    for c in fleet.read:
        if not c.report.groups:
            continue
        part = [f"### {md(c.name)}", ""] + r._md_groups(c.report.groups, "Cause", c.report)
        part += [f"> ⚠️ {md(w)}" for w in c.report.warnings] + ([""] if c.report.warnings else [])
        text = sum(len(x) + 1 for x in part)
        if size + text > r.MARKDOWN_LIMIT - 200:
            lines.append(f"The findings of {md(c.name)} and the contexts after it are cut to fit the 1 MiB step "
                         "summary; the JSON or JUnit report has everything.")
            break
        lines += part
        size += text
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- JUnit


def render_junit(fleet: FleetReport) -> str:
    """One test suite per context: each context's test cases as `scan -o junit` gives them
    alone (classname prefixed with the context, so GitLab and the like keep them apart),
    and a test case `context read` that errors when the context could not be read."""
    import xml.etree.ElementTree as ET

    from probectl.render.ci import xml_text

    suites = []
    total = failures = errors = 0
    for c in fleet.contexts:
        name = clean(c.name, oneline=True)
        cases: list = []
        nfail = 0
        timestamp = ""
        if c.ok:
            doc = ET.fromstring(r.render_junit(c.report))
            for suite in doc.iter("testsuite"):
                timestamp = suite.get("timestamp", "") or timestamp
                for case in suite.iter("testcase"):
                    # the same pod names run in several clusters: GitLab counts only the first of
                    # duplicate names, so the context goes in the name too
                    case.set("classname", f"{name}.{case.get('classname', '')}")
                    case.set("name", f"{name}/{case.get('name', '')}")
                    case.tail = None
                    nfail += 1 if case.find("failure") is not None else 0
                    cases.append(case)
        read = ET.Element("testcase", {"classname": name, "name": f"{name}: context read", "time": "0"})
        if not c.ok:
            err = ET.SubElement(read, "error", {"type": "unreadable", "message": clean(c.error or "", oneline=True)})
            err.text = clean(c.error or "")
        n = len(cases) + 1
        total, failures, errors = total + n, failures + nfail, errors + (0 if c.ok else 1)
        body = "\n".join("    " + ET.tostring(x, encoding="unicode") for x in [read, *cases])  # bodies kept verbatim
        suites.append(f'  <testsuite name="{xml_text(name)}" tests="{n}" failures="{nfail}" errors="{0 if c.ok else 1}" '
                      f'skipped="0" time="0" timestamp="{xml_text(timestamp)}">\n{body}\n  </testsuite>')
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuites name="probectl fleet scan" tests="{total}" failures="{failures}" errors="{errors}" time="0">',
           *suites, "</testsuites>"]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- GitHub


def with_context(step: str, context: str) -> str:
    """A next step's kubectl command aimed at its context (the user's current context may
    be another cluster of the fleet); other text as it is."""
    import shlex

    if step.startswith("kubectl ") and "--context" not in step:
        return f"kubectl --context {shlex.quote(context)} " + step[len("kubectl "):]
    return step


def render_github(fleet: FleetReport) -> str:
    """An error annotation per context that could not be read, then one per group of
    findings named by its context (GitHub shows 10 errors and 10 warnings a step: the
    worst first over the whole fleet), a notice for the rest and the fleet's counts."""
    lines = []
    for c in fleet.unreadable:
        lines.append(f"::error title={gh_prop(f'probectl: context {c.name} could not be read')}::{gh_data(c.error or '')}")
    # the worst first; within a severity, the contexts take turns (each one's biggest group,
    # then each one's second...): ten annotations name as many clusters in trouble as they can
    groups = []
    for sev in (Severity.CRITICAL, Severity.WARNING):
        ranked = []
        for order, c in enumerate(fleet.read):
            mine = [g for g in c.report.groups if g.severity is sev]
            ranked += [(i, order, c.name, g) for i, g in enumerate(mine)]
        groups += [(name, g) for _, _, name, g in sorted(ranked, key=lambda x: (x[0], x[1]))]
    shown = {Severity.CRITICAL: 0, Severity.WARNING: 0}
    hidden = 0
    budget = r.GITHUB_ANNOTATIONS - len(fleet.unreadable)  # the unreadable contexts' errors count too
    for ctx, g in groups:
        limit = budget if g.severity is Severity.CRITICAL else r.GITHUB_ANNOTATIONS
        if shown[g.severity] >= limit:
            hidden += 1
            continue
        shown[g.severity] += 1
        kind = "error" if g.severity is Severity.CRITICAL else "warning"
        pods = f"{g.count} pods" if g.count > 1 else (g.first_pod or r._pods_text(g))
        title = (f"[{ctx}] {g.cause}: {g.namespace}/{g.owner or 'pod'} ({pods})"
                 + (f" container {g.container}" if g.container else ""))
        msg = f"Context {ctx}: " + truncate(g.example.summary, 900)
        if g.crash:
            msg += f" Crash line ({g.crash.kind}): {truncate(g.crash.line, 300)}"
        if g.example.next_steps:
            msg += f" Next: {with_context(g.example.next_steps[0], ctx)}"
        lines.append(f"::{kind} title={gh_prop(title)}::{gh_data(msg)}")
    if hidden:
        lines.append(f"::notice title=probectl::{gh_data(f'{hidden} more groups of findings; see the job summary or -o json')}")
    lines.append(f"::notice title=probectl fleet scan::{gh_data(fleet_counts(fleet))}")
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[..., str]] = {"markdown": render_markdown, "junit": render_junit, "github": render_github}
