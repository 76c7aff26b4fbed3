"""`probectl why KIND/NAME` for a terminal, and as GitHub workflow commands.

Cluster text goes through `clean` and is rendered as `Text` (never markup); lines wrap
at word boundaries to the terminal's width (80 columns read fine).
"""

from __future__ import annotations

from probectl.core.model import Severity, WorkloadDiagnosis
from probectl.render.console import Style, to_text
from probectl.render.safe import clean, truncate
from probectl.render.why import SEVERITY_STYLE

EVENT_ROWS = 5


def _replicas(d: WorkloadDiagnosis) -> str:
    r = d.replicas
    if d.kind == "Job":
        parts = [f"{r.get('active', 0)} active", f"{r.get('succeeded', 0)} succeeded", f"{r.get('failed', 0)} failed"]
        if r.get("completions") is not None:
            parts.append(f"{r['completions']} to complete")
        if r.get("backoffLimit") is not None:
            parts.append(f"backoffLimit {r['backoffLimit']}")
        return ", ".join(parts)
    keys = ("desired", "current", "updated", "ready", "available")
    return ", ".join(f"{r[k]} {k}" for k in keys if k in r)


def _revision(d: WorkloadDiagnosis) -> str:
    cur = d.revision.get("current") or {}
    if cur.get("revision"):
        text = f"{cur['revision']} (ReplicaSet {cur['name']})"
    elif cur.get("name"):
        text = str(cur["name"])
    elif cur.get("generation"):
        text = f"generation {cur['generation']}"
    else:
        return ""
    prev = [p for p in d.revision.get("previous") or [] if p.get("name")]
    if prev:
        p = prev[0]
        text += f"; previous {p.get('revision') or p['name']}" + (f" ({p['name']})" if p.get("revision") else "")
        if p.get("ready") is not None:
            text += f" with {p['ready']} ready"
    return text


def _item(prefix: str, body: str, style: str = ""):
    """`prefix` then `body`, wrapped at word boundaries under itself (a hanging indent)."""
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=0)
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(Text(prefix), Text(body, style=style))
    return grid


def render(d: WorkloadDiagnosis, style: Style) -> str:
    from rich.text import Text

    width = max(40, style.width)
    parts: list = []
    head = Text()
    who = f"{d.via[0]} {d.namespace}/{d.via[1]} -> {d.kind} {d.name}" if d.via else f"{d.kind} {d.namespace}/{d.name}"
    head.append(clean(who, oneline=True), style="bold")
    head.append("  rollout ")
    head.append(d.rollout, style="bold")
    parts.append(head)
    rev = _revision(d)
    if rev:
        parts.append(Text("Revision: " + clean(rev, oneline=True)))
    parts.append(Text("Replicas: " + _replicas(d)))
    parts.append(Text(""))
    verdict = Text()
    verdict.append(d.cause.value, style=SEVERITY_STYLE[d.severity])
    verdict.append(f" ({d.severity.value}, {d.confidence.value} confidence)")
    parts += [verdict, Text(clean(d.summary)), Text("")]
    if d.refused:
        parts += [Text("The API server said:", style="bold"), _item("  ", clean(truncate(d.refused, 1200))), Text("")]
    if d.groups:
        parts.append(Text("Pods of the current revision", style="bold"))
        for g in d.groups:
            line = Text("  ")
            line.append(g.cause.value, style=SEVERITY_STYLE[g.severity])
            names = ", ".join(g.pods[:3]) + (f" and {g.count - 3} more" if g.count > 3 else "")
            line.append(clean(f"  {g.count} pod{'s' if g.count != 1 else ''}: {names}", oneline=True))
            parts.append(line)
            rep = g.representative
            parts.append(_item("    ", clean(f"{rep.pod.name}: {rep.summary}", oneline=True)))
            c = next((c for c in rep.containers if c.name == rep.culprit), None)
            if c is not None and c.crash is not None:
                parts.append(Text("    " + truncate(clean(f"{c.crash.kind}: {c.crash.line}", oneline=True), width - 4)))
        parts.append(Text(""))
    if d.evidence:
        parts.append(Text("Evidence", style="bold"))
        parts += [_item("  - ", clean(truncate(e, 600), oneline=True)) for e in d.evidence]
        parts.append(Text(""))
    # the workload's other warnings (the refusal is quoted above)
    failed = [e for e in d.events if e.type == "Warning" and not (d.refused and d.refused in e.message)][-EVENT_ROWS:]
    if failed:
        parts.append(Text("Warning events", style="bold"))
        for e in failed:
            parts.append(_item("  ", clean(f"{e.kind}/{e.name} {e.reason} x{e.count}: {truncate(e.message, 300)}",
                                           oneline=True)))
        parts.append(Text(""))
    if d.next_steps:
        parts.append(Text("Next steps", style="bold"))
        parts += [_item("  $ ", clean(s, oneline=True)) for s in d.next_steps]
    for w in d.warnings:
        parts.append(Text("! " + clean(w, oneline=True), style="yellow"))
    return to_text(parts, style)


def render_github(d: WorkloadDiagnosis) -> str:
    """One annotation for the verdict (error for critical, warning, else a notice); cluster
    text escaped so it cannot start a workflow command."""
    from probectl.render.ci import gh_data, gh_prop

    kind = {Severity.CRITICAL: "error", Severity.WARNING: "warning"}.get(d.severity, "notice")
    title = f"{d.cause.value}: {d.namespace}/{d.kind}/{d.name}"
    msg = truncate(d.summary, 900)
    if d.refused:
        msg += f" The API server said: {truncate(d.refused, 600)}"
    if d.next_steps:
        msg += f" Next: {d.next_steps[0]}"
    return f"::{kind} title={gh_prop(title)}::{gh_data(msg)}\n"


def render_pod_github(d) -> str:
    """`why POD -o github`: the pod's verdict as one annotation."""
    from probectl.render.ci import gh_data, gh_prop

    kind = {Severity.CRITICAL: "error", Severity.WARNING: "warning"}.get(d.severity, "notice")
    title = f"{d.cause.value}: {d.pod.namespace}/{d.pod.name}"
    msg = truncate(d.summary, 900) + (f" Next: {d.next_steps[0]}" if d.next_steps else "")
    return f"::{kind} title={gh_prop(title)}::{gh_data(msg)}\n"
