"""Phrasing shared by the rules: clipped messages, ages, container labels, restart counts,
a restart's cause in a few words, start-error summaries. Everything here ends up in the
JSON contract byte for byte: change it only on purpose."""

from __future__ import annotations

import re

from probectl.core import exitcodes
from probectl.core import reasons as rs
from probectl.core.model import Cause, LastRestart
from probectl.core.timefmt import ago  # noqa: F401 - re-exported: the rules' phrasing

MESSAGE_LIMIT = 300
LABELS = {"init": "Init container", "sidecar": "Sidecar container", "ephemeral": "Ephemeral container"}
CRASH_SOURCE = {"termination-message": "termination message", "previous-logs": "previous instance's log", "logs": "log"}


def clip(s: str, limit: int = MESSAGE_LIMIT) -> str:
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def label(kind: str) -> str:
    """ "Container", "Init container", ...: how a container of this type is named."""
    return LABELS.get(kind, "Container")


def restarted(n: int) -> str:
    """ " and restarted 3 times" (nothing for none)."""
    if n == 0:
        return ""
    return f" and restarted {n} time{'s' if n != 1 else ''}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def pull_detail(message: str, image: str) -> str:
    """The part of a runtime's pull error that says what went wrong: `not found`,
    `pull access denied, ...`, rather than the image name three times over."""
    code = re.search(r"rpc error: code = (\w+)", message)
    tail = message
    if image:
        for marker in (f'{image}": ', f"{image}: "):
            i = tail.rfind(marker)
            if i >= 0:
                tail = tail[i + len(marker):]
                break
    if tail == message and "desc = " in tail:
        tail = tail.split("desc = ", 1)[1]
    return tail + (f" (rpc code {code.group(1)})" if code and code.group(1) not in tail else "")


def start_summary(who: str, name: str, cause: Cause, message: str) -> str:
    """The summary of a container the runtime could not start; `who` is its label."""
    msg = clip(message, 200)
    tail = f": {msg}" if msg else "."
    if cause is Cause.START_ERROR and rs.EXEC_FORMAT.search(message or ""):
        return (f"{who} {name} cannot start: exec format error, the image is built for another CPU "
                f"architecture (e.g. arm64 on amd64 nodes){tail}")
    return {
        Cause.COMMAND_NOT_FOUND: f"{who} {name} cannot start: its command was not found{tail}",
        Cause.PERMISSION_DENIED: f"{who} {name} cannot start: its command cannot be executed{tail}",
        Cause.CONFIG_ERROR: f"{who} {name} cannot be created from its spec{tail}",
    }.get(cause, f"The runtime could not start container {name}{tail}")


def short(lr: LastRestart, limit: str | None, whose: str = "its") -> str:
    """A restart's cause in a few words: "OOM-killed at its 256Mi limit"."""
    code = exitcodes.decode(lr.exit_code).short() if lr.exit_code is not None else ""
    return {
        Cause.OOM_KILLED: f"OOM-killed at {whose} {limit} limit" if limit else "OOM-killed (no memory limit)",
        Cause.LIVENESS_PROBE_FAILED: "killed by its failing liveness probe",
        Cause.STARTUP_PROBE_FAILED: "killed because its startup probe never passed",
        Cause.APP_ERROR: f"exited with code {lr.exit_code} by itself",
        Cause.CRASHED_SIGNAL: f"crashed with {lr.signal or code}",
        Cause.KILLED: f"killed with SIGKILL ({code})",
        Cause.TERMINATED: f"stopped ({code})",
        Cause.COMPLETED: "exited 0",
    }.get(lr.cause, f"{lr.cause.value} ({code})" if code else lr.cause.value)
