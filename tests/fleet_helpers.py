"""A fleet for the tests and the benchmark: several local API servers (tests/apiserver.py)
and one kubeconfig naming them all, as a platform team's merged kubeconfig does."""

from __future__ import annotations

import socket
from pathlib import Path

import yaml


def dead_url() -> str:
    """The URL of a server that is gone: a port on 127.0.0.1 that was free a moment ago
    (bound, then closed), so connecting is refused at once."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


def fleet_kubeconfig(path: Path, contexts: dict[str, dict], *, current: str | None = None) -> Path:
    """A kubeconfig with one cluster, user and context per entry of `contexts`:
    name -> {"server": URL, "token": TOKEN or None, "namespace": NS or None, "ca_pem": bytes or None,
    "user": a user entry to use instead of the token}. Cluster and user names differ from the
    context names, as kubeconfigs written by cloud CLIs have them."""
    import base64

    clusters, users, ctxs = [], [], []
    for name, c in contexts.items():
        cluster: dict = {"server": c["server"]}
        if c.get("ca_pem"):
            cluster["certificate-authority-data"] = base64.b64encode(c["ca_pem"]).decode()
        clusters.append({"name": f"cluster-{name}", "cluster": cluster})
        user = c.get("user") if c.get("user") is not None else ({"token": c["token"]} if c.get("token") else {})
        users.append({"name": f"user-{name}", "user": user})
        ctx: dict = {"cluster": f"cluster-{name}", "user": f"user-{name}"}
        if c.get("namespace"):
            ctx["namespace"] = c["namespace"]
        ctxs.append({"name": name, "context": ctx})
    doc = {"apiVersion": "v1", "kind": "Config", "preferences": {}, "clusters": clusters, "contexts": ctxs, "users": users}
    if current or contexts:
        doc["current-context"] = current or next(iter(contexts))
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path
