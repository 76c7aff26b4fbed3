"""The probectl command: typer wiring and the one table from errors to exit codes.

Nothing heavy is imported here: every typer run (and every TAB of shell completion)
imports this module and the command modules it registers.
"""

from __future__ import annotations

import os
import sys

import typer

from probectl import __version__
from probectl.cli.options import COMPLETE_VAR
from probectl.errors import ExitStatus, ProbectlError

app = typer.Typer(
    name="probectl",
    help=(
        "Tells you why a Kubernetes pod's containers restart, crash or get no traffic.\n\n"
        "Try it with no cluster: probectl demo"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"probectl {__version__}\n")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """probectl: why do a Kubernetes pod's containers restart, crash or get no traffic?"""


def _register() -> None:
    from probectl.cli import auth, completion, demo, exitcode, exporter, lint, mcp, scan, watch, why

    for module in (why, scan, watch, exporter, lint, demo, exitcode, auth, mcp, completion):
        module.register(app)


_register()


def _error(message: str) -> None:
    from probectl.errors import error_line

    sys.stderr.write(error_line(message) + "\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None, prog_name: str = "probectl") -> int:
    """Run probectl with `argv`; returns the exit status instead of exiting."""
    from typer._click import exceptions as click_exc  # vendored click (typer >= 0.26)

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if COMPLETE_VAR in os.environ:  # a TAB press: register typer's shell completion classes
        from typer._completion_classes import completion_init

        completion_init()
    command = typer.main.get_command(app)
    try:
        result = command.main(
            args=args, prog_name=prog_name, complete_var=COMPLETE_VAR, standalone_mode=False
        )
        return int(result) if isinstance(result, int) else ExitStatus.OK
    except ProbectlError as e:
        if debug:
            raise
        _error(e.message)
        return e.status
    except click_exc.NoArgsIsHelpError as e:
        sys.stdout.write(e.format_message().rstrip("\n") + "\n")
        return ExitStatus.OK
    except click_exc.UsageError as e:
        if debug:
            raise
        hint = ""
        if e.ctx is not None:
            hint = f" (see '{e.ctx.command_path} --help')"
        _error(e.format_message().rstrip(".") + hint)
        return ExitStatus.USAGE
    except click_exc.ClickException as e:
        _error(e.format_message())
        return e.exit_code
    except typer.Exit as e:
        return e.exit_code
    except (typer.Abort, KeyboardInterrupt):
        sys.stderr.write("\n")
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        # `probectl ... | head`: the reader went away; end quietly.
        _silence_stdout()
        return ExitStatus.OK
    except Exception as e:  # noqa: BLE001 - last line of defence: one line, no traceback
        if debug:
            raise
        _error(f"internal error: {type(e).__name__}: {e} (run with --debug for the traceback)")
        return ExitStatus.USAGE


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _exit(status: int) -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    except (OSError, ValueError):
        pass
    sys.exit(status)


def run() -> None:
    """Console script `probectl`."""
    _exit(main(prog_name="probectl"))


def run_plugin() -> None:
    """Console script `kubectl-probectl`: kubectl runs it as `kubectl probectl`."""
    _exit(main(prog_name="kubectl probectl"))


def run_kubectl_complete() -> None:
    """Console script `kubectl_complete-probectl`: completion for `kubectl probectl <TAB>`."""
    from probectl.cli.completion import kubectl_complete

    sys.stdout.write(kubectl_complete(app, sys.argv[1:]))
    _exit(0)
