"""`probectl why` loads the configuration through the kubernetes package without importing
all of it; anything else that uses the package later gets all of it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import ROOT
from tests.kube import kubeconfig


def _run(code: str, tmp_path) -> str:
    cfg = kubeconfig(tmp_path / "config")
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                       timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KUBECONFIG": str(cfg)})
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_a_token_kubeconfig_loads_without_the_api_models(tmp_path):
    out = _run("""
        import sys
        from probectl.sources import cluster as cl
        conn = cl.connect(None, None, None)
        print(conn.target.server, conn.configuration.api_key)
        heavy = [m for m in ("kubernetes.client.api_client", "kubernetes.client.models", "kubernetes.dynamic",
                             "kubernetes.watch", "pydantic", "oauthlib.oauth2.rfc6749") if m in sys.modules]
        print("heavy:", heavy)
        import kubernetes  # a later user of the package gets all of it
        from kubernetes import client
        print(kubernetes.__version__ != "", client.CoreV1Api.__name__, kubernetes.watch.Watch.__name__)
        print(client.ApiClient(configuration=conn.configuration).__class__.__module__)
    """, tmp_path)
    assert "https://k8s.example.test:6443" in out and "t0ken-prod" in out
    assert "heavy: []" in out
    assert "True CoreV1Api Watch" in out and "kubernetes.client.api_client" in out


def test_when_the_shortcut_does_not_fit_the_package_is_imported_whole(tmp_path):
    out = _run("""
        import sys
        from probectl.sources import cluster as cl
        from probectl.sources import kubeconfig as kc
        kc._PARTIAL = kc._PARTIAL + ("no_such_package_here",)  # read where it lives
        conn = cl.connect(None, None, None)
        print(conn.target.server, type(sys.modules["kubernetes"]).__name__, "no_such_package_here" in sys.modules)
    """, tmp_path)
    assert "https://k8s.example.test:6443 module False" in out
