"""`probectl exitcode CODE...`: decode exit codes offline."""

from __future__ import annotations

import typer

from probectl.cli import options
from probectl.core import exitcodes
from probectl.errors import UsageError

HELP = """Decode container exit codes offline: 137, 143, 139, -1073741819, 0xC0000005, SIGKILL, kill.

Says what the code means, the signal, what usually causes it in Kubernetes, what each
restartPolicy does with it and what to check next.
"""


def exitcode(
    codes: list[str] | None = typer.Argument(None, metavar="CODE...", help="Exit codes or signal names."),
    list_all: bool = typer.Option(False, "--list", help="List every code probectl knows."),
    output: options.Output = options.OUTPUT,
    no_color: bool = options.NO_COLOR,
    debug: bool = options.DEBUG,
) -> None:
    if list_all:
        if codes:
            raise UsageError("give exit codes or --list, not both")
        infos = exitcodes.known_codes()
    else:
        if not codes:
            raise UsageError("give at least one exit code, e.g. 'probectl exitcode 137', or --list")
        try:
            infos = [exitcodes.decode(exitcodes.parse(c)) for c in codes]
        except exitcodes.ExitCodeError as e:
            raise UsageError(str(e)) from None
    if output is not options.Output.table:
        from probectl.render.data import dump

        docs = [i.to_dict() for i in infos]
        doc = docs[0] if len(docs) == 1 and not list_all else {"apiVersion": "probectl/v1", "kind": "List", "items": docs}
        options.emit(dump(doc, output.value))
        return
    from probectl.render import exitcode as render

    style = options.style(no_color)
    options.emit(render.render_list(infos, style) if list_all else render.render_detail(infos, style))


def register(app: typer.Typer) -> None:
    app.command("exitcode", help=HELP, context_settings={"ignore_unknown_options": True})(exitcode)
