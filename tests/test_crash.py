"""probectl.core.crash: the line that says why the process died.

The texts are the runtimes' own output: captured from CPython 3.11, OpenJDK 17, Node.js 20
and rustc 1.95 where noted, otherwise built from the printing code they cite.
"""

from __future__ import annotations

import time

import pytest

from probectl.core import crash
from probectl.core.crash import KINDS, Crash, find


def log(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def check(text, kind: str, line: str, source: str = "previous-logs") -> None:
    got = find(text, source)
    assert got == Crash(kind, line, source), got


# --- interface ---------------------------------------------------------------------------

def test_kinds_are_the_spec_vocabulary_in_order():
    assert KINDS == (
        "python-exception", "java-exception", "go-panic", "node-exception", "rust-panic",
        "dotnet-exception", "ruby-exception", "java-out-of-memory", "node-out-of-memory",
        "go-out-of-memory", "connection-refused", "connection-timeout", "dns-lookup-failed",
        "tls-error", "address-in-use", "permission-denied", "read-only-filesystem",
        "file-not-found", "missing-environment-variable", "config-invalid", "exec-format-error",
        "error-line",
    )


def test_every_table_kind_is_in_the_vocabulary():
    kinds = {k for k, _, _ in crash._ROOT_CAUSES} | {k for _, k, _, _ in crash._RUNTIME}
    assert kinds <= set(KINDS)
    assert len(set(KINDS)) == len(KINDS)


def test_to_dict():
    got = find("panic: boom\n", "termination-message")
    assert got.to_dict() == {"kind": "go-panic", "line": "panic: boom", "source": "termination-message"}


@pytest.mark.parametrize("source", ["termination-message", "previous-logs", "logs"])
def test_source_is_carried(source):
    assert find("panic: boom", source).source == source


def test_unknown_source_is_a_programming_error():
    with pytest.raises(ValueError):
        find("panic: boom", "stdout")


# --- nothing to say ----------------------------------------------------------------------

@pytest.mark.parametrize("text", [None, "", b"", "\n\n  \n", [], ["", ""], "\x1b[0m\n"])
def test_empty_is_none(text):
    assert find(text, "logs") is None


def test_benign_info_tail_is_none():
    text = log(
        "2024-05-01T10:00:00.000Z INFO  starting server version=1.4.2",
        "2024-05-01T10:00:00.120Z INFO  connected to database, 0 errors",
        '{"level":"info","msg":"request failed health check retried","error":null}',
        'time="2024-05-01T10:00:01Z" level=debug msg="cache miss: not found"',
        "I0501 10:00:02.000000       1 main.go:40] no such key in cache, refreshing",
        "2024-05-01T10:00:03.000Z WARN  slow query took 2s (timeout is 5s)",
        '{"level":30,"time":1714557600000,"msg":"no such host in cache, resolving"}',
        "Shutting down gracefully",
    )
    assert find(text, "logs") is None


# --- Python ------------------------------------------------------------------------------

# CPython 3.11 output; chain texts are Lib/traceback.py _cause_message and _context_message.
PY_CAUSE = log(
    "Traceback (most recent call last):",
    '  File "/app/db.py", line 12, in connect',
    '    return socket.create_connection(("db", 5432))',
    '           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
    '  File "/usr/local/lib/python3.11/socket.py", line 851, in create_connection',
    "    raise exceptions[0]",
    '  File "/usr/local/lib/python3.11/socket.py", line 836, in create_connection',
    "    sock.connect(sa)",
    "ConnectionRefusedError: [Errno 111] Connection refused",
    "",
    "The above exception was the direct cause of the following exception:",
    "",
    "Traceback (most recent call last):",
    '  File "/app/main.py", line 30, in <module>',
    "    main()",
    '  File "/app/main.py", line 25, in main',
    '    raise RuntimeError("database unavailable") from e',
    "RuntimeError: database unavailable",
)


def test_python_chain_prefers_the_root_cause_over_a_generic_final_exception():
    check(PY_CAUSE, "connection-refused", "ConnectionRefusedError: [Errno 111] Connection refused")


def test_python_context_chain_final_exception_wins_when_nothing_is_a_root_cause():
    text = log(
        "Traceback (most recent call last):",
        '  File "/app/settings.py", line 8, in load',
        '    port = int(values["PORT"])',
        "KeyError: 'PORT'",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        '  File "/app/settings.py", line 10, in load',
        '    raise ValueError("bad port setting")',
        "ValueError: bad port setting",
    )
    check(text, "python-exception", "ValueError: bad port setting")


def test_python_final_exception_with_a_root_cause_wins_over_earlier_ones():
    text = log(
        "Traceback (most recent call last):",
        '  File "/app/cfg.py", line 3, in <module>',
        "ValueError: bad value",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        '  File "/app/cfg.py", line 5, in <module>',
        "PermissionError: [Errno 13] Permission denied: '/data/state.db'",
    )
    check(text, "permission-denied", "PermissionError: [Errno 13] Permission denied: '/data/state.db'")


def test_python_chain_takes_the_oldest_root_cause():
    # "The above exception was the direct cause": the oldest exception is the root.
    text = log(
        "Traceback (most recent call last):",
        '  File "/usr/local/lib/python3.11/site-packages/urllib3/connection.py", line 203, in _new_conn',
        "socket.gaierror: [Errno -3] Temporary failure in name resolution",
        "",
        "The above exception was the direct cause of the following exception:",
        "",
        "Traceback (most recent call last):",
        '  File "/usr/local/lib/python3.11/site-packages/urllib3/connection.py", line 210, in _new_conn',
        "urllib3.exceptions.NameResolutionError: <urllib3.connection.HTTPSConnection object at "
        "0x7f3a>: Failed to resolve 'api.shop' ([Errno -3] Temporary failure in name resolution)",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        '  File "/app/main.py", line 9, in <module>',
        "RuntimeError: catalog unavailable",
    )
    check(text, "dns-lookup-failed", "socket.gaierror: [Errno -3] Temporary failure in name resolution")


def test_python_3_11_caret_line_before_the_exception_is_not_node():
    # CPython 3.11 output: the exception line follows a "^^^^" underline, like Node's.
    text = log(
        "Traceback (most recent call last):",
        '  File "/app/t1.py", line 5, in main',
        "    port = conv(None)",
        "           ^^^^^^^^^^",
        '  File "/app/t1.py", line 2, in conv',
        "    return int(value)",
        "           ^^^^^^^^^^",
        "TypeError: int() argument must be a string, a bytes-like object or a real number, not 'NoneType'",
    )
    check(text, "python-exception",
          "TypeError: int() argument must be a string, a bytes-like object or a real number, not 'NoneType'")


def test_python_tracebacks_without_a_separator_do_not_chain():
    # A handled error logged with its traceback, then the one that killed the process.
    first = PY_CAUSE.split("\nThe above")[0]
    text = first + log("", "Traceback (most recent call last):",
                       '  File "/app/main.py", line 3, in <module>', "AssertionError: worker count must be > 0")
    check(text, "python-exception", "AssertionError: worker count must be > 0")


def test_python_os_environ_keyerror_3_11_frozen_os():
    # CPython 3.11 output of os.environ["DATABASE_URL"] (the frame is "<frozen os>").
    text = log(
        "Traceback (most recent call last):",
        '  File "/app/main.py", line 4, in <module>',
        '    DB = os.environ["DATABASE_URL"]',
        '         ~~~~~~~~~~^^^^^^^^^^^^^^^^',
        '  File "<frozen os>", line 679, in __getitem__',
        "KeyError: 'DATABASE_URL'",
    )
    check(text, "missing-environment-variable", "KeyError: 'DATABASE_URL'")


def test_python_os_environ_keyerror_older_os_py():
    text = log(
        "Traceback (most recent call last):",
        '  File "/app/main.py", line 4, in <module>',
        "    DB = settings()",
        '  File "/usr/local/lib/python3.9/os.py", line 679, in __getitem__',
        "    raise KeyError(key) from None",
        "KeyError: 'DATABASE_URL'",
    )
    check(text, "missing-environment-variable", "KeyError: 'DATABASE_URL'")


def test_python_plain_keyerror_is_a_python_exception():
    text = log("Traceback (most recent call last):", '  File "/app/main.py", line 4, in <module>',
               '    user = users["alice"]', "KeyError: 'alice'")
    check(text, "python-exception", "KeyError: 'alice'")


def test_python_gaierror_is_dns():
    # CPython 3.11 socket.getaddrinfo on an unknown name (glibc EAI_NONAME text).
    text = log(
        "Traceback (most recent call last):",
        '  File "/usr/local/lib/python3.11/socket.py", line 962, in getaddrinfo',
        "    for res in _socket.getaddrinfo(host, port, family, type, proto, flags):",
        "               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        "socket.gaierror: [Errno -2] Name or service not known",
    )
    check(text, "dns-lookup-failed", "socket.gaierror: [Errno -2] Name or service not known")


def test_python_ssl_verification_is_tls():
    text = log(
        "Traceback (most recent call last):",
        '  File "/usr/local/lib/python3.11/ssl.py", line 1379, in do_handshake',
        "    self._sslobj.do_handshake()",
        "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
        "unable to get local issuer certificate (_ssl.c:1006)",
    )
    check(text, "tls-error", "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] "
          "certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)")


def test_python_traceback_beats_a_later_generic_error_line():
    # uvicorn prints "ERROR:    Application startup failed. Exiting." after the traceback.
    text = "INFO:     Waiting for application startup.\nERROR:    Traceback\n" + PY_CAUSE + log(
        "", "ERROR:    Application startup failed. Exiting.")
    check(text, "connection-refused", "ConnectionRefusedError: [Errno 111] Connection refused")


def test_python_traceback_whose_header_was_cut_off():
    text = log('  File "/app/main.py", line 9, in <module>', "    run()",
               "ZeroDivisionError: division by zero")
    check(text, "python-exception", "ZeroDivisionError: division by zero")


# --- Java --------------------------------------------------------------------------------

# OpenJDK ThreadGroup.uncaughtException ('Exception in thread "main" ') and Throwable
# printEnclosedStackTrace ("Caused by: ", "\tat ", "\t... n more"); shape from OpenJDK 17.
JAVA_NESTED = log(
    'Exception in thread "main" java.lang.RuntimeException: Failed to start application',
    "\tat com.shop.App.main(App.java:21)",
    "Caused by: java.lang.IllegalStateException: repository init failed",
    "\tat com.shop.Repo.init(Repo.java:40)",
    "\tat com.shop.App.main(App.java:19)",
    "\t... 1 more",
    "Caused by: java.net.ConnectException: Connection refused",
    "\tat java.base/sun.nio.ch.Net.connect0(Native Method)",
    "\tat java.base/sun.nio.ch.Net.connect(Net.java:579)",
    "\tat java.base/java.net.Socket.connect(Socket.java:633)",
    "\tat org.postgresql.core.PGStream.createSocket(PGStream.java:243)",
    "\t... 12 more",
)


def test_java_deepest_cause_is_the_telling_line():
    check(JAVA_NESTED, "connection-refused", "Caused by: java.net.ConnectException: Connection refused")


def test_java_deepest_cause_without_root_cause_is_a_java_exception():
    text = log(
        'Exception in thread "main" java.lang.RuntimeException: boot failed',
        "\tat com.shop.App.main(App.java:21)",
        "Caused by: java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"s\" is null",
        "\tat com.shop.Conf.read(Conf.java:7)",
        "\t... 1 more",
    )
    check(text, "java-exception",
          'Caused by: java.lang.NullPointerException: Cannot invoke "String.length()" because "s" is null')


def test_java_wrapper_with_root_cause_beats_a_generic_deepest_cause():
    text = log(
        'Exception in thread "main" java.lang.IllegalStateException: bind: Address already in use',
        "\tat com.shop.App.main(App.java:21)",
        "Caused by: java.lang.RuntimeException: wrapped",
        "\tat com.shop.App.start(App.java:9)",
        "\t... 1 more",
    )
    check(text, "address-in-use",
          'Exception in thread "main" java.lang.IllegalStateException: bind: Address already in use')


def test_spring_boot_logged_trace_placeholder_is_missing_env():
    # Spring PropertyPlaceholderHelper: "Could not resolve placeholder 'X' in value \"...\"".
    text = log(
        "2024-05-01T10:00:03.511Z ERROR 1 --- [           main] o.s.boot.SpringApplication               : Application run failed",
        "org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'dataSource'",
        "\tat org.springframework.beans.factory.support.AbstractAutowireCapableBeanFactory.doCreateBean(AbstractAutowireCapableBeanFactory.java:605)",
        "\tat org.springframework.boot.SpringApplication.run(SpringApplication.java:335)",
        "Caused by: java.lang.IllegalArgumentException: Could not resolve placeholder 'DB_URL' in value \"${DB_URL}\"",
        "\tat org.springframework.util.PropertyPlaceholderHelper.parseStringValue(PropertyPlaceholderHelper.java:180)",
        "\t... 42 common frames omitted",
    )
    check(text, "missing-environment-variable",
          "Caused by: java.lang.IllegalArgumentException: Could not resolve placeholder 'DB_URL' in value \"${DB_URL}\"")


def test_java_separate_traces_do_not_chain():
    # A worker thread died of a refused connection; then main died of something else.
    text = log('Exception in thread "pool-1-thread-1" java.net.ConnectException: Connection refused',
               "\tat java.base/sun.nio.ch.Net.connect0(Native Method)",
               'Exception in thread "main" java.lang.IllegalStateException: no healthy workers',
               "\tat com.shop.App.main(App.java:30)")
    check(text, "java-exception",
          'Exception in thread "main" java.lang.IllegalStateException: no healthy workers')


def test_java_causes_do_not_chain_across_log_lines():
    # An earlier handled (logged) trace, then a tail that starts inside the fatal one.
    text = log("2024-05-01 10:00:01 WARN  Pool - connect failed, retrying",
               "com.shop.db.PoolException: connect failed",
               "\tat com.shop.db.Pool.open(Pool.java:12)",
               "Caused by: java.net.ConnectException: Connection refused",
               "\tat java.base/sun.nio.ch.Net.connect0(Native Method)",
               "2024-05-01 10:00:05 INFO  Pool - connected",
               "\tat com.shop.App.main(App.java:30)",
               "Caused by: java.lang.IllegalStateException: no tenants configured",
               "\tat com.shop.Tenants.load(Tenants.java:8)",
               "\t... 1 more")
    check(text, "java-exception", "Caused by: java.lang.IllegalStateException: no tenants configured")


def test_java_logged_exception_without_cause():
    text = log("2024-05-01 10:00:03 ERROR main Boot - startup failed",
               "com.shop.config.ConfigException: tenant list is empty",
               "\tat com.shop.config.Loader.load(Loader.java:55)")
    check(text, "java-exception", "com.shop.config.ConfigException: tenant list is empty")


@pytest.mark.parametrize("line,kind", [
    ("Caused by: java.net.UnknownHostException: db.shop.svc.cluster.local", "dns-lookup-failed"),
    ("Caused by: java.net.SocketTimeoutException: Connect timed out", "connection-timeout"),
    ("Caused by: javax.net.ssl.SSLHandshakeException: PKIX path building failed: "
     "sun.security.provider.certpath.SunCertPathBuilderException", "tls-error"),
    ("Caused by: java.net.BindException: Address already in use", "address-in-use"),
    ("Caused by: java.io.FileNotFoundException: /etc/app/app.yaml (No such file or directory)",
     "file-not-found"),
    ("Caused by: java.io.FileNotFoundException: /data/app.lock (Permission denied)",
     "permission-denied"),
])
def test_java_root_causes(line, kind):
    text = log('Exception in thread "main" java.lang.RuntimeException: boot failed',
               "\tat com.shop.App.main(App.java:21)", line, "\tat com.shop.Db.open(Db.java:3)",
               "\t... 3 more")
    check(text, kind, line)


@pytest.mark.parametrize("line", [
    'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space',
    'Exception in thread "main" java.lang.OutOfMemoryError: GC overhead limit exceeded',
    "Caused by: java.lang.OutOfMemoryError: Metaspace",
    "Terminating due to java.lang.OutOfMemoryError: Java heap space",
])
def test_java_out_of_memory(line):
    # HotSpot universe.cpp messages; -XX:+ExitOnOutOfMemoryError prints "Terminating due to".
    check(log("INFO loading catalog", line, "\tat com.shop.Catalog.load(Catalog.java:88)"),
          "java-out-of-memory", line)


# --- Go ----------------------------------------------------------------------------------

# runtime/panic.go printpanics "panic: " + value; then the goroutine dump.
def test_go_panic_with_goroutine_dump_root_cause():
    text = log(
        "2024/05/01 10:00:00 connecting to db",
        "panic: dial tcp 10.0.0.5:5432: connect: connection refused",
        "",
        "goroutine 1 [running]:",
        "main.mustConnect(...)",
        "\t/app/main.go:23",
        "main.main()",
        "\t/app/main.go:41 +0x1d4",
        "exit status 2",
    )
    check(text, "connection-refused", "panic: dial tcp 10.0.0.5:5432: connect: connection refused")


def test_go_nil_pointer_dereference():
    text = log(
        "panic: runtime error: invalid memory address or nil pointer dereference",
        "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x47b2c5]",
        "",
        "goroutine 1 [running]:",
        "main.(*Server).Start(0x0)",
        "\t/app/server.go:41 +0x25",
        "main.main()",
        "\t/app/main.go:12 +0x5b",
        "created by main.main in goroutine 1",
        "\t/app/main.go:10 +0x1e",
    )
    check(text, "go-panic", "panic: runtime error: invalid memory address or nil pointer dereference")


def test_go_recovered_then_repanicked_two_line_form():
    # Go <= 1.24: "panic: A [recovered]" then a tab-indented newer panic.
    text = log("panic: first [recovered]", "\tpanic: second", "", "goroutine 1 [running]:",
               "main.main()", "\t/app/main.go:9 +0x1d")
    check(text, "go-panic", "panic: second")


def test_go_recovered_chain_prefers_root_cause_of_the_original_panic():
    text = log("panic: open /etc/app/config.yaml: no such file or directory [recovered]",
               "\tpanic: config load failed", "", "goroutine 1 [running]:")
    check(text, "file-not-found", "panic: open /etc/app/config.yaml: no such file or directory [recovered]")


def test_go_1_25_repanicked_form():
    # Go 1.25 release notes (go.dev/issue/71517): one line, " [recovered, repanicked]".
    check(log("panic: PANIC [recovered, repanicked]", "", "goroutine 1 [running]:"),
          "go-panic", "panic: PANIC [recovered, repanicked]")


def test_go_env_check_panic_is_missing_env():
    # caarlos0/env: `required environment variable "X" is not set`.
    text = log('panic: env: required environment variable "DATABASE_URL" is not set', "",
               "goroutine 1 [running]:", "main.main()", "\t/app/main.go:14 +0x65")
    check(text, "missing-environment-variable",
          'panic: env: required environment variable "DATABASE_URL" is not set')


@pytest.mark.parametrize("text,line", [
    # runtime/mem_linux.go sysMap: throw("runtime: out of memory").
    (log("fatal error: runtime: out of memory", "", "runtime stack:", "runtime.throw({0x4b8f2c?, 0x0?})",
         "\t/usr/local/go/src/runtime/panic.go:1023 +0x5c"),
     "fatal error: runtime: out of memory"),
    # mheap.grow: print("runtime: out of memory: cannot allocate ...") then throw("out of memory").
    (log("runtime: out of memory: cannot allocate 268435456-byte block (1048576000 in use)",
         "fatal error: out of memory", "", "goroutine 1 [running]:"),
     "fatal error: out of memory"),
])
def test_go_out_of_memory(text, line):
    check(text, "go-out-of-memory", line)


def test_go_fatal_error_is_a_go_panic():
    check(log("fatal error: concurrent map writes", "", "goroutine 7 [running]:"),
          "go-panic", "fatal error: concurrent map writes")


# --- Node.js -----------------------------------------------------------------------------

def test_node_type_error_after_caret_block():
    # Node.js 20 output.
    text = log(
        "/app/index.js:2",
        "function f() { return x.foo; }",
        "                        ^",
        "",
        "TypeError: Cannot read properties of undefined (reading 'foo')",
        "    at f (/app/index.js:2:25)",
        "    at Object.<anonymous> (/app/index.js:3:1)",
        "    at Module._compile (node:internal/modules/cjs/loader:1521:14)",
        "    at node:internal/main/run_main_module:28:49",
        "",
        "Node.js v20.20.2",
    )
    check(text, "node-exception", "TypeError: Cannot read properties of undefined (reading 'foo')")


def test_node_unhandled_error_event_connection_refused():
    # Node.js 20 output; "throw er; // Unhandled 'error' event" must not be chosen.
    text = log(
        "node:events:502",
        "      throw er; // Unhandled 'error' event",
        "      ^",
        "",
        "Error: connect ECONNREFUSED 10.0.0.5:5432",
        "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)",
        "Emitted 'error' event on Socket instance at:",
        "    at emitErrorNT (node:internal/streams/destroy:169:8)",
        "    at process.processTicksAndRejections (node:internal/process/task_queues:82:21) {",
        "  errno: -111,",
        "  code: 'ECONNREFUSED',",
        "  syscall: 'connect',",
        "  address: '10.0.0.5',",
        "  port: 5432",
        "}",
        "",
        "Node.js v20.20.2",
    )
    check(text, "connection-refused", "Error: connect ECONNREFUSED 10.0.0.5:5432")


def test_node_fetch_failed_cause_is_the_telling_line():
    # Node.js 20 output of fetch() to a closed port: util.inspect prints "[cause]: ".
    text = log(
        "node:internal/deps/undici/undici:14976",
        "      Error.captureStackTrace(err);",
        "            ^",
        "",
        "TypeError: fetch failed",
        "    at node:internal/deps/undici/undici:14976:13",
        "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5) {",
        "  [cause]: Error: connect ECONNREFUSED 127.0.0.1:5999",
        "      at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16) {",
        "    errno: -111,",
        "    code: 'ECONNREFUSED',",
        "  }",
        "}",
        "",
        "Node.js v20.20.2",
    )
    check(text, "connection-refused", "[cause]: Error: connect ECONNREFUSED 127.0.0.1:5999")


NODE20_REJECTION = (
    "UnhandledPromiseRejection: This error originated either by throwing inside of an async "
    "function without a catch block, or by rejecting a promise which was not handled with "
    '.catch(). The promise rejected with the reason "boom".')


def test_node_20_unhandled_rejection():
    # lib/internal/process/promises.js; Node.js 20 output.
    text = log("node:internal/process/promises:389", "      new UnhandledPromiseRejection(reason);",
               "      ^", "", NODE20_REJECTION,
               "    at throwUnhandledRejectionsMode (node:internal/process/promises:389:7)",
               "    at processPromiseRejections (node:internal/process/promises:470:17) {",
               "  code: 'ERR_UNHANDLED_REJECTION'", "}", "", "Node.js v20.20.2")
    check(text, "node-exception", NODE20_REJECTION)


def test_node_15_to_18_bracketed_unhandled_rejection():
    line = ("[UnhandledPromiseRejection: This error originated either by throwing inside of an "
            "async function without a catch block, or by rejecting a promise which was not "
            'handled with .catch(). The promise rejected with the reason "oops".] {')
    text = log("node:internal/process/promises:246",
               "          triggerUncaughtException(err, true /* fromPromise */);", "          ^",
               "", line, "  code: 'ERR_UNHANDLED_REJECTION'", "}")
    check(text, "node-exception", line)


def test_node_module_not_found_after_caret_without_frame_next():
    # Node.js 20 output: "Require stack:" sits between the error line and its frames.
    text = log("node:internal/modules/cjs/loader:1080", "  throw err;", "  ^", "",
               "Error: Cannot find module 'express'", "Require stack:", "- /app/index.js",
               "    at Module._resolveFilename (node:internal/modules/cjs/loader:1077:15)", "{",
               "  code: 'MODULE_NOT_FOUND',", "  requireStack: [ '/app/index.js' ]", "}")
    check(text, "node-exception", "Error: Cannot find module 'express'")


def test_node_uncaught_variant():
    check(log("Uncaught Error: worker crashed"), "node-exception", "Uncaught Error: worker crashed")


@pytest.mark.parametrize("line,kind", [
    ("Error: getaddrinfo ENOTFOUND db", "dns-lookup-failed"),
    ("Error: listen EADDRINUSE: address already in use :::8080", "address-in-use"),
    ("Error: EACCES: permission denied, open '/data/app.log'", "permission-denied"),
    ("Error: EROFS: read-only file system, open '/app/cache/x'", "read-only-filesystem"),
    ("Error: ENOENT: no such file or directory, open '/app/config.json'", "file-not-found"),
    ("Error: connect ETIMEDOUT 10.0.0.5:443", "connection-timeout"),
    ("SyntaxError: Unexpected token } in JSON at position 42", "config-invalid"),
])
def test_node_errno_errors(line, kind):
    text = log("node:internal/fs/utils:347", "    throw err;", "    ^", "", line,
               "    at Object.openSync (node:fs:573:18)", "    at /app/index.js:3:9")
    check(text, kind, line)


@pytest.mark.parametrize("line", [
    # Node.js 20 / V8 heap.cc FatalProcessOutOfMemory("Reached heap limit").
    "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
    "FATAL ERROR: Ineffective mark-compacts near heap limit Allocation failed - JavaScript heap out of memory",
    "FATAL ERROR: CALL_AND_RETRY_LAST Allocation failed - JavaScript heap out of memory",
])
def test_node_out_of_memory(line):
    text = log(
        "<--- Last few GCs --->",
        "",
        "[1:0x5a3e20]    37 ms: Mark-Compact 16.3 (32.8) -> 16.3 (32.8) MB, 2.76 / 0.00 ms  "
        "(average mu = 0.335, current mu = 0.183) allocation failure; scavenge might not succeed",
        "",
        "<--- JS stacktrace --->",
        "",
        line,
        "----- Native stack trace -----",
        "",
        " 1: 0xb78db3 node::OOMErrorHandler(char const*, v8::OOMDetails const&) [node]",
        "16: 0x195e476  [node]",
    )
    check(text, "node-out-of-memory", line)


# --- Rust --------------------------------------------------------------------------------

def test_rust_new_format_joins_the_message_line():
    # library/std/src/panicking.rs (>= 1.73): "thread '{name}' panicked at {location}:\n{msg}".
    text = log("", "thread 'main' panicked at src/main.rs:10:5:", "index out of bounds: the len is 3 but the index is 7",
               "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace")
    check(text, "rust-panic",
          "thread 'main' panicked at src/main.rs:10:5: index out of bounds: the len is 3 but the index is 7")


def test_rust_1_95_with_thread_id_and_backtrace():
    # rustc 1.95 output: the thread id follows the name.
    text = log(
        "thread 'main' (11590) panicked at src/main.rs:4:7:",
        'failed to connect to database: Os { code: 111, kind: ConnectionRefused, message: "Connection refused" }',
        "stack backtrace:",
        "   0: __rustc::rust_begin_unwind",
        "             at /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/panicking.rs:689:5",
        "   1: core::panicking::panic_fmt",
        "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.",
    )
    check(text, "connection-refused",
          "thread 'main' (11590) panicked at src/main.rs:4:7: failed to connect to database: "
          'Os { code: 111, kind: ConnectionRefused, message: "Connection refused" }')


def test_rust_old_one_line_format():
    # panicking.rs before 1.73: "thread '{name}' panicked at '{msg}', {location}".
    line = "thread 'main' panicked at 'called `Option::unwrap()` on a `None` value', src/main.rs:7:31"
    check(log(line, "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"),
          "rust-panic", line)


# --- .NET --------------------------------------------------------------------------------

def test_dotnet_unhandled_exception():
    text = log(
        "Unhandled exception. System.InvalidOperationException: Unable to resolve service for type 'Shop.IClock'",
        "   at Microsoft.Extensions.DependencyInjection.ActivatorUtilities.ConstructorMatcher.CreateInstance(IServiceProvider provider)",
        "   at Program.<Main>$(String[] args) in /src/Program.cs:line 12",
    )
    check(text, "dotnet-exception",
          "Unhandled exception. System.InvalidOperationException: Unable to resolve service for type 'Shop.IClock'")


def test_dotnet_inner_exception_root_cause():
    # Exception.ToString(): InnerExceptionPrefix " ---> ", "--- End of inner exception stack trace ---".
    text = log(
        "Unhandled exception. System.Net.Http.HttpRequestException: Name or service not known (db:5432)",
        " ---> System.Net.Sockets.SocketException (00000001, 11): Name or service not known",
        "   at System.Net.Sockets.Socket.ConnectAsync(SocketAsyncEventArgs e)",
        "   --- End of inner exception stack trace ---",
        "   at System.Net.Http.HttpConnectionPool.ConnectToTcpHostAsync(String host, Int32 port)",
    )
    check(text, "dns-lookup-failed",
          "---> System.Net.Sockets.SocketException (00000001, 11): Name or service not known")


def test_dotnet_exception_written_by_the_host_logger():
    # Microsoft.Extensions.Logging console format, then Exception.ToString().
    text = log(
        "fail: Microsoft.Extensions.Hosting.Internal.Host[11]",
        "      Hosting failed to start",
        "System.InvalidOperationException: No service for type 'Shop.IClock' has been registered.",
        "   at Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService(IServiceProvider provider, Type serviceType)",
        "   at Program.<Main>$(String[] args) in /src/Program.cs:line 12",
    )
    check(text, "dotnet-exception",
          "System.InvalidOperationException: No service for type 'Shop.IClock' has been registered.")


# --- Ruby --------------------------------------------------------------------------------

@pytest.mark.parametrize("line", [
    # Ruby >= 3.4: single quote and the owner (NEWS: Feature #16495, #19117).
    "/app/app.rb:3:in 'Object#boot': tenant list is empty (RuntimeError)",
    # Ruby < 3.4: backtick opening quote.
    "/app/app.rb:3:in `boot': tenant list is empty (RuntimeError)",
])
def test_ruby_exception(line):
    check(log(line, "\tfrom /app/app.rb:7:in '<main>'"), "ruby-exception", line)


def test_ruby_connection_refused_and_env_fetch():
    line = ('/usr/local/bundle/gems/pg-1.5.4/lib/pg/connection.rb:701:in \'PG::Connection.connect_start\': '
            'connection to server at "10.0.0.5", port 5432 failed: Connection refused (PG::ConnectionBad)')
    check(log(line, "\tfrom /app/config/boot.rb:3:in '<main>'"), "connection-refused", line)
    env = "/app/config.rb:1:in 'ENV.fetch': key not found: \"DATABASE_URL\" (KeyError)"
    check(log(env, "\tfrom /app/config.rb:1:in '<main>'"), "missing-environment-variable", env)


def test_ruby_on_a_tty_prints_traceback_header_but_is_ruby():
    # eval_error.c rb_error_write with reverse=TTY prints "Traceback (most recent call last):".
    line = "app.rb:3:in `boot': boom (RuntimeError)"
    check(log("Traceback (most recent call last):", "\t1: from app.rb:7:in `<main>'", line),
          "ruby-exception", line)


# --- structured logs ---------------------------------------------------------------------

def test_json_fatal_record_classified_from_its_error_field():
    record = ('{"level":"fatal","ts":1714557600.1,"caller":"db/connect.go:41","msg":"cannot connect",'
              '"error":"dial tcp 10.0.0.5:5432: connect: connection refused"}')
    text = log('{"level":"info","msg":"starting","version":"1.4.2"}', record)
    check(text, "connection-refused", record)


def test_json_error_record_without_root_cause_is_an_error_line():
    record = '{"severity":"ERROR","message":"order sync aborted","job":"sync"}'
    check(log('{"severity":"INFO","message":"no such host in cache: ok"}', record), "error-line", record)


def test_json_fields_other_than_the_message_are_not_classified():
    # "host":"notfound" or a caller path must not make a root cause.
    record = '{"level":"error","msg":"payment failed","caller":"no such file or directory.go:1"}'
    check(log(record), "error-line", record)


def test_pino_numeric_level_and_err_object():
    record = ('{"level":60,"time":1714557600000,"pid":1,"msg":"boot failed","err":{"type":"Error",'
              '"message":"getaddrinfo EAI_AGAIN redis","stack":"Error: getaddrinfo EAI_AGAIN redis"}}')
    check(log('{"level":30,"msg":"listening"}', record), "dns-lookup-failed", record)


def test_logfmt_fatal_record():
    record = ('time="2024-05-01T10:00:00Z" level=fatal msg="invalid config" '
              'err="yaml: line 3: mapping values are not allowed in this context"')
    check(log('time="2024-05-01T09:59:59Z" level=info msg="loading /etc/app/config.yaml"', record),
          "config-invalid", record)


def test_warn_records_with_root_cause_text_do_not_count():
    text = log('{"level":"warn","msg":"retrying","error":"dial tcp: connect: connection refused"}',
               "2024-05-01T10:00:00Z WARN could not connect: Connection refused, retrying",
               "2024-05-01T10:00:05Z ERROR giving up after 5 attempts")
    check(text, "error-line", "2024-05-01T10:00:05Z ERROR giving up after 5 attempts")


def test_a_later_fatal_record_with_a_root_cause_overrides_an_earlier_crash_report():
    record = '{"level":"fatal","msg":"shutdown","error":"open /etc/app/tls.key: permission denied"}'
    check(PY_CAUSE + log('{"level":"info","msg":"recovered, continuing"}', record), "permission-denied", record)


def test_a_later_fatal_record_without_root_cause_does_not_override():
    record = '{"level":"fatal","msg":"giving up"}'
    check(PY_CAUSE + log(record), "connection-refused", "ConnectionRefusedError: [Errno 111] Connection refused")


@pytest.mark.parametrize("record", [
    '{"levelname": "CRITICAL", "name": "app", "message": "startup failed: [Errno 13] Permission denied: \'/data\'"}',
    '{"@timestamp":"2024-05-01T10:00:00Z","log.level":"error","message":"open /data: permission denied"}',
    'level=error msg="write failed" err="open /data/x: permission denied"',
    'time=2024-05-01T10:00:00Z lvl=crit msg="open /data/x: \\"permission denied\\""',
])
def test_level_and_text_fields_of_common_formats(record):
    # python-json-logger levelname, ECS log.level, logfmt level/lvl.
    check(log(record), "permission-denied", record)


# --- root causes on plain lines -----------------------------------------------------------

@pytest.mark.parametrize("line,kind", [
    # Go log.Fatal(err): timestamp + net.OpError text, no level word.
    ("2024/05/01 10:00:00 listen tcp :8080: bind: address already in use", "address-in-use"),
    ("2024/05/01 10:00:00 dial tcp: lookup db on 10.96.0.10:53: no such host", "dns-lookup-failed"),
    ("2024/05/01 10:00:00 dial tcp: lookup db on 10.96.0.10:53: read udp 10.1.0.4:40563->10.96.0.10:53: i/o timeout",
     "dns-lookup-failed"),
    ("2024/05/01 10:00:00 dial tcp 10.0.0.5:5432: i/o timeout", "connection-timeout"),
    ('2024/05/01 10:00:00 Get "https://api.shop.svc:8443/v1": tls: failed to verify certificate: '
     "x509: certificate signed by unknown authority", "tls-error"),
    ("2024/05/01 10:00:00 open /data/db.lock: read-only file system", "read-only-filesystem"),
    ("2024/05/01 10:00:00 required key DATABASE_URL missing value", "missing-environment-variable"),
    ("2024/05/01 10:00:00 json: cannot unmarshal string into Go struct field Config.port of type int",
     "config-invalid"),
    # runc / the container runtime.
    ("exec /app/server: exec format error", "exec-format-error"),
    ('exec: "server": executable file not found in $PATH', "file-not-found"),
    # bash `set -u` and dash.
    ("/entrypoint.sh: line 4: DATABASE_URL: unbound variable", "missing-environment-variable"),
    ("/entrypoint.sh: 4: DATABASE_URL: parameter not set", "missing-environment-variable"),
    ("FATAL: environment variable API_TOKEN must be set", "missing-environment-variable"),
    ("Error: missing required environment variables: STRIPE_KEY", "missing-environment-variable"),
    # nginx: ngx_conf_log_error appends " in FILE:LINE".
    ('nginx: [emerg] unknown directive "proxy_passs" in /etc/nginx/conf.d/default.conf:12', "config-invalid"),
    ("nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)", "address-in-use"),
    ('nginx: [emerg] host not found in upstream "api:8080" in /etc/nginx/conf.d/default.conf:5',
     "dns-lookup-failed"),
    ("psql: error: could not connect to server: Connection timed out", "connection-timeout"),
    # The kubelet's termination message for a container that could not start.
    ('failed to create containerd task: failed to create shim task: OCI runtime create failed: runc '
     'create failed: unable to start container process: exec: "/app/server": stat /app/server: no '
     "such file or directory: unknown", "file-not-found"),
])
def test_plain_root_cause_lines(line, kind):
    check(log("starting", line), kind, line, "termination-message")


def test_upper_case_tls_is_not_a_go_tls_error():
    check(log("ERROR config rejected: TLS: on, port: 8443"), "error-line", "ERROR config rejected: TLS: on, port: 8443")


def test_last_root_cause_line_beats_a_later_generic_error():
    text = log("2024/05/01 10:00:00 dial tcp 10.0.0.5:5432: connect: connection refused",
               "ERROR giving up")
    check(text, "connection-refused", "2024/05/01 10:00:00 dial tcp 10.0.0.5:5432: connect: connection refused")


@pytest.mark.parametrize("line", [
    "2024-05-01 10:00:00,123 ERROR [main] sync aborted",
    "E0501 10:00:00.000000       1 controller.go:114] sync aborted",
    "ERRO[0003] sync aborted",
    "2024/05/01 10:00:00 [error] 7#7: *1 upstream prematurely closed connection",
    "Error: sync aborted",
    "segmentation fault (core dumped)",
])
def test_error_line_fallback(line):
    check(log("INFO starting", line, "INFO still here"), "error-line", line)


@pytest.mark.parametrize("text", [
    log("INFO ok", "\tat com.shop.db.Pool.fail(Pool.java:3)", "\t... 3 more"),
    log("INFO ok", "    at failFast (/app/index.js:3:9)", "    at node:internal/main/run_main_module:28:49"),
    log("INFO ok", '  File "/app/error.py", line 3, in fail'),
    log("INFO ok", "  errno: -111,", "  code: 'ECONNREFUSED',", "  syscall: 'connect',"),
    log("INFO ok", "goroutine 1 [running]:", "created by main.startFailing in goroutine 1"),
])
def test_stack_frames_are_never_the_telling_line(text):
    assert find(text, "logs") is None


def test_kubectl_timestamps_prefix_is_ignored_for_matching_but_kept():
    text = log("2024-05-01T10:00:00.000000000Z panic: boom", "2024-05-01T10:00:00.000000001Z ",
               "2024-05-01T10:00:00.000000002Z goroutine 1 [running]:")
    check(text, "go-panic", "2024-05-01T10:00:00.000000000Z panic: boom")


# --- truncated input ---------------------------------------------------------------------

def test_tail_cut_mid_line_and_mid_utf8_character():
    # The kubelet keeps the last 2048 bytes: the tail may start inside "é" (0xC3 0xA9).
    full = log("INFO café opened", "panic: dial tcp 10.0.0.5:5432: connect: connection refused",
               "", "goroutine 1 [running]:").encode()
    cut = full[full.index("é".encode()) + 1:]
    assert cut.startswith(b"\xa9")
    check(cut, "connection-refused", "panic: dial tcp 10.0.0.5:5432: connect: connection refused",
          "termination-message")


def test_useful_fragment_first_line_is_kept():
    data = "é connect: connection refused\nINFO shutting down\n".encode()[1:]
    check(data, "connection-refused", "connect: connection refused")


def test_invalid_utf8_is_replaced_not_fatal():
    check(b"ERROR bad byte \xff\xfe here\n", "error-line", "ERROR bad byte \ufffd\ufffd here")


def test_only_the_tail_is_read():
    # A crash beyond the last 64 KiB / 400 lines is not seen.
    text = "panic: old\n" + "INFO ok\n" * 500
    assert find(text, "logs") is None
    assert find(("INFO ok\n" * 10_000) + "panic: new\n", "logs").line == "panic: new"


def test_iterable_of_lines_and_bytearray():
    check(["INFO a", "panic: boom", "goroutine 1 [running]:"], "go-panic", "panic: boom")
    check(iter(["INFO a", b"panic: boom"]), "go-panic", "panic: boom")
    check(bytearray(b"panic: boom\n"), "go-panic", "panic: boom")


# --- hostile text ------------------------------------------------------------------------

def test_ansi_colours_are_stripped_before_matching():
    text = "\x1b[2m2024-05-01T10:00:00Z\x1b[0m \x1b[31mERROR\x1b[0m dial tcp: connect: \x1b[1mconnection refused\x1b[0m\n"
    check(text, "connection-refused", "2024-05-01T10:00:00Z ERROR dial tcp: connect: connection refused")


def test_osc8_hyperlink_is_stripped_and_text_kept():
    text = "ERROR see \x1b]8;;https://evil.example/\x1b\\the docs\x1b]8;;\x1b\\ now\x07\n"
    check(text, "error-line", "ERROR see the docs now^G")


def test_c1_csi_bidi_and_lone_escapes_are_made_visible():
    text = "ERROR \x9b31mred\x1b \u202eevil\u202c \u200bzw\x00\x7f\n"
    check(text, "error-line", "ERROR \\x9b31mred^[ <U+202E>evil<U+202C> <U+200B>zw^@^?")


def test_rich_markup_stays_plain_text():
    line = "panic: [bold red]x[/] [link=https://evil.example]click[/link]"
    check(line + "\n", "go-panic", line)


def test_carriage_return_cannot_hide_text():
    # A lone CR starts a new line: "ok" cannot overwrite what comes before it on a terminal.
    check("panic: real reason\rok\n", "go-panic", "panic: real reason")


def test_tabs_become_spaces_and_line_is_one_line():
    check("ERROR\tfailed\there\n", "error-line", "ERROR failed here")


def test_long_line_is_clipped_to_300_characters():
    got = find("panic: " + "x" * 1000, "logs")
    assert got.kind == "go-panic"
    assert len(got.line) == 300
    assert got.line == "panic: " + "x" * 292 + "…"


def test_escapes_count_towards_the_300_characters():
    got = find("ERROR " + "\x01" * 400, "logs")
    assert got.line == "ERROR " + "^A" * 146 + "^…"


def test_deeply_nested_json_does_not_crash():
    check("[" * 5000 + "\n" + "{" + '"a":[' * 5000 + "\nERROR x\n", "error-line", "ERROR x")
    assert find("{" + '"a":' * 100_000 + "1}", "logs") is None


# --- performance -------------------------------------------------------------------------

ADVERSARIAL = [
    "x" * 65536,
    "[emerg] " * 8192,
    'msg="' * 13000 + " level=error",
    "lookup " * 9000,
    "environment variable " * 3000,
    ":1:in '" * 9000,
    "thread 'a' " * 6000,
    ("ERROR " + "a" * 150 + "\n") * 400,
    ('{"level":"error","msg":"' + "y" * 140 + '"}\n') * 400,
    ("\tat com.shop.App.main(App.java:21)\nCaused by: java.lang.RuntimeException: x\n") * 200,
    ("Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\nValueError: x\n") * 130,
    ('{"level":"error","msg":"x","stack_trace":"java.lang.IllegalStateException: y\\n\\tat a.B.c(B.java:1)\\n"}\n' * 600),
    "\x1b]8;;" * 10000,
    "\x1b[" * 30000,
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
def test_64k_inputs_are_fast(text):
    find(text, "logs")  # warm the regex cache
    start = time.perf_counter()
    find(text, "logs")
    assert time.perf_counter() - start < 0.05
