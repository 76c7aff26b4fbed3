"""`probectl completion SHELL`: print the shell completion script.

The scripts call probectl back on each TAB (typer's dynamic completion), so they always
know the current commands and options. The files in completions/ are this output,
committed; tests/test_completion.py fails when they drift.
"""

from __future__ import annotations

from enum import Enum

import typer

from probectl.cli import options


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def script(shell: str, prog_name: str = "probectl") -> str:
    from typer._completion_shared import (
        get_completion_script,  # private API: typer is pinned (>=0.26,<0.29)
    )

    return get_completion_script(prog_name=prog_name, complete_var=options.COMPLETE_VAR, shell=shell).rstrip("\n") + "\n"


def completion(shell: Shell = typer.Argument(..., help="bash, zsh or fish.")) -> None:
    """Print the completion script for SHELL (see docs/conventions.md: Shell completion)."""
    options.emit(script(shell.value))


def register(app: typer.Typer) -> None:
    app.command("completion")(completion)


def kubectl_complete(app: typer.Typer, argv: list[str]) -> str:
    """kubectl's plugin completion: kubectl runs `kubectl_complete-probectl __complete ARGS...
    INCOMPLETE` and reads one candidate a line, then `:DIRECTIVE` (Cobra's protocol)."""
    import typer as _typer
    from typer._click.shell_completion import _resolve_context, _resolve_incomplete  # typer pinned

    args = list(argv)
    if args and args[0] in ("__complete", "__completeNoDesc"):
        describe = args[0] == "__complete"
        args = args[1:]
    else:
        describe = True
    incomplete = args.pop() if args else ""
    command = _typer.main.get_command(app)
    try:
        ctx = _resolve_context(command, {}, "kubectl probectl", args)
        obj, incomplete = _resolve_incomplete(ctx, args, incomplete)
        items = obj.shell_complete(ctx, incomplete)
    except Exception:  # noqa: BLE001 - a TAB press must never print a traceback
        items = []
    lines = [item.value + (f"\t{item.help}" if describe and item.help else "") for item in items]
    lines.append(":4")  # ShellCompDirectiveNoFileComp
    return "\n".join(lines) + "\n"
