"""Errors the user sees, each with the exit status it maps to (see cli/main.py)."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """probectl's documented exit codes (docs/conventions.md: "Exit codes")."""

    OK = 0
    FINDINGS = 1
    USAGE = 2
    CLUSTER = 3
    INTERRUPTED = 130


class ProbectlError(Exception):
    """An error with a one-line message for stderr."""

    status = ExitStatus.USAGE

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UsageError(ProbectlError):
    """Bad flags or arguments."""


class InputError(ProbectlError):
    """Bad local input: a file that cannot be read or parsed, a pod not in the input."""


class ClusterError(ProbectlError):
    """The cluster could not be reached or answered with an error."""

    status = ExitStatus.CLUSTER


def error_line(message: str) -> str:
    """The line probectl writes on stderr for an error (without its newline); `probectl mcp`
    answers a failed tool call with the same line. Cluster text in it is neutralised."""
    from probectl.render.safe import clean

    return f"probectl: error: {clean(message, oneline=True)}"
