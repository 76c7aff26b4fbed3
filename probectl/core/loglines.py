"""Reading a log tail line by line: bounds, collectors' prefixes, levels, records, echoes.

Pure (stdlib only, no I/O). `lines` of a tail are cut to the last 64 KiB and 400 lines,
ANSI escapes removed; `_record` gives a line's level and the text to classify (JSON,
logfmt, plain); `_is_echo` tells a line that only repeats the outcome; `_clean` makes the
chosen line safe to print. Used by `probectl.core.crash`.
"""

from __future__ import annotations

import json
import re
from collections import deque

from probectl.core.crashkinds import _reads_as_error

MAX_CHARS = 64 * 1024  # the work is bounded: the last 64 KiB ...
MAX_LINES = 400        # ... and the last 400 lines (the kubelet keeps 2048 bytes / 80 lines)
MAX_LINE = 300
ECHO_CHARS = 400

# Levels. JSON/logfmt fields; plain text: an upper-case level word in the first 64
# characters, nginx "[error]", logrus "ERRO[0000]", klog "E0102 15:04:05.000000".
_LEVELS = {word: level for level, words in (
    ("fatal", "fatal critical crit panic dpanic emerg emergency alert fata pani f"),
    ("error", "error err erro severe e"), ("warn", "warn warning w"),
    ("info", "info debug trace notice verbose debu trac i"),
) for word in words.split()}
_PLAIN_LEVEL = re.compile(
    r"\b(TRACE|DEBUG|INFO|NOTICE|WARN(?:ING)?|ERROR|ERR|FATAL|CRITICAL|CRIT|PANIC|SEVERE|EMERG|ALERT)\b"
    r"|\[(trace|debug|info|notice|warn|warning|error|crit|critical|alert|emerg|fatal)\]"
    r"|^(TRAC|DEBU|INFO|WARN|ERRO|FATA|PANI)\[\d|^([IWEF])\d{4} \d\d:\d\d:\d\d")
_LOGFMT_LEVEL = re.compile(r'(?:^|\s)(?:level|lvl)="?(\w+)')
_LOGFMT_TEXT = re.compile(r'(?:^|\s)(?:msg|message|error|err)=("(?:[^"\\]|\\.)*"|\S*)')
# JSON record fields, matched case-insensitively: levels (zap, logrus, bunyan/pino, ECS
# "log.level", Python "levelname", .NET console "LogLevel", Serilog compact "@l"), messages
# ("@m"/"@mt": Serilog) and the fields that carry a whole stack trace or exception report
# (logstash-logback "stack_trace", zap "stacktrace", Python "exc_info", .NET "Exception",
# Serilog "@x", ECS "error.stack_trace", log4j2 JSON "thrown").
_LEVEL_KEYS = ("level", "lvl", "severity", "log.level", "levelname", "loglevel", "@l")
_TEXT_KEYS = ("msg", "message", "@m", "@mt", "error", "err", "error.message", "exception", "@x", "reason")
_STACK_KEYS = ("stack_trace", "stacktrace", "exc_info", "exception", "@x", "error.stack_trace", "stack", "thrown", "err")

# Prefixes put in front of every line by whatever collected the output: ignored for
# matching (up to three, in any order), kept in LINE. kubectl logs --timestamps (RFC 3339)
# and --prefix ("[pod/NAME/CONTAINER] "); a plain "2024-10-14 13:39:57 " or Go log's
# "2024/05/01 10:00:00 " stamp; Heroku-style "app[web.1]: "; docker compose / foreman
# "svc-1  | " (foreman with "14:32:25 " first); concurrently's "[1] ".
_PREFIX = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d) "
    r"|\d{4}[-/]\d\d[-/]\d\d \d\d:\d\d:\d\d(?:[.,]\d+)? "
    r"|\[pod/[^\]/\s]+/[^\]\s]+\] "
    r"|[\w.-]+\[[\w.-]+\]: "
    r"|(?:\d\d:\d\d:\d\d )?[\w.-]+ *\| ?"
    r"|\[\d{1,3}\] ")
# CSI (ESC [ ... final), OSC (ESC ] ... BEL/ST, e.g. OSC 8 hyperlinks), charset
# designations (ESC ( B) and other two-byte escapes: removed entirely.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)"
                   r"|[()*+][0-~]|[@-Z\\-_])")
# Made visible, like probectl/render/safe.py (core may not import render): C0 controls,
# DEL, C1; bidi overrides/isolates/marks, zero-width characters, line/paragraph separators.
_CONTROLS = re.compile("[\x00-\x1f\x7f\x80-\x9f]")
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _unprefixed(line: str) -> str:
    for _ in range(3):
        m = _PREFIX.match(line)
        if m is None:
            break
        line = line[m.end():]
    return line

# stern's default format, "POD CONTAINER message": the same two DNS-1123 names (the pod's
# with a dash) in front of every line.
_STERN = re.compile(r"([a-z0-9](?:[-a-z0-9.]*[a-z0-9])?-[a-z0-9]+ [a-z0-9](?:[-a-z0-9]*[a-z0-9])? )")


def _without_common_prefix(lines: list[str]) -> list[str]:
    """Lines without a prefix that every non-blank line carries (stern's pod and container)."""
    body = [x for x in lines if x.strip()]
    if len(body) < 2 or not (m := _STERN.match(body[0])) or m.group(1).split()[1] in _LEVELS:
        return lines  # "my-app error ..." is an app name and a level, not a pod and a container
    prefix = m.group(1)
    if not all(x.startswith(prefix) for x in body):
        return lines
    return [x[len(prefix):] if x.startswith(prefix) else x for x in lines]


def _lines(text: object) -> list[str]:
    if text is None:
        return []
    if isinstance(text, (bytes, bytearray, memoryview)):
        s = bytes(text[-MAX_CHARS:]).decode("utf-8", "replace")
    elif isinstance(text, str):
        s = text[-MAX_CHARS:]
    else:
        try:
            parts = deque(text, maxlen=MAX_LINES)
        except TypeError:
            parts = deque([str(text)])
        s = "\n".join(p.decode("utf-8", "replace") if isinstance(p, (bytes, bytearray)) else str(p)
                      for p in parts)[-MAX_CHARS:]
    s = _ANSI.sub("", s).replace("\r\n", "\n").replace("\r", "\n")
    lines = s.split("\n")[-MAX_LINES:]
    lines[0] = lines[0].lstrip("\ufffd")  # a tail cut inside a UTF-8 sequence
    return lines


def _level(value: object, numeric: bool = False) -> str | None:
    if isinstance(value, str):
        return _LEVELS.get(value.strip().lower())
    if numeric and isinstance(value, (int, float)) and not isinstance(value, bool):
        # pino / bunyan: 60 fatal, 50 error, 40 warn, 30 info, 20 debug, 10 trace.
        return "fatal" if value >= 60 else "error" if value >= 50 else "warn" if value >= 40 else "info"
    return None


def _field_text(value: object) -> str:
    if isinstance(value, dict):  # e.g. pino's err: {"type", "message", "stack"}; log4j2's thrown: {"name", "message"}
        return " ".join(str(value[k]) for k in ("type", "name", "message", "msg", "error") if value.get(k))
    return value if isinstance(value, str) else json.dumps(value)


def _stack_text(value: object) -> str:
    """A multi-line stack trace or exception report held in one JSON field, else ""."""
    if isinstance(value, dict):
        value = next((value[k] for k in ("stack", "extendedStackTrace", "stack_trace", "stacktrace")
                      if isinstance(value.get(k), str)), None)
    return value if isinstance(value, str) and "\n" in value else ""


def _record(line: str, stack: list | None = None) -> tuple[str | None, str]:
    """(level, text to classify) of a log line: JSON record, logfmt, or plain text. A JSON
    record's stack trace field, if any, is appended to `stack`."""
    s = line.strip()
    if s.startswith("{") and s.endswith("}"):
        try:
            obj = json.loads(s)
        except (ValueError, RecursionError):
            obj = None
        if isinstance(obj, dict):
            low = {k.lower(): v for k, v in obj.items() if isinstance(k, str)}
            level = next((lv for k in _LEVEL_KEYS if (lv := _level(low.get(k), numeric=k == "level"))), None)
            text = " ".join(_field_text(low[k]) for k in _TEXT_KEYS if low.get(k) is not None)
            if stack is not None:
                stack += [t for k in _STACK_KEYS if (t := _stack_text(low.get(k)))][:1]
            return level, text or s
    if ("level=" in line or "lvl=" in line) and len(line) <= 4096 and (m := _LOGFMT_LEVEL.search(line)):
        text = " ".join(v.strip('"').replace('\\"', '"') for v in _LOGFMT_TEXT.findall(line))
        return _LEVELS.get(m.group(1).lower()), text or line
    m = _PLAIN_LEVEL.search(line, 0, 64)
    return (_LEVELS.get(next(g for g in m.groups() if g).lower()) if m else None), line

# Lines that repeat the outcome without saying why (issue 22): the process's end restated,
# giving up or shutting down, pointers elsewhere ("see https://...", "check the logs",
# "--verbose"), package-manager and init-system trailers (npm, bundler, rake, supervisord,
# s6-overlay). Judged only on lines that name no root cause.
_ECHO = re.compile(
    r"\bexit(?:ed)?(?: with)?(?: exit)? (?:status|code)\b[ :=(]*-?\d+|\bexited \d+\b|\bnot expected\)"
    r"|\bshutting down\b|\bexiting\b|\bshut down\b|\bstopping the container\b|\bgave up\b"
    r"|\bentered fatal state\b|\baborted!|\bdid not exit normally\b|\bunable to start service\b"
    r"|\bfailed to properly bring\b|\berror starting applicationcontext\b|\bhaltserver\b"
    r"|\bfailed to load command\b|\bcommand failed\s*$|\bfailed at the \S+ \S+ script\b"
    r"|\bsee https?://|\bsee (?:the )?(?:logs?|docs?|documentation)\b|\bcheck (?:the|your) logs?\b"
    r"|\bfor more (?:details|information|info)\b|--verbose\b|\ba complete log of this run\b"
    r"|\bnot a problem with (?:npm|yarn)\b|\badditional logging output above\b"
    r"|\bto display the conditions report\b|\(see full trace by running\b"
    r"|^npm (?:err!|error)(?: (?:code|errno|path|command|signal|syscall)\b.*|\s*$)")
# The outcome as a summary, echo only when no ": detail" follows ("Failed to start server in
# (production) mode", "Worker failed to boot.", "Application run failed").
_OUTCOME = re.compile(r"\b(?:run|startup|start-up|boot) failed\b|\bfailed to (?:boot|start)\b"
                      r"|\bcould ?n[o']t start\b|\bunable to start\b", re.IGNORECASE)

# Level words and package-manager prefixes, set aside when judging what else a line says.
_LEVEL_WORDS = re.compile(r"^npm (?:err!|error)|\b(?:fatal|error|err|erro|crit(?:ical)?|panic|emerg|severe)\b[:!]?",
                          re.IGNORECASE)


def _is_echo(text: str) -> bool:
    """Does the line only repeat the outcome? It has an echo phrase, and once the echo
    phrases and level words are set aside nothing in it reads as an error ("FATAL: missing
    API_KEY, exiting" still says why; "Couldn't start Elasticsearch. Exiting." does not)."""
    text = text[:ECHO_CHARS]  # echoes are short: a 64 KiB line is judged by its start
    low = text.lower()
    m = _OUTCOME.search(text)
    outcome = bool(m) and ": " not in text[m.end():]
    if not (outcome or _ECHO.search(low)):
        return False
    rest = _LEVEL_WORDS.sub(" ", _OUTCOME.sub(" ", _ECHO.sub(" ", low)))
    return not _reads_as_error(rest)


def _caret(m: re.Match) -> str:
    ch = ord(m.group())
    if ch < 0x20:
        return "^" + chr(ch + 0x40)  # ESC -> ^[, NUL -> ^@
    return "^?" if ch == 0x7F else f"\\x{ch:02x}"


def _clean(line: str) -> str:
    s = _CONTROLS.sub(_caret, line.replace("\t", " "))
    s = _INVISIBLE.sub(lambda m: f"<U+{ord(m.group()):04X}>", s).strip()
    return s if len(s) <= MAX_LINE else s[: MAX_LINE - 1] + "…"
