"""`probectl lint` output: linter lines (the default), table, SARIF (code scanning), GitHub
annotations, JUnit."""

from __future__ import annotations

from probectl import __version__
from probectl.core.lint import RULES, LintFinding, LintReport
from probectl.core.model import Severity
from probectl.render.ci import gh_data, gh_prop, repo_path, uri, xml_text
from probectl.render.console import Style, box_for, to_text
from probectl.render.safe import clean

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
STDIN = "<stdin>"

_SGR = {Severity.CRITICAL: "1;31", Severity.WARNING: "1;33", "bold": "1", "dim": "2", "green": "32"}


def _paint(text: str, key, style: Style) -> str:
    return f"\x1b[{_SGR[key]}m{text}\x1b[0m" if style.color else text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def where(f: LintFinding) -> str:
    """FILE:LINE:COL for a finding read from a file (`<stdin>` for standard input; column 1
    when only the line is known), else namespace/Kind/name (observed on the cluster)."""
    if f.file:
        return f"{f.file}:{max(1, f.line)}:{max(1, f.column)}"
    return f"{f.namespace}/{f.object}" if f.namespace else f.object


def render_text(report: LintReport, style: Style) -> str:
    """One line per finding as compilers and linters write them, the fix indented under it,
    a summary line last:

        k8s/web.yaml:17:11: critical PL004 liveness-failure-threshold-1: livenessProbe.failureThreshold is 1. (shop/Deployment/web, container api)
          fix: Set livenessProbe.failureThreshold: 3.

    Findings from files come in file and line order, then the observed ones. Every piece of
    text that came from a manifest or the cluster is neutralised (render/safe.clean)."""
    from_files = sorted((f for f in report.findings if f.file), key=lambda f: (f.file, f.line, f.column, f.rule))
    observed = [f for f in report.findings if not f.file]
    lines = []
    for f in from_files + observed:
        context = [f"{f.namespace}/{f.object}" if f.namespace else f.object] if f.file else []
        if f.container:
            context.append(f"container {f.container}")
        if f.pods:
            context.append(_plural(f.pods, "pod"))
        head = (f"{_paint(clean(where(f), oneline=True), 'bold', style)}: {_paint(f.severity.value, f.severity, style)} "
                f"{_paint(f.rule, 'bold', style)} {RULES[f.rule].name}: {clean(f.message, oneline=True)}")
        if context:
            head += " (" + clean(", ".join(context), oneline=True) + ")"
        lines += [head, "  " + _paint("fix: " + clean(f.fix, oneline=True), "green", style)]
    for w in report.warnings:
        lines.append(_paint("! " + clean(w, oneline=True), Severity.WARNING, style))
    counts = {sev: sum(1 for f in report.findings if f.severity is sev) for sev in (Severity.CRITICAL, Severity.WARNING)}
    found = (f"{_plural(len(report.findings), 'finding')} ("
             + ", ".join(f"{n} {sev.value}" if sev is Severity.CRITICAL else _plural(n, sev.value)
                         for sev, n in counts.items() if n) + ")") if report.findings else "no findings"
    lines.append(_paint(f"{_plural(report.objects, 'workload')} linted, {_plural(report.pods_observed, 'pod')} observed: "
                        f"{found}.", "bold", style))
    return "\n".join(lines) + "\n"


def render_rules(style: Style, width: int | None = None) -> str:
    """Every rule: id, name, severity, what it is judged from, what it catches and where it
    does not apply, wrapped at the terminal's width."""
    import textwrap

    width = max(60, width or style.width)
    body = textwrap.TextWrapper(width=width, initial_indent="  ", subsequent_indent="  ", break_on_hyphens=False)
    out = []
    for r in RULES.values():
        judged = "judged from the manifest" if r.kind == "static" else "judged from what the cluster did"
        out.append(f"{_paint(r.id, 'bold', style)} {r.name}  {_paint(r.severity.value, r.severity, style)}, {judged}")
        out += body.wrap(r.summary)
        out += body.wrap("Not reported: " + r.exceptions)
        out.append("")
    return "\n".join(out)


def render_table(report: LintReport, style: Style) -> str:
    from rich.table import Table
    from rich.text import Text

    from probectl.render.report import SEVERITY_STYLE

    parts: list = []
    if report.findings:
        table = Table(box=box_for(style), title="Findings", title_justify="left", expand=True)
        table.add_column("Rule", no_wrap=True)
        table.add_column("Object", overflow="fold", ratio=2)
        table.add_column("Container", overflow="fold", ratio=1)
        table.add_column("Finding and fix", overflow="fold", ratio=5)
        for f in report.findings:
            where = f"{f.namespace}/{f.object}" if f.namespace else f.object
            if f.file:
                where += f"\n{f.file}:{max(1, f.line)}:{max(1, f.column)}"
            if f.pods:
                where += f"\n{f.pods} pod{'s' if f.pods != 1 else ''}"
            text = Text(clean(f.message, oneline=True))
            text.append("\nFix: " + clean(f.fix, oneline=True), style="green")
            rule = Text(f"{f.rule}\n{RULES[f.rule].name}\n")
            rule.append(f.severity.value, style=SEVERITY_STYLE[f.severity])
            table.add_row(rule, Text(clean(where)), Text(clean(f.container or "-", oneline=True)), text)
        parts.append(table)
    else:
        parts.append(Text("No findings.", style="bold green"))
    parts.append(Text(f"{report.objects} workloads linted, {report.pods_observed} pods observed, {len(report.findings)} findings."))
    for w in report.warnings:
        parts.append(Text("! " + clean(w, oneline=True), style="yellow"))
    return to_text(parts, style)


def _region(f: LintFinding) -> dict:
    region = {"startLine": max(1, f.line)}
    if f.column:
        region["startColumn"] = f.column
    return region


def sarif_doc(report: LintReport) -> tuple[dict, int]:
    """SARIF 2.1.0 for code scanning. Only findings with a file location go in (GitHub
    rejects a whole file when any result lacks one); returns the document and how many
    findings were left out."""
    results, left_out = [], 0
    for f in report.findings:
        if not f.file or f.file == STDIN:
            left_out += 1
            continue
        results.append({
            "ruleId": f.rule,
            "level": "error" if f.severity is Severity.CRITICAL else "warning",
            "message": {"text": f"{f.object}" + (f" container {f.container}" if f.container else "") + f": {f.message} Fix: {f.fix}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(f.file)}, "region": _region(f)}}],
        })
    rules = [{"id": r.id, "name": r.name, "shortDescription": {"text": r.name.replace("-", " ")},
              "fullDescription": {"text": r.summary},
              "defaultConfiguration": {"level": "error" if r.severity is Severity.CRITICAL else "warning"},
              "properties": {"judgedFrom": r.kind}} for r in RULES.values()]
    doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "probectl", "version": __version__, "informationUri": "https://github.com/probectl/probectl",
                            "rules": rules}},
        "results": results}]}
    return doc, left_out


def render_github(report: LintReport) -> str:
    lines = []
    for f in report.findings:
        kind = "error" if f.severity is Severity.CRITICAL else "warning"
        props = []
        if f.file and f.file != STDIN:
            props += [f"file={gh_prop(repo_path(f.file))}", f"line={max(1, f.line)}"]
            if f.column:
                props.append(f"col={f.column}")
        props.append(f"title={gh_prop(f'{f.rule} {RULES[f.rule].name}: {f.object}')}")
        msg = (f"container {f.container}: " if f.container else "") + f"{f.message} Fix: {f.fix}"
        lines.append(f"::{kind} {','.join(props)}::{gh_data(msg)}")
    return "\n".join(lines) + ("\n" if lines else "")


def render_junit(report: LintReport) -> str:
    """A testsuite per file (or namespace for observed findings), a testcase per object."""
    suites: dict[str, dict[str, list]] = {}
    for f in report.findings:
        suite = f.file or f"cluster/{f.namespace or 'default'}"
        suites.setdefault(suite, {}).setdefault(f"{f.namespace}/{f.object}" if f.namespace else f.object, []).append(f)
    total = sum(len(cases) for cases in suites.values())
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuites name="probectl lint" tests="{total}" failures="{total}" errors="0" time="0">']
    for suite in sorted(suites):
        cases = suites[suite]
        out.append(f'  <testsuite name="{xml_text(suite)}" tests="{len(cases)}" failures="{len(cases)}" errors="0" skipped="0" time="0">')
        for name in sorted(cases):
            out.append(f'    <testcase classname="{xml_text(suite)}" name="{xml_text(name)}" time="0">')
            for f in cases[name]:
                at = f"{where(f)}: " if f.file else ""
                out.append(f'      <failure type="{f.rule}" message="{xml_text(f"{f.rule} {RULES[f.rule].name}: {f.message}")}">'
                           f"{xml_text(at)}{xml_text(f'container {f.container}: ' if f.container else '')}{xml_text(f.message)}"
                           f"\nFix: {xml_text(f.fix)}</failure>")
            out.append("    </testcase>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"
