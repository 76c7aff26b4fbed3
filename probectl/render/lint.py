"""`probectl lint` output: linter lines (the default), table, SARIF (code scanning), GitHub
annotations, JUnit."""

from __future__ import annotations

from probectl import __version__
from probectl.core.lint import RULES, LintFinding, LintReport
from probectl.core.model import Severity
from probectl.render.ci import gh_data, gh_prop, repo_path, uri, xml_text
from probectl.render.console import Style
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


def _wrap_words(pieces: list[tuple[str, object]], style: Style, first: str, rest: str, keep: int = 0) -> list[str]:
    """Words of (text, paint) pieces packed into lines of the style's width, broken only at
    spaces (a word longer than a line stays whole on its own line); paint per word. The
    first `keep` words stay on the first line whatever its length."""
    words = [(w, key) for text, key in pieces for w in text.split(" ") if w]
    width = max(40, style.line_width)
    lines: list[str] = []
    line, used = first, len(first)
    started = False
    for i, (w, key) in enumerate(words):
        if started and i >= keep and used + 1 + len(w) > width:
            lines.append(line)
            line, used, started = rest, len(rest), False
        if started:
            line += " "
            used += 1
        line += _paint(w, key, style) if key else w
        used += len(w)
        started = True
    lines.append(line)
    return lines


def render_text(report: LintReport, style: Style) -> str:
    """One finding per entry as compilers and linters write them, the fix indented under it,
    a summary line last; wrapped at spaces at the terminal's width or COLUMNS (continuation
    lines indented, so every finding's first line still starts with FILE:LINE:COL:), one
    line per finding in a pipe or CI log (Style.line_width):

        k8s/web.yaml:17:11: critical PL004 liveness-failure-threshold-1: livenessProbe.failureThreshold is 1. (shop/Deployment/web, container api)
          fix: Set livenessProbe.failureThreshold: 3.

    Findings from files come in file and line order, then the observed ones. Every piece of
    text that came from a manifest or the cluster is neutralised (render/safe.clean)."""
    lines = []
    for f in _ordered(report):
        context = [f"{f.namespace}/{f.object}" if f.namespace else f.object] if f.file else []
        if f.container:
            context.append(f"container {f.container}")
        if f.pods:
            context.append(_plural(f.pods, "pod"))
        head = [(clean(where(f), oneline=True) + ":", "bold"), (f.severity.value, f.severity), (f.rule, "bold"),
                (f"{RULES[f.rule].name}: {clean(f.message, oneline=True)}", None)]
        if context:
            head.append(("(" + clean(", ".join(context), oneline=True) + ")", None))
        # FILE:LINE:COL: severity RULE name: always on one line
        lines += _wrap_words(head, style, "", "    ", keep=4)
        lines += _wrap_words([("fix: " + clean(f.fix, oneline=True), "green")], style, "  ", "       ")
    for w in report.warnings:
        lines += _wrap_words([("! " + clean(w, oneline=True), Severity.WARNING)], style, "", "  ")
    counts = {sev: sum(1 for f in report.findings if f.severity is sev) for sev in (Severity.CRITICAL, Severity.WARNING)}
    found = (f"{_plural(len(report.findings), 'finding')} ("
             + ", ".join(f"{n} {sev.value}" if sev is Severity.CRITICAL else _plural(n, sev.value)
                         for sev, n in counts.items() if n) + ")") if report.findings else "no findings"
    lines += _wrap_words([(f"{_plural(report.objects, 'workload')} linted, {_plural(report.pods_observed, 'pod')} observed: "
                           f"{found}.", "bold")], style, "", "  ")
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


def render_rules_markdown() -> str:
    """Every rule as a Markdown section (docs/lint.md's catalog is this text, kept in step
    by a test): id and name as the heading, severity, what it is judged from, what it
    catches and where it does not apply."""
    import textwrap

    def para(text: str) -> list[str]:
        return textwrap.wrap(text, width=90, break_long_words=False, break_on_hyphens=False) + [""]

    out = []
    for r in RULES.values():
        judged = "the manifest" if r.kind == "static" else "what the cluster did (pods, their status and events)"
        out += [f"### {r.id} {r.name}", "", f"**{r.severity.value}**, judged from {judged}.", ""]
        out += para(r.summary) + para("Not reported: " + r.exceptions)
    return "\n".join(out)

def _ordered(report: LintReport) -> list[LintFinding]:
    """Findings from files by file, line and column, then the observed ones (as found)."""
    from_files = sorted((f for f in report.findings if f.file), key=lambda f: (f.file, f.line, f.column, f.rule))
    return from_files + [f for f in report.findings if not f.file]


def render_table(report: LintReport, style: Style) -> str:
    """The findings as plain lines that read in an 80-column terminal and in CI logs, as
    `probectl scan`'s table does: a section per severity; for each finding one row (rule,
    name, object), then its place and message, then the fix, wrapped at spaces: a name,
    path or field is never broken. An object too long for the row gets a line of its own.

        Critical: 6 findings
        Rule   Name                          Object
        --------------------------------------------------------------
        PL004  liveness-failure-threshold-1  shop/Deployment/web, container api
          k8s/web.yaml:26:13: livenessProbe.failureThreshold is 1.
          fix: Set livenessProbe.failureThreshold: 3.
    """
    import textwrap

    width = max(40, style.width)
    findings = _ordered(report)
    name_w = max([len("Name")] + [len(RULES[f.rule].name) for f in findings])
    rule_w = max([len("Rule")] + [len(f.rule) for f in findings])

    def wrap(text: str) -> list[str]:
        return textwrap.wrap(text, width=width, initial_indent="  ", subsequent_indent="    ",
                             break_long_words=False, break_on_hyphens=False) or ["  "]

    lines: list[str] = []
    for sev in (Severity.CRITICAL, Severity.WARNING):
        mine = [f for f in findings if f.severity is sev]
        if not mine:
            continue
        lines.append(_paint(f"{sev.value.capitalize()}: {_plural(len(mine), 'finding')}", "bold", style))
        head = f"{'Rule'.ljust(rule_w)}  {'Name'.ljust(name_w)}  Object"
        lines.append(_paint(head, "bold", style))
        lines.append(("─" if style.unicode else "-") * min(width, max(len(head), 60)))
        for f in mine:
            obj = [f"{f.namespace}/{f.object}" if f.namespace else f.object]
            if f.container:
                obj.append(f"container {f.container}")
            if f.pods:
                obj.append(_plural(f.pods, "pod"))
            obj_text = clean(", ".join(obj), oneline=True)
            row = f"{f.rule.ljust(rule_w)}  {RULES[f.rule].name.ljust(name_w)}  "
            if len(row) + len(obj_text) <= width:
                lines.append(_paint(f.rule, sev, style) + row[len(f.rule):] + obj_text)
            else:  # no room on the row: the object on its own line, whole
                lines.append(_paint(f.rule, sev, style) + row[len(f.rule):].rstrip())
                lines += wrap(obj_text)
            at = f"{clean(where(f), oneline=True)}: " if f.file else ""
            lines += wrap(at + clean(f.message, oneline=True))
            lines += [_paint(x, "green", style) for x in wrap("fix: " + clean(f.fix, oneline=True))]
        lines.append("")
    if not findings:
        lines += [_paint("No findings.", "green", style), ""]
    lines.append(f"{_plural(report.objects, 'workload')} linted, {_plural(report.pods_observed, 'pod')} observed, "
                 f"{_plural(len(findings), 'finding')}.")
    for w in report.warnings:
        lines.append(_paint("! " + clean(w, oneline=True), Severity.WARNING, style))
    return "\n".join(lines) + "\n"


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
