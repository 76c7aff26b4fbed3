"""`probectl exporter` end to end: an evolving 300-pod cluster on the local API server, a dropped
watch and a 410, /metrics parsed with prometheus_client's own parser, compared with a scan."""

from __future__ import annotations

import io
import json
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.apiserver import FakeAPIServer
from tests.conftest import probectl_exe
from tests.evolving import Cluster, EvolvingAPIServer
from tests.kube import isolate_env, kubeconfig


def http(address: str, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://{address}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def samples(address: str) -> dict[str, list]:
    status, body = http(address, "/metrics")
    assert status == 200, body
    out: dict[str, list] = {}
    for fam in text_string_to_metric_families(body):
        for s in fam.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def total(found: dict, name: str, by: str) -> Counter:
    out: Counter = Counter()
    for labels, value in found.get(name, []):
        out[labels[by]] += int(value)
    return out


def wait_for(check, timeout: float = 20.0):
    end = time.monotonic() + timeout
    while True:
        got = check()
        if got or time.monotonic() > end:
            return got
        time.sleep(0.1)


EXPECTED = Counter({"oom-killed": 1, "liveness-probe-failed": 1, "startup-probe-failed": 1, "app-error": 1 + 3,
                    "crashed-signal": 1, "evicted": 1})


def test_exporter_counts_each_restart_once_and_agrees_with_scan(tmp_path, monkeypatch, live_now, cli):
    from probectl.cli.exporter import Exporter
    from probectl.sources import cluster as cl

    isolate_env(monkeypatch, tmp_path / "home")
    c = Cluster()
    with EvolvingAPIServer(list(c.pods.values()), c.events, token="t0ken") as api:
        cfg = str(kubeconfig(tmp_path / "kubeconfig", server=api.url, token="t0ken"))
        ex = Exporter(cl.connect(cfg, None, None), namespaces=None, selector=None, listen=("127.0.0.1", 0),
                      max_series=10_000, recent=timedelta(hours=1), request_timeout=10, settle=0.3, log=io.StringIO())
        stop = threading.Event()
        result = []
        runner = threading.Thread(target=lambda: result.append(ex.run(stop)), daemon=True)
        runner.start()
        assert wait_for(lambda: ex.httpd is not None and http(ex.address, "/readyz")[0] == 200), "never ready"
        addr = ex.address
        assert http(addr, "/healthz") == (200, "ok\n")
        assert total(samples(addr), "probectl_problem_pods", "cause") == Counter({"app-error": 3, "readiness-probe-failed": 2})
        assert "probectl_container_restarts_total" not in samples(addr)  # what was wrong before is not counted

        api.apply_all(c.oom_kill())
        api.apply_all(c.liveness_kill())
        api.apply_all(c.rollout_bad_image())  # a rollout: a new pod that cannot pull, an old pod deleted
        assert wait_for(lambda: total(samples(addr), "probectl_container_restarts_total", "cause")
                        == Counter({"oom-killed": 1, "liveness-probe-failed": 1}))
        api.drop_watches()  # connections cut mid-line: resume from the last resourceVersion
        api.apply_all(c.app_error())
        api.apply_all(c.startup_kill())
        api.apply_all(c.segfault(), silent=True)  # while nobody watched ...
        api.expire()  # ... and history compacted: 410 Gone, relist
        api.apply_all(c.readiness_failure())
        api.apply_all(c.eviction())
        api.apply_all(c.graceful_delete(c.name("cart", 9)))
        api.apply_all(c.old_failures_count_up())
        wait_for(lambda: total(samples(addr), "probectl_container_restarts_total", "cause") == EXPECTED)
        api.fail_watches = True  # the API server fails for a while: 500 on every watch
        api.drop_watches()
        assert wait_for(lambda: total(samples(addr), "probectl_exporter_api_errors_total", "code")["500"] >= 1)
        api.fail_watches = False  # it recovers: the exporter retries (back-off) and resumes
        api.apply_all(c.oom_kill("svc05"))
        expected = EXPECTED + Counter({"oom-killed": 1})
        got = wait_for(lambda: total(samples(addr), "probectl_container_restarts_total", "cause") == expected and
                       total(samples(addr), "probectl_problem_pods", "cause")["readiness-probe-failed"] == 3)
        found = samples(addr)
        assert total(found, "probectl_container_restarts_total", "cause") == expected, found.get(
            "probectl_container_restarts_total")
        assert got
        time.sleep(1.0)  # anything late would be a double count
        found = samples(addr)
        assert total(found, "probectl_container_restarts_total", "cause") == expected

        # the problem pods, by cause, are what a scan taken now reports
        status, out, err = cli("scan", "-A", "-o", "json", "--kubeconfig", cfg)
        assert status == 1, err
        by_scan = Counter(json.loads(out)["summary"]["byCause"])
        assert total(found, "probectl_problem_pods", "cause") == by_scan
        assert by_scan == Counter({"app-error": 4, "readiness-probe-failed": 3, "oom-killed": 2, "liveness-probe-failed": 1,
                                   "startup-probe-failed": 1, "crashed-signal": 1, "image-pull-failed": 1, "evicted": 1}), by_scan

        # workload labels only: no pod name anywhere
        names = {p["metadata"]["name"] for p in c.pods.values()} | {p["metadata"]["name"] for p in api.pods}
        for name in ("probectl_container_restarts_total", "probectl_problem_pods"):
            for labels, _ in found[name]:
                assert not set(labels.values()) & names, labels
        assert {"namespace": "shop", "owner_kind": "Deployment", "owner": "web", "container": "api",
                "cause": "oom-killed"} in [labels for labels, _ in found["probectl_container_restarts_total"]]

        # the exporter's own health
        assert total(found, "probectl_exporter_relists_total", "resource")["pods"] >= 1
        assert total(found, "probectl_exporter_watch_reconnects_total", "resource")["pods"] >= 1
        assert total(found, "probectl_exporter_api_errors_total", "code")["410"] >= 1
        assert found["probectl_exporter_build_info"][0][1] == 1
        assert found["probectl_exporter_pods"][0][1] == len(api.pods)  # deleted pods are forgotten
        assert set(api.methods) == {"GET"}  # lists and watches only
        stop.set()
        runner.join(5)
        assert result == [0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_installed_command_serves_and_stops_on_sigterm(tmp_path, clean_env, live_now):
    c = Cluster()
    with FakeAPIServer(list(c.pods.values())[:20], [], token="t0ken") as api:
        env = {k: v for k, v in clean_env.items() if "proxy" not in k.lower()}
        env["HOME"] = str(tmp_path)
        env["KUBECONFIG"] = str(kubeconfig(tmp_path / "kubeconfig", server=api.url, token="t0ken"))
        addr = f"127.0.0.1:{free_port()}"
        proc = subprocess.Popen([probectl_exe(), "exporter", "--listen", addr], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            assert wait_for(lambda: _up(addr), 30), proc.stderr.read() if proc.poll() is not None else "not up"
            assert http(addr, "/healthz")[0] == 200
            found = samples(addr)
            assert found["probectl_exporter_ready"][0][1] == 1
            assert "process_resident_memory_bytes" in found
            assert http(addr, "/nothing")[0] == 404
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert out == "" and "serving http://" in err


def _up(addr: str) -> bool:
    try:
        return http(addr, "/readyz")[0] == 200
    except OSError:
        return False


@pytest.mark.parametrize("args", [["--listen", "nowhere"], ["--listen", "127.0.0.1:99999"], ["-n", "a", "--namespaces", "b"],
                                  ["--max-series", "0"]])
def test_bad_flags(cli, args):
    assert cli("exporter", *args)[0] == 2


def test_a_busy_port_is_one_line_and_exit_2(cli, tmp_path, monkeypatch, live_now):
    isolate_env(monkeypatch, tmp_path / "home")
    with socket.socket() as s, FakeAPIServer([], [], token="t0ken") as api:
        s.bind(("127.0.0.1", 0))
        s.listen()
        cfg = str(kubeconfig(tmp_path / "kubeconfig", server=api.url, token="t0ken"))
        status, out, err = cli("exporter", "--kubeconfig", cfg, "--listen", f"127.0.0.1:{s.getsockname()[1]}")
    assert status == 2 and err.startswith("probectl: error: --listen 127.0.0.1:") and err.count("\n") == 1


def test_an_unreachable_cluster_exits_3(cli, tmp_path, monkeypatch):
    isolate_env(monkeypatch, tmp_path / "home")
    cfg = str(kubeconfig(tmp_path / "kubeconfig", server=f"http://127.0.0.1:{free_port()}", token="t0ken"))
    status, out, err = cli("exporter", "--kubeconfig", cfg, "--listen", "127.0.0.1:0", "--request-timeout", "2s")
    assert status == 3 and "cannot reach" in err and err.count("\n") == 1
