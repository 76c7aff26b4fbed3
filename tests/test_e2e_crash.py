"""End to end, issue "explain app errors": crashing pods whose logs hold Python, Java, Go and
Node.js failures (some with the log's tail in the termination message, as
terminationMessagePolicy FallbackToLogsOnError leaves it), served by the local API server.
`why` names the kind and the line with at most one log request per container, `--no-logs`
makes none, and `scan` explains every failing group with at most one log read per group.

The log texts are the runtimes' own (CPython Lib/traceback.py, OpenJDK Throwable's
printStackTrace, Go runtime printpanics, Node.js 20 uncaught errors), as tests/test_crash.py
pins them."""

from __future__ import annotations

import json
import subprocess

from tests import builders as b
from tests.apiserver import FakeAPIServer
from tests.conftest import probectl_exe
from tests.kube import kubeconfig

PYTHON = """\
2026-12-01 10:00:01,002 INFO starting orders worker
Traceback (most recent call last):
  File "/app/worker.py", line 41, in <module>
    main()
  File "/app/worker.py", line 12, in main
    dsn = os.environ["DATABASE_URL"]
          ~~~~~~~~~~^^^^^^^^^^^^^^^^
  File "<frozen os>", line 679, in __getitem__
KeyError: 'DATABASE_URL'"""

JAVA = """\
10:00:03.120 [main] INFO  com.example.Billing - Starting Billing v2.3.1
Exception in thread "main" java.lang.IllegalStateException: Failed to start billing
\tat com.example.Billing.start(Billing.java:88)
\tat com.example.Billing.main(Billing.java:31)
Caused by: org.postgresql.util.PSQLException: Connection to db:5432 refused.
\tat org.postgresql.core.v3.ConnectionFactoryImpl.openConnectionImpl(ConnectionFactoryImpl.java:342)
\t... 2 more
Caused by: java.net.ConnectException: Connection refused
\tat java.base/sun.nio.ch.Net.pollConnect(Native Method)
\t... 9 more"""

GO = """\
{"level":"info","ts":1764583200.1,"msg":"loading config"}
panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x6b3c2e]

goroutine 1 [running]:
main.(*Server).Start(0x0)
\t/src/server.go:57 +0x2e
main.main()
\t/src/main.go:22 +0x95
exit status 2"""

NODE = """\
node:internal/process/promises:289
            triggerUncaughtException(err, true /* fromPromise */);
            ^

Error: getaddrinfo ENOTFOUND redis-master
    at GetAddrInfoReqWrap.onlookup [as oncomplete] (node:dns:107:26) {
  errno: -3008,
  code: 'ENOTFOUND',
  syscall: 'getaddrinfo',
  hostname: 'redis-master'
}

Node.js v20.11.1"""

# pod name -> (language, exit code, log text, in the termination message?, expected kind, expected line)
CRASHERS = {
    "orders-6d5b8c7f4-py001": ("python", 1, PYTHON, False, "missing-environment-variable", "KeyError: 'DATABASE_URL'"),
    "billing-7c6d5e4f3-jv001": ("java", 1, JAVA, True, "connection-refused", "Caused by: java.net.ConnectException: Connection refused"),
    "gateway-5b4c3d2e1-go001": ("go", 2, GO, False, "go-panic",
                                "panic: runtime error: invalid memory address or nil pointer dereference"),
    "sessions-4a3b2c1d0-js001": ("node", 1, NODE, True, "dns-lookup-failed", "Error: getaddrinfo ENOTFOUND redis-master"),
}



def _cluster():
    pods, logs = [], {}
    for name, (lang, code, text, in_message, _kind, _line) in CRASHERS.items():
        for replica in ("1", "2"):  # two replicas of one ReplicaSet: one group, one log read for it
            pname = name[:-1] + replica
            p = b.pod(pname, [b.spec("app", image=f"registry.example.com/shop/{lang}-app:1.0")],
                      [b.status("app", None, b.terminated(code, "Error", 30, 20, message=text[-2048:] if in_message else None),
                                restarts=5, image=f"registry.example.com/shop/{lang}-app:1.0")])
            p["spec"]["containers"][0]["terminationMessagePolicy"] = "FallbackToLogsOnError" if in_message else "File"
            p["status"]["containerStatuses"][0]["state"] = b.crashloop_wait(p, "app")
            pods.append(p)
            logs[("shop", pname, "app", True)] = text.splitlines()
    healthy = b.pod("api-6b7c8d9e0-ok001", [b.spec("api")], [b.status("api", b.running(50000), ready=True)], created=60000)
    return pods + [healthy], logs


def _env(tmp_path, clean_env, api):
    env = {k: v for k, v in clean_env.items() if "proxy" not in k.lower()}
    env.update(HOME=str(tmp_path), NO_COLOR="1",
               KUBECONFIG=str(kubeconfig(tmp_path / "kubeconfig", server=api.url, token="t0ken")))
    return env


def _run(env, *args):
    return subprocess.run([probectl_exe(), *args], capture_output=True, text=True, env=env, timeout=90)


def _log_requests(api) -> list[str]:
    return [p for p, _, _ in api.requests if p.endswith("/log")]


def test_why_names_the_kind_and_line_with_one_log_request_at_most(tmp_path, clean_env, live_now):
    pods, logs = _cluster()
    with FakeAPIServer(pods, [], token="t0ken", logs=logs) as api:
        env = _env(tmp_path, clean_env, api)
        for name, (_lang, _code, _text, in_message, kind, line) in CRASHERS.items():
            before = len(api.requests)
            r = _run(env, "why", name, "-n", "shop", "-o", "json")
            assert r.returncode == 1, r.stderr
            app = json.loads(r.stdout)["containers"][0]
            assert app["crash"]["kind"] == kind, (name, app["crash"])
            assert app["crash"]["line"] == line
            assert app["crash"]["source"] == ("termination-message" if in_message else "previous-logs")
            made = [p for p, _, _ in api.requests[before:] if p.endswith("/log")]
            assert len(made) == (0 if in_message else 1), name  # the termination message needs no request
            text = _run(env, "why", name, "-n", "shop")
            assert f"The line that says why ({kind}" in text.stdout and line[:40] in text.stdout

        before = len(api.requests)
        quiet = _run(env, "why", "orders-6d5b8c7f4-py001", "-n", "shop", "--no-logs", "-o", "json")
        assert json.loads(quiet.stdout)["containers"][0]["crash"] is None
        assert not [p for p, _, _ in api.requests[before:] if p.endswith("/log")]


def test_scan_explains_every_failing_group_with_one_log_read_per_group(tmp_path, clean_env, live_now):
    pods, logs = _cluster()
    with FakeAPIServer(pods, [], token="t0ken", logs=logs) as api:
        env = _env(tmp_path, clean_env, api)
        r = _run(env, "scan", "-n", "shop", "-o", "json")
        assert r.returncode == 1, r.stderr
        doc = json.loads(r.stdout)
        needing = [n for n, v in CRASHERS.items() if not v[3]]
        assert len(_log_requests(api)) == len(needing) == doc["summary"]["scope"]["logRequests"]
        by_group: dict[str, list] = {}
        for item in doc["items"]:
            owner = item["pod"]["owner"]["name"]
            by_group.setdefault(owner, []).append(item["containers"][0]["crash"])
        assert len(by_group) == len(CRASHERS)
        for name, (_l, _c, _t, _m, kind, line) in CRASHERS.items():
            owner = name.split("-")[0]  # the Deployment (its ReplicaSet carries the pod-template-hash)
            explained = [c for c in by_group[owner] if c]
            assert explained and explained[0]["kind"] == kind and explained[0]["line"] == line, owner
        table = _run(env, "scan", "-n", "shop").stdout
        for _l, _c, _t, _m, kind, line in CRASHERS.values():
            assert f"{kind}: {line}"[:60] in table
        api.requests.clear()
        _run(env, "scan", "-n", "shop", "--no-logs")
        assert not _log_requests(api)
