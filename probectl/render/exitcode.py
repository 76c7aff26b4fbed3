"""`probectl exitcode` as text for a terminal."""

from __future__ import annotations

from probectl.core.exitcodes import RESTART_POLICIES, ExitCodeInfo
from probectl.render.console import Style, box_for, to_text

_CATEGORY_STYLE = {
    "success": "green", "kill": "red", "crash": "red", "stop": "yellow", "not-found": "red",
    "not-executable": "red", "runtime": "red", "error": "red", "signal": "yellow", "unknown": "yellow",
}


def _heading(info: ExitCodeInfo):
    from rich.text import Text

    t = Text()
    t.append(f"Exit code {info.exit_code}", style="bold")
    if info.hex:
        t.append(f" ({info.hex})")
    t.append(": ")
    t.append(info.meaning, style="bold " + _CATEGORY_STYLE.get(info.category, ""))
    if info.signal:
        t.append(f"  [signal {info.signal_number}, {info.signal}]")
    return t


def render_detail(infos: list[ExitCodeInfo], style: Style) -> str:
    from rich.table import Table
    from rich.text import Text

    parts = []
    for i, info in enumerate(infos):
        if i:
            parts.append(Text(""))
        parts.append(_heading(info))
        parts.append(Text(info.description))
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        bullet = "•" if style.unicode else "-"
        grid.add_row("In Kubernetes", Text("\n".join(f"{bullet} {k}" for k in info.kubernetes), overflow="ellipsis"))
        grid.add_row(
            "restartPolicy",
            Text("\n".join(f"{p + ':':<10} {info.restart_policy[p]}" for p in RESTART_POLICIES), overflow="ellipsis"),
        )
        grid.add_row("Next steps", Text("\n".join(f"$ {s}" for s in info.next_steps), overflow="ellipsis"))
        parts.append(grid)
        room = style.width - len("restartPolicy") - 2 - 2  # the value column, after "$ "
        if any(len(word) > room for step in info.next_steps for word in step.split()):
            parts.append(Text("A command cut with … is whole in -o json (or a wider terminal).", style="dim"))
    return to_text(parts, style)


def render_list(infos: list[ExitCodeInfo], style: Style) -> str:
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box_for(style), title="Known exit codes", title_justify="left", expand=False)
    table.add_column("Code", justify="right", no_wrap=True)
    table.add_column("Signal", no_wrap=True)
    table.add_column("Meaning")
    table.add_column("Kind", no_wrap=True)
    for info in infos:
        code = str(info.exit_code) + (f" ({info.hex})" if info.hex else "")
        table.add_row(
            code,
            info.signal or "",
            Text(info.meaning, style=_CATEGORY_STYLE.get(info.category, "")),
            info.category,
        )
    return to_text([table], style)
