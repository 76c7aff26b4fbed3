"""`probectl demo`: `why` on a bundled snapshot of failing pods; no cluster needed."""

from __future__ import annotations

import typer

from probectl.cli import options

HELP = """Run 'probectl why' on a bundled example: a small snapshot of failing pods, no cluster needed.

With no POD, diagnoses the first example; --list shows them all.
"""

DEFAULT = "web-7f9c6d8b5-x2lqz"


def snapshot():
    from importlib.resources import files

    from probectl.sources.files import load_data

    return load_data(files("probectl.examples").joinpath("demo.json").read_bytes(), "demo.json")


def demo(
    pod: str | None = typer.Argument(None, metavar="POD", help="Which example pod (see --list)."),
    list_pods: bool = typer.Option(False, "--list", help="List the example pods and their verdicts."),
    output: options.Output = options.OUTPUT,
    no_color: bool = options.NO_COLOR,
    debug: bool = options.DEBUG,
) -> None:
    from probectl.cli.why import diagnose_snapshot, show

    snap = snapshot()
    if list_pods:
        from probectl.core.diagnose import diagnose, snapshot_time

        now = snapshot_time(snap.pods, snap.events)
        rows = [(d.pod.name, d.pod.namespace, d.cause.value) for d in (diagnose(p, snap.events, now) for p in snap.pods)]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [f"{n:<{widths[0]}}  {ns:<{widths[1]}}  {c:<{widths[2]}}  probectl demo {n}" for n, ns, c in rows]
        if max(len(line) for line in lines) > options.style(no_color).width:  # narrow: the command once, below
            lines = [f"{n:<{widths[0]}}  {ns:<{widths[1]}}  {c}" for n, ns, c in rows] + ["", "Show one in full: probectl demo NAME"]
        options.emit("\n".join(lines) + "\n")
        return
    show(diagnose_snapshot(snap, pod or DEFAULT, None), output, no_color)
    if output is options.Output.table and not pod:
        options.emit("More examples: probectl demo --list\n")


def register(app: typer.Typer) -> None:
    app.command("demo", help=HELP)(demo)
