"""The crash signatures: what names a root cause, what starts a runtime's crash report.

Tables only, and the two classifiers that read them (stdlib only, no I/O). Every entry
names the runtime or library source its text comes from. `probectl.core.crash` chooses
the telling line with them; `probectl.core.loglines` reads the lines they are matched on.
"""

from __future__ import annotations

import re

KINDS: tuple[str, ...] = (
    "python-exception", "java-exception", "go-panic", "node-exception", "rust-panic",
    "dotnet-exception", "ruby-exception", "java-out-of-memory", "node-out-of-memory",
    "go-out-of-memory", "connection-refused", "connection-timeout", "dns-lookup-failed",
    "tls-error", "address-in-use", "permission-denied", "read-only-filesystem",
    "file-not-found", "missing-environment-variable", "config-invalid", "exec-format-error",
    "error-line",
)

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

_ERROR_NEEDLES = ("error", "fatal", "panic", "exception", "fail", "cannot", "can't", "could",
                  "unable to", "refused", "denied", "unreachable", "not found", "no such", "invalid",
                  "abort", "segmentation fault", "core dumped", "timed out", "timeout", "crash", "missing")
_ERROR_WORDS = re.compile(  # searched in the lower-cased line
    r"\b(?:error|fatal|panic|exception|fail(?:ed|ure|s)?|cannot|can't|could ?not|couldn't"
    r"|unable to|refused|denied|unreachable|not found|no such|invalid|abort(?:ed|ing)?"
    r"|segmentation fault|core dumped|timed out|timeout|crash(?:ed)?|missing)\b")


def _root_kind(text: str) -> str | None:
    low = text.lower()
    if not any(map(low.__contains__, _ALL_PHRASES)):
        return None
    for kind, phrases, pattern in _ROOT_CAUSES:
        if any(map(low.__contains__, phrases)) and (pattern is None or pattern.search(text)):
            return kind
    return None

_ROOT_KINDS = frozenset(k for k, _, _ in _ROOT_CAUSES)


def _reads_as_error(text: str) -> bool:
    low = text.lower()
    return any(map(low.__contains__, _ERROR_NEEDLES)) and bool(_ERROR_WORDS.search(low))
