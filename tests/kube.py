"""Kubeconfig files and certificates for the cluster tests, written as kubectl users have them."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import yaml

SERVER = "https://k8s.example.test:6443"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def kubeconfig(path: Path, *, server: str = SERVER, context: str = "prod", cluster: str = "prod-cluster",
               user: str = "prod-admin", namespace: str | None = "shop", current: bool = True,
               cluster_extra: dict | None = None, user_entry: dict | None = None, ca_pem: bytes | None = None,
               token: str | None = "t0ken-prod") -> Path:
    cl: dict = {"server": server}
    if ca_pem is not None:
        cl["certificate-authority-data"] = b64(ca_pem)
    cl.update(cluster_extra or {})
    if user_entry is None:
        user_entry = {"token": token} if token else {}
    ctx: dict = {"cluster": cluster, "user": user}
    if namespace:
        ctx["namespace"] = namespace
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": cluster, "cluster": cl}],
        "contexts": [{"name": context, "context": ctx}],
        "users": [{"name": user, "user": user_entry}],
    }
    if current:
        doc["current-context"] = context
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def exec_plugin(path: Path, *, token: str | None = None, fail: str | None = None) -> Path:
    """An exec credential plugin script: prints an ExecCredential with a token, or fails."""
    if fail:
        body = f"#!/bin/sh\necho '{fail}' >&2\nexit 1\n"
    else:
        cred = {"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                "status": {"token": token, "expirationTimestamp": "2099-01-01T00:00:00Z"}}
        body = f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(cred)}\nEOF\n"
    path.write_text(body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def exec_user(command: Path) -> dict:
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(command), "args": [],
                     "interactiveMode": "Never", "provideClusterInfo": False}}


def isolate_env(monkeypatch, home: Path) -> None:
    """No kubeconfig, proxy or CA bundle of the machine's may leak into a test."""
    for var in ("KUBECONFIG", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy",
                "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "POD_NAMESPACE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    os.makedirs(home, exist_ok=True)
