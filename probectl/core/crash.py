"""Find the line that says why a container's process died, and classify it.

Pure and table-driven (stdlib only: no I/O, clock or environment). `find(text, source)`
reads a log tail or a termination message and returns a `Crash` (kind, line, source) or
None when nothing reads as an error.

How the telling line is chosen, in order:

1. Runtime crash reports (`_RUNTIME` in crashkinds.py, plus CPython tracebacks): the last
   one wins. Exceptions chain (Python "During handling ..." / "The above exception ...",
   Java "Caused by:", .NET " ---> ", Node "[cause]:", Go "panic: ... [recovered]" +
   tab-indented "panic:"); the primary line is the last of its chain: the final Python
   exception (the one that killed the process), the deepest Java/.NET/Node/Ruby cause, the
   newest Go panic. If the primary has no root-cause kind but another line of the chain
   has one, the one nearest the root wins: Python and Go from the oldest, the others from
   the deepest cause.
   A fatal-level log record *after* the report that names a root cause overrides it.
2. Otherwise the last line that names a root cause (`_ROOT_CAUSES` in crashkinds.py), e.g.
   Go's `log.Fatal(err)` printing "dial tcp ...: connection refused" with no level.
3. Otherwise the last line that reads as an error: `error-line`.

Before any of this, a framework's own failure report (Spring Boot's "Description:" ...
"Action:") or an error report listing its causes (anyhow/eyre "Caused by:" / "0: ...")
found after the last runtime report wins: its deepest line naming a root cause, else its
first (the description), else the innermost cause.

Lines that only echo the outcome (`_ECHO` in loglines.py: "exit status 1", "Shutting
down", "Worker failed to boot.", "see https://...", npm/bundler/s6/supervisord trailers)
are chosen only when nothing else reads as an error; a chain whose final exception is such
an echo gives way to the chain before it; a summary line ("[1] bootstrap checks failed")
gives way to its first item. Prefixes added by collectors (`_PREFIX` in loglines.py:
kubectl --timestamps/--prefix, compose, Heroku, plain date-time stamps) are ignored for
matching and kept in LINE.

Lines logged at warn/info/debug level never count. JSON and logfmt records are judged
from their level field and their msg/message/error/err text; LINE is the whole record.

The module reads top to bottom: `find`, then the runtime reports (`_anchors`, `_pick`),
then the framework reports (`_report`), then the line-by-line fallback (`_scan`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from probectl.core.crashkinds import (
    _CARET,
    _CONTINUES,
    _FRAME,
    _GLUE,
    _JAVA_FRAME,
    _JS_FRAME,
    _PY_ENVIRON,
    _PY_EXC,
    _PY_FRAME,
    _PY_SEP,
    _PY_TB,
    _ROOT_CAUSES,  # noqa: F401  (read by tests/test_crash.py)
    _ROOT_KINDS,
    _ROOTWARD_FROM_OLDEST,
    _RUNTIME,
    KINDS,
    _reads_as_error,
    _root_kind,
)
from probectl.core.loglines import (
    ECHO_CHARS,
    MAX_CHARS,
    MAX_LINE,
    MAX_LINES,
    _clean,
    _is_echo,
    _lines,
    _record,
    _unprefixed,
    _without_common_prefix,
)

__all__ = ["ECHO_CHARS", "KINDS", "MAX_CHARS", "MAX_LINE", "MAX_LINES", "SOURCES", "Crash", "find"]
SOURCES = ("termination-message", "previous-logs", "logs")


@dataclass(frozen=True)
class Crash:
    kind: str
    line: str    # verbatim but sanitised, one line, at most 300 characters
    source: str  # "termination-message" | "previous-logs" | "logs"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "line": self.line, "source": self.source}


@dataclass(frozen=True)
class _Anchor:
    idx: int
    family: str
    kind: str
    text: str    # for matching
    raw: str     # for LINE
    cause: bool  # continues the chain before it
    root: str | None


def find(text: str | bytes | Iterable[str] | None, source: str, _nested: bool = False) -> Crash | None:
    """The line that says why the process died, classified; None if nothing reads as an error."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    raw = _lines(text)
    lines = _without_common_prefix([_unprefixed(line) for line in raw])
    anchors = _anchors(lines, raw)
    report = _report(lines, raw)
    if report and (not anchors or report[0] > anchors[-1].idx):
        hit = _scan(lines, raw, start=report[1], fatal_only=True, nested=_nested) or report[2:]
    elif anchors:
        hit = _scan(lines, raw, start=anchors[-1].idx + 1, fatal_only=True, nested=_nested) or _pick(anchors, lines)
    else:
        hit = _scan(lines, raw, nested=_nested)
    if hit is None:
        return None
    kind, line = hit
    line = _clean(line)
    return Crash(kind, line, source) if line else None


def _next(lines: list[str], i: int, step: int) -> str:
    """The nearest non-blank line after (step 1) or before (step -1) line i."""
    while 0 <= (i := i + step) < len(lines):
        if lines[i].strip():
            return lines[i]
    return ""


def _context_ok(context: str | None, lines: list[str], i: int) -> bool:
    if context in (None, "anywhere"):
        return True
    after = _next(lines, i, 1)
    if context == "java-frame":
        return bool(_JAVA_FRAME.match(after))
    if _JS_FRAME.match(after):
        return True
    if context == "node":  # a message of a few lines ("Error: Command failed: ...\n<stderr>"), then frames
        j, seen = i, 0
        while seen < 3 and 0 <= (j := j + 1) < len(lines):
            if lines[j].strip():
                seen += 1
                if _JS_FRAME.match(lines[j]):
                    return True
    return context == "node" and (
        bool(_CARET.match(_next(lines, i, -1)))
        or lines[i].startswith(("Uncaught ", "[UnhandledPromiseRejection", "UnhandledPromiseRejection")))


def _runtime(lines: list[str], raw: list[str], i: int, in_traceback: bool) -> _Anchor | None:
    line = lines[i]
    for family, kind, pattern, context in _RUNTIME:
        if in_traceback and context == "node":
            continue  # CPython >= 3.11 underlines code with carets too
        hit = pattern.search(line) if context == "anywhere" else pattern.match(line)
        if not (hit and _context_ok(context, lines, i)):
            continue
        text, out = line.strip(), raw[i]
        if family == "rust" and "panicked at '" not in line and i + 1 < len(lines):
            text = f"{text} {lines[i + 1].strip()}"  # >= 1.73: the message is on the next line
            out = f"{out.rstrip()} {lines[i + 1].strip()}"
        cause = family == "ruby" or bool(_CONTINUES.match(line))
        return _Anchor(i, family, kind, text, out, cause, _root_kind(text))
    return None


def _anchors(lines: list[str], raw: list[str]) -> list[_Anchor]:
    found: list[_Anchor] = []
    tb = -1        # where the Python traceback being read began, -1 outside one
    last_sep = -1  # the last Python chain separator
    frame = -1     # the last Python frame line
    for i, line in enumerate(lines):
        if _PY_TB.search(line) or _PY_FRAME.match(line):  # a frame: the header was cut off
            tb = frame = i
            continue
        if tb >= 0 and (not line.strip() or line[0] in " \t" or (frame == i - 1 and not _PY_EXC.match(line))):
            continue  # source lines of the traceback (a prefix may have eaten their indent)
        if _PY_SEP.match(line):
            last_sep = i
            continue
        anchor = _runtime(lines, raw, i, tb >= 0)
        if anchor is None and tb >= 0 and _PY_EXC.match(line):
            prev = next((a for a in reversed(found) if a.family == "python"), None)
            root = _root_kind(line)
            if root is None and line.startswith("KeyError") and any(
                    _PY_ENVIRON.search(f) for f in lines[tb:i]):
                root = "missing-environment-variable"
            cause = prev is not None and last_sep > prev.idx
            anchor = _Anchor(i, "python", "python-exception", line.strip(), raw[i], cause, root)
        tb = -1
        if anchor is not None:
            found.append(anchor)
    return found


def _pick(anchors: list[_Anchor], lines: list[str]) -> tuple[str, str]:
    """The telling line of the last chain (see the module docstring). A last chain that
    only echoes the outcome (gunicorn's HaltServer "Worker failed to boot." after the
    worker's own traceback) gives way to the chain before it."""
    chains: list[list[_Anchor]] = []
    for a in anchors:
        if chains:
            b = chains[-1][-1]
            if a.cause and a.family == b.family and all(_GLUE.match(x) for x in lines[b.idx + 1:a.idx]):
                chains[-1].append(a)
                continue
        chains.append([a])
    picks = []
    for chain in chains:
        primary = chain[-1]
        rest = chain[:-1] if primary.family in _ROOTWARD_FROM_OLDEST else chain[-2::-1]
        root = next((a for a in [primary, *rest] if a.root), None)
        picks.append((root.root, root.raw) if root else (primary.kind, primary.raw))
        if root is None and _is_echo(primary.text):
            picks[-1] = None
    return next((p for p in reversed(picks) if p), None) or picks[-1] or (chains[-1][-1].kind, chains[-1][-1].raw)

# A count or list announced, its items on the following lines: Elasticsearch "ERROR: [1]
# bootstrap checks failed" then "[1]: max virtual memory areas ... is too low".
_SUMMARY = re.compile(r"\[?\b\d+\]? (?:\w+ )?(?:checks?|errors?|problems?|issues?)\b.{0,20}\b(?:failed|occurred|found)\b"
                      r"|(?:errors?|failures?|problems?)(?: \w+){0,3}:\s*$", re.IGNORECASE)
# A framework's own failure report: Spring Boot's FailureAnalysisReporter prints
# "APPLICATION FAILED TO START", then "Description:" (the cause) and "Action:" (the advice).
_REPORT_START = re.compile(r"\s*Description:\s*$")
_REPORT_END = re.compile(r"\s*Action:\s*$")
# An error report whose causes are listed below a header, innermost last: anyhow's Debug
# output ("Error: msg", blank, "Caused by:", "    0: ...", "    1: ...") and eyre's
# ("Error: ", "   0: ...", "   1: ...").
_CAUSES_HEADER = re.compile(r"\s*(?:Error|Caused by):\s*$")
# Erlang/Elixir exit reasons nest one per line, innermost last: "    ** (EXIT) shutdown: failed
# to start child: X", "        ** (EXIT) no process: ..." (Elixir's Exception.format_exit).
_EXIT_CHAIN = re.compile(r"\s*\*\* \(EXIT\) ")


def _report(lines: list[str], raw: list[str]) -> tuple[int, int, str, str] | None:
    """(start, end, kind, line) of the last framework failure report or list of causes."""
    best = None
    for i, line in enumerate(lines):
        if "Description:" in line and _REPORT_START.match(line):
            end = next((j for j in range(i + 1, len(lines)) if _REPORT_END.match(lines[j])), len(lines))
            body = [j for j in range(i + 1, end) if lines[j].strip()]
        elif "** (EXIT) " in line and _EXIT_CHAIN.match(line) and not (i and _EXIT_CHAIN.match(lines[i - 1])):
            j = i
            while j + 1 < len(lines) and _EXIT_CHAIN.match(lines[j + 1]):
                j += 1
            body, end = [j], j + 1
        elif ("Error:" in line or "Caused by:" in line) and _CAUSES_HEADER.match(line):
            body = []
            for j in range(i + 1, len(lines)):
                if not lines[j].strip() or lines[j][0] not in " \t":
                    break
                body.append(j)
            body = body[-1:]  # the innermost cause
            end = body[-1] + 1 if body else i
        else:
            continue
        if body:
            pick = next((j for j in reversed(body) if _root_kind(lines[j])), body[0])  # the deepest cause
            best = (i, end, _root_kind(lines[pick]) or "error-line", raw[pick])
    return best


def _scan(lines: list[str], raw: list[str], start: int = 0,
          fatal_only: bool = False, nested: bool = False) -> tuple[str, str] | None:
    """The last line from `start` naming a root cause, else the last fatal-level line (a
    fatal log is the program's own reason to exit: error lines after it are its shutdown),
    else the last one reading as an error."""
    fallback = fatal = echo = None  # the last error line, the last fatal-level one, the last echo
    budget = 3
    for i in range(len(lines) - 1, start - 1, -1):
        line = lines[i]
        if not line.strip() or _FRAME.match(line):
            continue
        stack: list[str] | None = None if nested else []
        level, text = _record(line, stack)
        if level in ("warn", "info") or (fatal_only and level != "fatal"):
            continue
        inner = None
        if stack and budget:  # the last few records' traces only: the work stays bounded
            budget -= 1
            inner = _inner(stack[0])
        if inner and inner.kind in _ROOT_KINDS:
            return inner.kind, raw[i]  # the innermost cause of the record's own stack trace
        if root := _root_kind(text):
            return root, raw[i]
        if fatal_only or (fallback is not None and (fatal is not None or level != "fatal")):
            continue  # past the last error line only a fatal-level one can still matter
        if inner:
            hit = (inner.kind, raw[i])  # e.g. a java-exception carried by a JSON record
        elif level or _reads_as_error(text):
            if _is_echo(text):
                echo = echo or ("error-line", raw[i])
                continue
            hit = ("error-line", raw[_item(lines, i) if _SUMMARY.search(text[:ECHO_CHARS]) else _original(lines, i)])
        else:
            continue
        fallback = fallback or hit
        if level == "fatal" and fatal is None:
            fatal = hit
    return fatal or fallback or echo


def _original(lines: list[str], i: int) -> int:
    """A line repeated as the tail of a fuller line shortly before it (Envoy and nginx print
    the error to their log and again, bare, to stderr): the fuller line, which says where."""
    tail = lines[i].strip()
    if len(tail) < 20 or len(tail) > ECHO_CHARS:
        return i
    for j in range(i - 1, max(-1, i - 20), -1):
        if len(lines[j]) > len(tail) and lines[j].rstrip().endswith(tail):
            return j
    return i


def _inner(text: str) -> Crash | None:
    """The telling line of a stack trace held in one JSON field (not itself searched for
    further JSON records' stacks: one level)."""
    found = find(text[-MAX_CHARS // 4:], "logs", _nested=True)
    return found if found is not None and found.kind != "error-line" else None


def _item(lines: list[str], i: int) -> int:
    """The first item after a summary line, if it is one (not a frame, not info/warn)."""
    j = i + 1
    while j < len(lines) and not lines[j].strip():
        j += 1
    if j >= len(lines) or _FRAME.match(lines[j]) or _record(lines[j])[0] in ("info", "warn") \
            or _is_echo(lines[j]):
        return i
    return j
