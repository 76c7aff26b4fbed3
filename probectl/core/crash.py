"""Find the line that says why a container's process died, and classify it.

Pure and table-driven (stdlib only: no I/O, clock or environment). `find(text, source)`
reads a log tail or a termination message and returns a `Crash` (kind, line, source) or
None when nothing reads as an error.

How the telling line is chosen, in order:

1. Runtime crash reports (`_RUNTIME` below, plus CPython tracebacks): the last one wins.
   Exceptions chain (Python "During handling ..." / "The above exception ...", Java
   "Caused by:", .NET " ---> ", Node "[cause]:", Go "panic: ... [recovered]" + tab-indented
   "panic:"); the primary line is the last of its chain: the final Python exception (the
   one that killed the process), the deepest Java/.NET/Node/Ruby cause, the newest Go
   panic. If the primary has no root-cause kind but another line of the chain has one,
   the one nearest the root wins: Python and Go from the oldest, the others from the
   deepest cause.
   A fatal-level log record *after* the report that names a root cause overrides it.
2. Otherwise the last line that names a root cause (`_ROOT_CAUSES`), e.g. Go's
   `log.Fatal(err)` printing "dial tcp ...: connection refused" with no level.
3. Otherwise the last line that reads as an error: `error-line`.

Before any of this, a framework's own failure report (Spring Boot's "Description:" ...
"Action:") or an error report listing its causes (anyhow/eyre "Caused by:" / "0: ...")
found after the last runtime report wins: its deepest line naming a root cause, else its
first (the description), else the innermost cause.

Lines that only echo the outcome (`_ECHO`: "exit status 1", "Shutting down", "Worker failed
to boot.", "see https://...", npm/bundler/s6/supervisord trailers) are chosen only when
nothing else reads as an error; a chain whose final exception is such an echo gives way to
the chain before it; a summary line ("[1] bootstrap checks failed") gives way to its first
item. Prefixes added by collectors (`_PREFIX`: kubectl --timestamps/--prefix, compose,
Heroku, plain date-time stamps) are ignored for matching and kept in LINE.

Lines logged at warn/info/debug level never count. JSON and logfmt records are judged
from their level field and their msg/message/error/err text; LINE is the whole record.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

KINDS: tuple[str, ...] = (
    "python-exception", "java-exception", "go-panic", "node-exception", "rust-panic",
    "dotnet-exception", "ruby-exception", "java-out-of-memory", "node-out-of-memory",
    "go-out-of-memory", "connection-refused", "connection-timeout", "dns-lookup-failed",
    "tls-error", "address-in-use", "permission-denied", "read-only-filesystem",
    "file-not-found", "missing-environment-variable", "config-invalid", "exec-format-error",
    "error-line",
)
SOURCES = ("termination-message", "previous-logs", "logs")
MAX_CHARS = 64 * 1024  # the work is bounded: the last 64 KiB ...
MAX_LINES = 400        # ... and the last 400 lines (the kubelet keeps 2048 bytes / 80 lines)
MAX_LINE = 300
ECHO_CHARS = 400


@dataclass(frozen=True)
class Crash:
    kind: str
    line: str    # verbatim but sanitised, one line, at most 300 characters
    source: str  # "termination-message" | "previous-logs" | "logs"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "line": self.line, "source": self.source}


# Root causes, first match wins, so the more specific come first (a DNS lookup that timed
# out is a DNS failure; nginx "[emerg] ... (98: Address already in use)" is address-in-use).
# Entry: (kind, phrases, pattern). Phrases are lower-case substrings of the lower-cased
# line: alone, any of them matches; with a pattern, they only pre-select the lines the
# pattern is searched in (which keeps 64 KiB tails cheap).
_ROOT_CAUSES: tuple[tuple[str, tuple[str, ...], re.Pattern | None], ...] = (
    # glibc strerror(ENOEXEC) "Exec format error"; runc: "exec /app/server: exec format error".
    ("exec-format-error", ("exec format error",), None),
    # Hand-written checks ("environment variable X is not set / must be set / is required",
    # "missing required environment variables"); caarlos0/env `required environment variable
    # "X" is not set`; kelseyhightower/envconfig "required key X missing value"; Spring
    # PropertyPlaceholderHelper "Could not resolve placeholder 'X' in value ..."; Ruby 3.4
    # "in 'ENV.fetch': key not found"; bash `set -u` "X: unbound variable"; dash "X: parameter not set".
    ("missing-environment-variable", ("environment variable", "env var", "env_var", "envvar"), re.compile(
        r"\benv(?:ironment)?[ _]?var(?:iable)?s?\b(?:\s+\S+){0,3}?\s+(?:is not set|not set|must be set"
        r"|is required|are required|is missing|missing|not defined|is empty|undefined)\b"
        r"|\bmissing (?:required )?env(?:ironment)?[ _]?var(?:iable)?s?\b", re.IGNORECASE)),
    ("missing-environment-variable", ("required key ",), re.compile(r"\brequired key \S+ missing value\b")),
    ("missing-environment-variable", ("could not resolve placeholder '", "in 'env.fetch': key not found",
                                      ": unbound variable", ": parameter not set"), None),
    # glibc gai_strerror "Name or service not known" (EAI_NONAME), "Temporary failure in name
    # resolution" (EAI_AGAIN); musl gai_strerror "Name does not resolve"; Go "no such host",
    # "server misbehaving", net.DNSError "lookup NAME on SERVER: ..."; Node "getaddrinfo
    # ENOTFOUND db"; java.net.UnknownHostException; nginx "host not found in upstream"; libpq.
    ("dns-lookup-failed", (
        "no such host", "name or service not known", "name does not resolve", "server misbehaving",
        "temporary failure in name resolution", "getaddrinfo enotfound", "getaddrinfo eai_again",
        "unknownhostexception", "host not found in upstream", "could not translate host name"), None),
    ("dns-lookup-failed", ("lookup ",), re.compile(r"\blookup \S+ on \S+: ")),
    # Go crypto/x509 and crypto/tls prefix errors "x509: " / "tls: " (case matters: "TLS: on"
    # is not one); CPython ssl "[SSL: CERTIFICATE_VERIFY_FAILED]"; Java SSLHandshakeException,
    # "PKIX path building failed"; Node certificate error codes; OpenSSL texts; .NET SslStream.
    ("tls-error", ("x509: ", "tls: "), re.compile(r"\bx509: |\btls: (?!true\b|false\b)")),
    ("tls-error", (
        "certificate_verify_failed", "sslcertverificationerror", "ssl.sslerror", "sslhandshakeexception",
        "pkix path building failed", "certificate has expired", "unable to get local issuer certificate",
        "self signed certificate", "self-signed certificate", "unable_to_verify_leaf_signature",
        "self_signed_cert_in_chain", "cert_has_expired", "err_tls_cert_altname_invalid",
        "remote certificate is invalid"), None),
    # strerror(ECONNREFUSED) "Connection refused" (Go "connect: connection refused"); Node ECONNREFUSED;
    # CPython's OSError subclass ConnectionRefusedError (asyncio says "[Errno 111] Connect call
    # failed"); Rust io::Error Display "... (os error 111)".
    ("connection-refused", ("connection refused", "econnrefused", "connectionrefusederror", "(os error 111)"), None),
    # strerror(ETIMEDOUT) "Connection timed out" (macOS "Operation timed out"); Go net errTimeout
    # "i/o timeout"; Node ETIMEDOUT; java.net.SocketTimeoutException; requests/httpx ConnectTimeout.
    ("connection-timeout", ("connection timed out", "connect timed out", "etimedout", "i/o timeout",
                            "sockettimeoutexception", "connecttimeout", "operation timed out"), None),
    # strerror(EADDRINUSE) "Address already in use"; Node "listen EADDRINUSE"; Spring Boot
    # PortInUseFailureAnalyzer "Web server failed to start. Port 8080 was already in use."
    ("address-in-use", ("address already in use", "eaddrinuse", "(os error 98)"), None),
    ("address-in-use", ("already in use",), re.compile(r"\bport \d+ (?:is|was) already in use", re.IGNORECASE)),
    # strerror(EROFS) "Read-only file system".
    ("read-only-filesystem", ("read-only file system",), None),
    # strerror(EACCES) "Permission denied"; Node EACCES; java.nio.file.AccessDeniedException.
    # Before file-not-found: Java reports EACCES as FileNotFoundException "(Permission denied)".
    ("permission-denied", ("permission denied", "eacces", "accessdeniedexception", "(os error 13)"), None),
    # strerror(ENOENT) "No such file or directory"; Node ENOENT; Java FileNotFoundException,
    # NoSuchFileException; .NET DirectoryNotFoundException; Go os/exec and runc `exec: "app":
    # executable file not found in $PATH`.
    ("file-not-found", ("no such file or directory", "enoent", "filenotfoundexception", "nosuchfileexception",
                        "directorynotfoundexception", "executable file not found in $path", "(os error 2)"), None),
    # go-yaml "yaml: line 3: mapping values are not allowed in this context", "yaml: unmarshal
    # errors"; Go encoding/json "json: cannot unmarshal", "invalid character 'x' looking for
    # beginning of value", "unexpected end of JSON input"; BurntSushi/toml "toml: line N";
    # sigs.k8s.io/yaml "error converting YAML to JSON"; PyYAML yaml.scanner.ScannerError; Python
    # json.JSONDecodeError; V8 JSON.parse "... in JSON at position N"; Spring Boot "Failed to bind
    # properties under"; nginx ngx_conf_log_error ends [emerg] messages with " in FILE:LINE".
    ("config-invalid", ("yaml: ", "json: cannot unmarshal", "invalid character '", "toml: line "),
     re.compile(r"\byaml: (?:line \d+|unmarshal errors)|\bjson: cannot unmarshal"
                r"|\binvalid character '.{1,6}' (?:looking for|after|in)|\btoml: line \d+")),
    ("config-invalid", ("error converting yaml to json", "unexpected end of json input", "jsondecodeerror",
                        "mapping values are not allowed", "failed to bind properties under"), None),
    ("config-invalid", ("yaml.", " in json at position ", "invalid config"), re.compile(
        r"\byaml\.(?:scanner|parser|constructor|composer)\.\w+Error| in JSON at position \d+"
        r"|\binvalid config(?:uration)?\b", re.IGNORECASE)),
    ("config-invalid", ("[emerg]",), re.compile(r" in /[^\s:]+:\d+\s*$")),
)
_ALL_PHRASES = tuple(p for _, phrases, _ in _ROOT_CAUSES for p in phrases)

# Runtime crash reports: (family, kind, pattern matched at the line start, context).
# First match wins. Context: "anywhere" = searched, not matched at the start;
# "java-frame" / "js-frame" = the next non-blank line is such a
# stack frame; "node" = a JS frame follows, or a caret block precedes, or it is an
# "Uncaught"/UnhandledPromiseRejection line.
_RUNTIME: tuple[tuple[str, str, re.Pattern, str | None], ...] = tuple(
    (family, kind, re.compile(pattern), context) for family, kind, pattern, context in (
        # HotSpot universe.cpp messages: "Java heap space", "GC overhead limit exceeded",
        # "Metaspace", "Requested array size exceeds VM limit"; any prefix ("Exception in
        # thread", "Caused by: ", -XX:+ExitOnOutOfMemoryError's "Terminating due to ").
        ("java", "java-out-of-memory", r"java\.lang\.OutOfMemoryError\b", "anywhere"),
        # Node OOMErrorHandler "FATAL ERROR: %s %s"; V8 heap.cc FatalProcessOutOfMemory(
        # "Reached heap limit" / "Ineffective mark-compacts near heap limit"), older
        # heap-allocator "CALL_AND_RETRY_LAST"; then "Allocation failed - JavaScript heap
        # out of memory".
        ("node", "node-out-of-memory",
         r"FATAL ERROR: (?:Reached heap limit|CALL_AND_RETRY_LAST|Ineffective mark-compacts"
         r"|.*JavaScript heap out of memory)", None),
        # Go runtime/mem_linux.go sysMap: throw("runtime: out of memory"); mheap.grow prints
        # "runtime: out of memory: cannot allocate N-byte block" then throw("out of memory").
        ("go", "go-out-of-memory", r"fatal error: (?:runtime: )?out of memory\b", None),
        # Go runtime/panic.go printpanics: "panic: " + value (+ " [recovered]", Go 1.25
        # " [recovered, repanicked]"), later panics tab-indented; throw(): "fatal error: ".
        ("go", "go-panic", r"\s*panic: |fatal error: ", None),
        # Rust library/std/src/panicking.rs default_hook: >= 1.73 "thread '{name}' panicked
        # at {location}:\n{msg}" (recent releases add the thread id, seen with 1.95:
        # "thread 'main' (11590) panicked at"); before 1.73:
        # "thread '{name}' panicked at '{msg}', {location}".
        ("rust", "rust-panic", r"thread '[^']*'(?: \(\d+\))? panicked at ", None),
        # .NET (Core 3.0+) "Unhandled exception. " (older "Unhandled Exception: ");
        # Exception.ToString() puts inner exceptions on lines starting InnerExceptionPrefix " ---> ".
        ("dotnet", "dotnet-exception",
         r"Unhandled [Ee]xception[.:] |\s*---> [\w.`]+(?:Exception|Error)\b", None),
        # OpenJDK ThreadGroup.uncaughtException: 'Exception in thread "main" ' + printStackTrace;
        # Throwable.printEnclosedStackTrace: CAUSE_CAPTION "Caused by: ", "\tat ", "\t... n more".
        ("java", "java-exception", r'Exception in thread "[^"]*" |\s*Caused by: ', None),
        ("java", "java-exception",
         r"[a-z][\w$]*(?:\.[\w$]+)*\.[A-Z][\w$]*(?:Exception|Error|Throwable)\b(?::|$)", "java-frame"),
        # Ruby eval_error.c print_errinfo: "FILE:LINE:in 'METHOD': MESSAGE (CLASS)" (first
        # message line), backtrace "\tfrom ..."; Ruby 3.4 quotes 'Foo#bar', older `bar'
        # (Feature #16495); an empty RuntimeError prints "unhandled exception".
        ("ruby", "ruby-exception",
         r"[^\s:]+:\d+:in [`'][^`']*': (?:.* \([A-Z]\w*(?:::[A-Z]\w*)*\)|unhandled exception)$", None),
        # A .NET exception written by a logger: "System.X: msg" followed by "   at ..." frames.
        ("dotnet", "dotnet-exception", r"[A-Z]\w*(?:\.\w+)+Exception\b(?::|$)", "js-frame"),
        # Node: Error.prototype.stack "TypeError: msg" + "    at ..." frames, printed after
        # the source line and caret; [cause] (Node 16.9+ util.inspect); unhandled rejections
        # (lib/internal/process/promises.js): Node 15-18 "[UnhandledPromiseRejection: This
        # error originated ...] {", Node 20+ "UnhandledPromiseRejection: This error ...".
        ("node", "node-exception", r"\s*\[cause\]: ", None),
        ("node", "node-exception",
         r"(?:Uncaught )?\[?(?:[A-Z][\w$]*)?(?:Error|Exception|Rejection)\b(?: \[[\w-]+\])?(?::|\]|$)",
         "node"),
    )
)
# Chain members that continue the chain before them (a deeper cause or a newer panic).
_CONTINUES = re.compile(r"\s*Caused by: |\s*---> |\s*\[cause\]: |\s+panic: ")
_ROOTWARD_FROM_OLDEST = frozenset({"python", "go"})

# CPython Lib/traceback.py: "Traceback (most recent call last):", frames '  File "x", line
# N, in f', and the chain separators _cause_message / _context_message.
_PY_TB = re.compile(r"^(?:\w+:\s+)?Traceback \(most recent call last\):\s*$")  # uvicorn: "ERROR:    Traceback"
_PY_FRAME = re.compile(r'\s*File "[^"]*", line \d+')
_PY_SEP = re.compile(r"(?:During handling of the above exception, another exception occurred"
                     r"|The above exception was the direct cause of the following exception):\s*$")
_PY_EXC = re.compile(r"[A-Za-z_][\w.]*(?::(?: |$)|(?:Error|Exception|Interrupt|Exit)$)")
# os.environ[...] raising KeyError: the frame is os.py's __getitem__ ("<frozen os>" from 3.11).
_PY_ENVIRON = re.compile(r'\bos\.environ\b|\benviron\[|File "(?:[^"]*[/\\]os\.py|<frozen os>)", '
                         r"line \d+, in __getitem__")

_JAVA_FRAME = re.compile(r"\s*at [\w$.<>/\[\]-]+\(")
_JS_FRAME = re.compile(r"\s+at \S")
_CARET = re.compile(r"\s*\^+\s*$")
# Lines between the members of one chain: blank, indented (frames, code, "... n more"),
# the Python headers and separators, Go's "[signal ...]"/"goroutine N [...]:", Rust notes.
_GLUE = re.compile(r"\s|$|at [\w$.<>/\[\]-]+\(|\.\.\. \d+ (?:more|common frames omitted)|Traceback \(most|During handling of the above|The above exception was"
                   r"|\[signal |goroutine \d+ \[|stack backtrace:|note: |[{}]\s*$")
# Never the telling line: stack frames and runtime furniture.
_FRAME = re.compile(
    r"\s+at \S|\s*at [\w$.<>/\[\]-]+\(|\s*\.\.\. \d+ (?:more|common frames omitted)|\s+from \S+:\d+:in |\s*File \"[^\"]*\", line \d"
    r"|\s*[~^]+\s*$|\s*\d+: 0x[0-9a-f]+ |\s+\d+: \S|goroutine \d+ \[|created by |node:internal/"
    r"|\s+(?:code|errno|syscall|address|port|path|dest|hostname): ")

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
_ERROR_NEEDLES = ("error", "fatal", "panic", "exception", "fail", "cannot", "can't", "could",
                  "unable to", "refused", "denied", "unreachable", "not found", "no such", "invalid",
                  "abort", "segmentation fault", "core dumped", "timed out", "timeout", "crash", "missing")
_ERROR_WORDS = re.compile(  # searched in the lower-cased line
    r"\b(?:error|fatal|panic|exception|fail(?:ed|ure|s)?|cannot|can't|could ?not|couldn't"
    r"|unable to|refused|denied|unreachable|not found|no such|invalid|abort(?:ed|ing)?"
    r"|segmentation fault|core dumped|timed out|timeout|crash(?:ed)?|missing)\b")

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


def _root_kind(text: str) -> str | None:
    low = text.lower()
    if not any(map(low.__contains__, _ALL_PHRASES)):
        return None
    for kind, phrases, pattern in _ROOT_CAUSES:
        if any(map(low.__contains__, phrases)) and (pattern is None or pattern.search(text)):
            return kind
    return None


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


_ROOT_KINDS = frozenset(k for k, _, _ in _ROOT_CAUSES)


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


def _reads_as_error(text: str) -> bool:
    low = text.lower()
    return any(map(low.__contains__, _ERROR_NEEDLES)) and bool(_ERROR_WORDS.search(low))


def _caret(m: re.Match) -> str:
    ch = ord(m.group())
    if ch < 0x20:
        return "^" + chr(ch + 0x40)  # ESC -> ^[, NUL -> ^@
    return "^?" if ch == 0x7F else f"\\x{ch:02x}"


def _clean(line: str) -> str:
    s = _CONTROLS.sub(_caret, line.replace("\t", " "))
    s = _INVISIBLE.sub(lambda m: f"<U+{ord(m.group()):04X}>", s).strip()
    return s if len(s) <= MAX_LINE else s[: MAX_LINE - 1] + "…"
