"""Options shared by the commands, and how their output reaches the user."""

from __future__ import annotations

import sys
from enum import Enum

import typer

from probectl.render.console import Style

# The environment variable typer's completion scripts set when they call probectl back.
COMPLETE_VAR = "_PROBECTL_COMPLETE"


class Output(str, Enum):
    table = "table"
    json = "json"
    yaml = "yaml"


class FailOn(str, Enum):
    critical = "critical"
    warning = "warning"
    never = "never"


FAIL_ON = typer.Option(FailOn.critical, "--fail-on", case_sensitive=False,
                       help="Exit 1 when a finding is at or above this severity (never: always 0).")
OUTPUT_FILE = typer.Option(None, "--output-file", help="Write the -o format to this file; the terminal shows the table.")
REPORT = typer.Option(
    None, "--report", metavar="FORMAT=PATH",
    help="Also write this report from the same run; repeatable, PATH - for stdout. Written atomically.")
NO_STEP_SUMMARY = typer.Option(
    False, "--no-step-summary",
    help="Inside GitHub Actions, GitHub output (-o github or --report github=...) also appends the Markdown "
         "report to $GITHUB_STEP_SUMMARY: not with this flag.")
OUTPUT = typer.Option(Output.table, "-o", "--output", help="Output format.", case_sensitive=False)
NO_COLOR = typer.Option(False, "--no-color", help="No colour (also: the NO_COLOR environment variable).")
DEBUG = typer.Option(False, "--debug", help="Show Python tracebacks for errors.")
FILENAME = typer.Option(
    None,
    "-f",
    "--filename",
    help="Read kubectl JSON/YAML files or a 'kubectl cluster-info dump' directory instead of a cluster; repeatable, '-' for stdin.",
)
NAMESPACE = typer.Option(None, "-n", "--namespace", help="The namespace (default: the context's, else \"default\").")
CONTEXT = typer.Option(None, "--context", help="The kubeconfig context to use (default: the current context).")
KUBECONFIG = typer.Option(None, "--kubeconfig", help="Path to the kubeconfig file (default: KUBECONFIG, else ~/.kube/config).")
REQUEST_TIMEOUT = typer.Option(
    None, "--request-timeout", help="How long to wait for each API request: 30s, 1m, 500ms; 0 for no limit. [default: 30s]"
)


RECENT = typer.Option(
    "1h", "--recent",
    help="How long a restart counts as current trouble: older ones, with the container running and ready since "
         "(and not restarting repeatedly), are history. 30m, 2h, 1d.")


def parse_duration(text: str | None, flag: str, *, bare_seconds: bool = False, examples: str = "30m, 2h, 90s or 1d"):
    """`30m`, `2h`, `90s`, `1d` (and `90` when `bare_seconds`) -> timedelta; None for None or
    empty. The one grammar for every duration flag but kubectl's --request-timeout."""
    import re
    from datetime import timedelta

    from probectl.errors import UsageError

    if not text:
        return None
    m = re.fullmatch(r"\s*([0-9]+)\s*(s|m|h|d)" + ("?" if bare_seconds else "") + r"\s*", text)
    if not m or int(m.group(1)) == 0:
        raise UsageError(f"{flag} {text!r}: use a duration such as {examples}")
    return timedelta(seconds=int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}[m.group(2)])


def style(no_color: bool) -> Style:
    return Style.detect(sys.stdout, no_color=no_color)


def file_style() -> Style:
    """A report written to a file: no colour or box drawing whatever the terminal; the width
    of a CI log (COLUMNS overrides)."""
    return Style.detect(None, no_color=True)


def emit(text: str) -> None:
    """Write a finished rendering to stdout in one piece."""
    sys.stdout.write(text)
    sys.stdout.flush()
