"""End to end: the installed `probectl` against a local HTTPS API server, so TLS and
authentication are exercised for real (what `responses` skips)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.apiserver import FakeAPIServer
from tests.conftest import probectl_exe
from tests.kube import b64, kubeconfig
from tests.scenarios import BY_NAME

OOM = BY_NAME["oom_killed_crashloop"]
POD = OOM.pod["metadata"]["name"]


def run(env, *args, timeout=60):
    return subprocess.run([probectl_exe(), *args], capture_output=True, text=True, env=env, timeout=timeout)


@pytest.fixture
def env(tmp_path, clean_env):
    e = {k: v for k, v in clean_env.items() if "proxy" not in k.lower() and k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    e["HOME"] = str(tmp_path / "home")
    e["NO_COLOR"] = "1"
    return e


def test_why_over_https_with_ca_and_token(tmp_path, env, tls):
    logs = {("shop", POD, "api", True): ["loading model", "allocated 240Mi", "allocated 250Mi"]}
    with FakeAPIServer([OOM.pod], OOM.events, token="s3cret-e2e", tls=tls["server"], logs=logs) as api:
        env["KUBECONFIG"] = str(kubeconfig(tmp_path / "kubeconfig", server=api.url, ca_pem=tls["ca"], token="s3cret-e2e"))
        r = run(env, "why", POD, "--logs", "2")
        assert r.returncode == 1, r.stderr
        assert "Verdict: oom-killed" in r.stdout
        assert "allocated 250Mi" in r.stdout and "loading model" not in r.stdout
        paths = [p for p, _, _ in api.requests]
        assert paths == [f"/api/v1/namespaces/shop/pods/{POD}", "/api/v1/namespaces/shop/events",
                         f"/api/v1/namespaces/shop/pods/{POD}/log"]
        assert all(h.get("Authorization") == "Bearer s3cret-e2e" for _, _, h in api.requests)

        j = run(env, "why", POD, "-o", "json")
        assert j.returncode == 1 and json.loads(j.stdout)["cause"] == "oom-killed"


def test_client_certificate_authentication(tmp_path, env, tls):
    user = {"client-certificate-data": b64(tls["client_cert"]), "client-key-data": b64(tls["client_key"])}
    with FakeAPIServer([OOM.pod], OOM.events, token=None, tls=tls["server"], client_ca=tls["ca"]) as api:
        env["KUBECONFIG"] = str(kubeconfig(tmp_path / "kubeconfig", server=api.url, ca_pem=tls["ca"], user_entry=user))
        r = run(env, "why", POD, "-o", "json")
        assert r.returncode == 1, r.stderr
        assert json.loads(r.stdout)["pod"]["name"] == POD


def test_unknown_ca_fails_tls_verification(tmp_path, env, tls):
    import trustme

    other = trustme.CA().cert_pem.bytes()
    with FakeAPIServer([OOM.pod], OOM.events, tls=tls["server"]) as api:
        env["KUBECONFIG"] = str(kubeconfig(tmp_path / "kubeconfig", server=api.url, ca_pem=other, token="t0ken"))
        r = run(env, "why", POD)
        assert r.returncode == 3 and r.stdout == ""
        assert "TLS verification failed" in r.stderr and "CERTIFICATE_VERIFY_FAILED" in r.stderr
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_requests_ca_bundle_does_not_replace_the_cluster_ca(tmp_path, env, tls):
    import trustme

    bogus = tmp_path / "other-ca.pem"
    bogus.write_bytes(trustme.CA().cert_pem.bytes())
    env["REQUESTS_CA_BUNDLE"] = str(bogus)
    with FakeAPIServer([OOM.pod], OOM.events, tls=tls["server"]) as api:
        env["KUBECONFIG"] = str(kubeconfig(tmp_path / "kubeconfig", server=api.url, ca_pem=tls["ca"], token="t0ken"))
        assert run(env, "why", POD).returncode == 1


def test_expired_token_is_401(tmp_path, env, tls):
    with FakeAPIServer([OOM.pod], OOM.events, token="new-token", tls=tls["server"]) as api:
        env["KUBECONFIG"] = str(kubeconfig(tmp_path / "kubeconfig", server=api.url, ca_pem=tls["ca"], token="old-token"))
        r = run(env, "why", POD)
        assert r.returncode == 3 and "401 Unauthorized" in r.stderr and "log in again" in r.stderr


def test_connection_refused(tmp_path, env):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    env["KUBECONFIG"] = str(kubeconfig(tmp_path / "kubeconfig", server=f"https://127.0.0.1:{port}", token="t0ken"))
    r = run(env, "why", POD)
    assert r.returncode == 3 and "connection refused" in r.stderr and f"127.0.0.1:{port}" in r.stderr


def test_kubectl_plugin_against_the_server(tmp_path, env, tls):
    from pathlib import Path

    plugin = Path(probectl_exe()).parent / "kubectl-probectl"
    with FakeAPIServer([OOM.pod], OOM.events, tls=tls["server"]) as api:
        env["KUBECONFIG"] = str(kubeconfig(tmp_path / "kubeconfig", server=api.url, ca_pem=tls["ca"], token="t0ken"))
        r = subprocess.run([str(plugin), "why", POD, "-n", "shop", "-o", "json"], capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode == 1, r.stderr
        assert json.loads(r.stdout)["cause"] == "oom-killed"
