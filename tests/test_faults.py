"""The fault matrix (docs/guarantees.md): every failure ends in a verdict with a visible
warning or in one clear line and exit code 3 — never a traceback, never a partial table.

HTTP-level cases use `responses`; network-level ones a local server on 127.0.0.1."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time

import pytest
import responses

from tests.apiserver import FakeAPIServer
from tests.conftest import probectl_exe
from tests.kube import SERVER, isolate_env, kubeconfig
from tests.scan_fixtures import small_cluster, write_dump
from tests.scenarios import BY_NAME

OOM = BY_NAME["oom_killed_crashloop"]
POD = OOM.pod["metadata"]["name"]
POD_URL = f"{SERVER}/api/v1/namespaces/shop/pods/{POD}"
EVENTS_URL = f"{SERVER}/api/v1/namespaces/shop/events"


@pytest.fixture
def kcfg(tmp_path, monkeypatch):
    isolate_env(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "home" / "config")))


@pytest.fixture
def no_sleep(monkeypatch):
    slept = []
    monkeypatch.setattr("probectl.sources.http.time.sleep", lambda s: slept.append(s))
    return slept


def one_line_exit_3(status, out, err):
    assert status == 3, err
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err


@responses.activate
def test_429_without_retry_after_backs_off_then_fails(cli, kcfg, no_sleep):
    for _ in range(4):
        responses.get(POD_URL, status=429, body="Too many requests, please try again later.\n", content_type="text/plain")
    one_line_exit_3(*cli("why", POD))
    assert no_sleep == [0.5, 1.0, 2.0]


@responses.activate
def test_retry_after_is_capped(cli, kcfg, no_sleep):
    responses.get(POD_URL, status=429, body="slow down", headers={"Retry-After": "3600"})
    responses.get(POD_URL, json=OOM.pod)
    responses.get(EVENTS_URL, json={"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": []})
    assert cli("why", POD)[0] == 1
    assert no_sleep == [10.0]


@pytest.mark.parametrize("code", [500, 502, 503, 504])
@responses.activate
def test_5xx_retried_then_answered(cli, kcfg, no_sleep, code):
    responses.get(POD_URL, status=code, body="<html>upstream error</html>", content_type="text/html")
    responses.get(POD_URL, json=OOM.pod)
    responses.get(EVENTS_URL, json={"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": []})
    status, out, _ = cli("why", POD, "-o", "json")
    assert status == 1 and json.loads(out)["cause"] == "oom-killed"
    assert len(no_sleep) == 1


@responses.activate
def test_truncated_json_body(cli, kcfg):
    responses.get(POD_URL, body='{"kind": "Pod", "metadata": {"name": "web', content_type="application/json")
    status, out, err = cli("why", POD)
    one_line_exit_3(status, out, err)
    assert "not JSON, or cut short" in err


@responses.activate
def test_debug_redacts_credentials(cli, kcfg):
    responses.get(POD_URL, json=OOM.pod)
    responses.get(EVENTS_URL, json={"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": []})
    status, _, err = cli("why", POD, "--debug")
    assert status == 1
    assert f"GET {POD_URL}" in err and "Bearer <redacted>" in err
    assert "t0ken-prod" not in err


# ------------------------------------------------------------------ auth (SelfSubjectAccessReview)

SSAR = f"{SERVER}/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


def _ssar_callback(denied: set[str]):
    def cb(request):
        attrs = json.loads(request.body)["spec"]["resourceAttributes"]
        perm = f"{attrs['verb']} {attrs['resource']}" + (f"/{attrs['subresource']}" if attrs.get("subresource") else "") + (
            f" ({attrs['group']})" if attrs.get("group") else "")
        allowed = perm not in denied
        status = {"allowed": allowed} | ({} if allowed else {"reason": ""})
        if allowed:
            status["reason"] = 'RBAC: allowed by RoleBinding "probectl-reader/shop" of ClusterRole "probectl-reader" to User "jane"'
        return 201, {}, json.dumps({"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                                    "spec": {"resourceAttributes": attrs}, "status": status})
    return cb


@responses.activate
def test_auth_all_granted(cli, kcfg):
    responses.add_callback(responses.POST, SSAR, callback=_ssar_callback(set()))
    status, out, _ = cli("auth", "-o", "json")
    assert status == 0
    doc = json.loads(out)
    assert doc["kind"] == "AccessReport" and doc["namespace"] == "shop"
    assert [i["permission"] for i in doc["items"]][:6] == ["get pods", "list pods", "list events", "get pods/log",
                                                          "watch pods", "watch events"]
    assert "list deployments (apps)" in [i["permission"] for i in doc["items"]]
    body = json.loads(responses.calls[3].request.body)
    assert body["spec"]["resourceAttributes"] == {"verb": "get", "resource": "pods", "group": "", "namespace": "shop", "subresource": "log"}


@responses.activate
def test_auth_reports_what_is_missing(cli, kcfg):
    responses.add_callback(responses.POST, SSAR, callback=_ssar_callback({"list events", "get pods/log"}))
    status, out, _ = cli("auth")
    assert status == 1
    assert "list events" in out and "NO" in out and "probe failures" in out


@responses.activate
def test_auth_cluster_wide(cli, kcfg):
    responses.add_callback(responses.POST, SSAR, callback=_ssar_callback(set()))
    assert cli("auth", "-A")[0] == 0
    assert "namespace" not in json.loads(responses.calls[0].request.body)["spec"]["resourceAttributes"]


# ------------------------------------------------------------------ local loopback server


def _env(tmp_path, clean_env, server_url, **kw):
    env = {k: v for k, v in clean_env.items() if "proxy" not in k.lower()}
    env["HOME"] = str(tmp_path / "home")
    env["KUBECONFIG"] = str(kubeconfig(tmp_path / "kubeconfig", server=server_url, token="t0ken", **kw))
    return env


def test_read_timeout_in_the_middle_of_a_list(tmp_path, clean_env):
    pods, events = small_cluster()
    with FakeAPIServer(pods, events, page_size_cap=20) as api:
        api.slow["/api/v1/pods?continue=40"] = 5  # the third page hangs
        env = _env(tmp_path, clean_env, api.url)
        r = subprocess.run([probectl_exe(), "scan", "-A", "--request-timeout", "1s"], capture_output=True, text=True,
                           env=env, timeout=60)
    assert r.returncode == 3
    assert r.stdout == ""  # no partial table presented as complete
    assert "did not answer within 1s" in r.stderr and "Traceback" not in r.stderr


def test_body_cut_short_by_the_server(tmp_path, clean_env):
    pods, events = small_cluster()
    with FakeAPIServer(pods, events) as api:
        api.truncate.add("/api/v1/pods")
        env = _env(tmp_path, clean_env, api.url)
        r = subprocess.run([probectl_exe(), "scan", "-A"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 3 and r.stdout == ""
    assert "cut short" in r.stderr and "Traceback" not in r.stderr


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_proxy_error(tmp_path, clean_env):
    pods, events = small_cluster()
    with FakeAPIServer(pods, events) as api:
        env = _env(tmp_path, clean_env, api.url, cluster_extra={"proxy-url": f"http://127.0.0.1:{_closed_port()}"})
        r = subprocess.run([probectl_exe(), "why", POD], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 3 and "proxy" in r.stderr and "Traceback" not in r.stderr


def test_forbidden_events_and_logs_against_the_server(tmp_path, clean_env):
    with FakeAPIServer([OOM.pod], OOM.events) as api:
        api.forbidden |= {"events", "pods/log"}
        env = _env(tmp_path, clean_env, api.url)
        r = subprocess.run([probectl_exe(), "why", POD, "--logs", "5"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 1, r.stderr
    assert "Verdict: oom-killed" in r.stdout  # OOMKilled needs no events
    assert "Events could not be read" in r.stdout and "logs could not be read" in r.stdout


def test_ctrl_c_exits_130_cleanly(tmp_path, clean_env):
    pods, events = small_cluster()
    with FakeAPIServer(pods, events, latency=3) as api:
        env = _env(tmp_path, clean_env, api.url)
        proc = subprocess.Popen([probectl_exe(), "scan", "-A"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        deadline = time.time() + 20
        while not api.requests and time.time() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "Traceback" not in err and out == ""


def test_closed_pipe_is_quiet(tmp_path, clean_env):
    dump = write_dump(tmp_path / "dump", *small_cluster())
    r = subprocess.run(f"'{probectl_exe()}' scan -f '{dump}' -A --all -o yaml | head -1", shell=True, capture_output=True,
                       text=True, env=clean_env, timeout=60)
    assert r.returncode == 0 and r.stdout.strip()
    assert "Traceback" not in r.stderr and "Broken pipe" not in r.stderr and r.stderr == ""


# ------------------------------------------------------------------ bad local input


def test_600mb_of_nothing_is_refused_from_its_head(tmp_path, cli):
    big = tmp_path / "huge.json"
    with open(big, "wb") as f:
        f.truncate(600 * 1024 * 1024)  # sparse: no disk, no memory
    t0 = time.monotonic()
    status, out, err = cli("why", "-f", str(big))
    assert status == 2 and "binary data" in err
    assert time.monotonic() - t0 < 5


def test_one_absurdly_large_object_is_a_clear_error(tmp_path, cli, monkeypatch):
    from probectl.sources import jsonstream

    monkeypatch.setattr(jsonstream, "MAX_OBJECT", 64 * 1024)
    monkeypatch.setattr(jsonstream, "BLOCK", 4096)
    f = tmp_path / "pods.json"
    f.write_text(json.dumps({"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": "x" * 100_000}}]}))
    status, out, err = cli("scan", "-f", str(f))
    assert status == 2 and "a single object larger than 0 MiB" in err and "not kubectl output" in err
    assert "Traceback" not in err


def test_yaml_beyond_the_whole_document_limit(tmp_path, cli, monkeypatch):
    from probectl.sources import files

    monkeypatch.setattr(files, "MAX_YAML_BYTES", 1024)
    f = tmp_path / "pods.yaml"
    f.write_text("kind: List\nitems:\n" + "- kind: Pod\n  metadata: {name: web}\n" * 100)
    status, out, err = cli("scan", "-f", str(f))
    assert status == 2 and "YAML larger than" in err and "-o json" in err


def test_200mb_binary_file_is_refused_from_its_head(tmp_path, cli):
    big = tmp_path / "core.dump"
    with open(big, "wb") as f:
        f.truncate(200 * 1024 * 1024)
    t0 = time.monotonic()
    status, out, err = cli("why", "-f", str(big))
    assert status == 2 and "binary data" in err
    assert time.monotonic() - t0 < 5  # only the head was read


def test_yaml_alias_bomb(tmp_path, cli):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [*a{i-1},*a{i-1},*a{i-1},*a{i-1},*a{i-1},*a{i-1},*a{i-1},*a{i-1},*a{i-1}]" for i in range(1, 10)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    status, out, err = cli("why", "-f", str(bomb))
    assert status == 2 and "aliases are not accepted" in err


def test_wrongly_typed_fields(tmp_path, cli):
    f = tmp_path / "odd.json"
    f.write_text(json.dumps({"kind": "Pod", "metadata": {"name": 5, "namespace": ["x"]}, "spec": "nope", "status": 7}))
    status, out, err = cli("why", "-f", str(f), "-o", "json")
    assert status == 1 and err == ""
    doc = json.loads(out)
    assert doc["cause"] == "unknown" and doc["confidence"] == "low"
    assert any("incomplete" in w for w in doc["warnings"])
