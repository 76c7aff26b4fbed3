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
    from typer._completion_shared import get_completion_script  # private: typer pinned to 0.29.x

    from probectl.cli.main import COMPLETE_VAR

    return get_completion_script(prog_name=prog_name, complete_var=COMPLETE_VAR, shell=shell).rstrip("\n") + "\n"


def completion(shell: Shell = typer.Argument(..., help="bash, zsh or fish.")) -> None:
    """Print the completion script for SHELL (see README: Shell completion)."""
    options.emit(script(shell.value))


def register(app: typer.Typer) -> None:
    app.command("completion")(completion)
