"""deploy/: the exporter's manifests are valid and read-only, the alerts and the dashboard name
only metrics and labels the exporter really exposes, the Dockerfile is pinned and non-root."""

from __future__ import annotations

import io
import json
import re
import threading
from datetime import timedelta

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from probectl.core.model import Cause
from tests.conftest import ROOT
from tests.evolving import Cluster
from tests.kube import isolate_env, kubeconfig

DEPLOY = ROOT / "deploy"


def manifest() -> list[dict]:
    return [d for d in yaml.safe_load_all((DEPLOY / "exporter.yaml").read_text()) if d]


def one(kind: str) -> dict:
    return next(d for d in manifest() if d["kind"] == kind)


def test_exporter_manifest_is_valid():
    kv = pytest.importorskip("kubernetes_validate")
    for d in manifest():
        kv.validate(d, "1.32", strict=True)


def test_exporter_asks_for_nothing_beyond_get_list_watch_on_pods_and_events():
    kinds = [d["kind"] for d in manifest()]
    assert "Role" not in kinds and kinds.count("ClusterRole") == 1
    rules = one("ClusterRole")["rules"]
    grants = {(g, r, v) for rule in rules for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}
    assert grants == {("", r, v) for r in ("pods", "events") for v in ("get", "list", "watch")}
    assert not any(rule.get("nonResourceURLs") or rule.get("resourceNames") for rule in rules)
    binding = one("ClusterRoleBinding")
    assert binding["roleRef"]["name"] == one("ClusterRole")["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": one("ServiceAccount")["metadata"]["name"],
                                    "namespace": one("ServiceAccount")["metadata"]["namespace"]}]


def test_the_deployment_runs_as_users_expect():
    from probectl.cli.exporter import DEFAULT_PORT

    dep = one("Deployment")
    pod = dep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    assert dep["spec"]["replicas"] == 1 and dep["spec"]["strategy"]["type"] == "Recreate"
    assert c["args"][0] == "exporter" and c["ports"][0]["containerPort"] == DEFAULT_PORT
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz" and c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert c["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]}}
    assert c["resources"]["requests"] and c["resources"]["limits"]["memory"]
    assert pod["serviceAccountName"] == one("ServiceAccount")["metadata"]["name"]
    svc = one("Service")
    assert svc["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]
    monitor = yaml.safe_load((DEPLOY / "servicemonitor.yaml").read_text())
    assert monitor["spec"]["endpoints"][0]["port"] == svc["spec"]["ports"][0]["name"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()


def test_the_dockerfile_is_pinned_and_non_root():
    text = (ROOT / "Dockerfile").read_text()
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert froms and all(re.fullmatch(r"python:3\.\d+\.\d+-slim-\w+", f) for f in froms), froms
    user = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert user and user[-1].split(":")[0] not in ("0", "root")
    assert re.search(r'^ENTRYPOINT \["probectl"\]', text, re.M)


# ------------------------------------------------------------------ alerts and dashboard vs. the real exposition


@pytest.fixture(scope="module")
def exposed(tmp_path_factory):
    """Metric name -> label names, from a real scrape of the exporter (prometheus_client's parser)."""
    import urllib.request

    from probectl.cli.exporter import Exporter
    from probectl.sources import cluster as cl
    from tests.evolving import EvolvingAPIServer

    mp = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("exposed")
    isolate_env(mp, tmp / "home")
    c = Cluster()
    try:
        with EvolvingAPIServer(list(c.pods.values()), c.events, token="t0ken") as api:
            cfg = str(kubeconfig(tmp / "kubeconfig", server=api.url, token="t0ken"))
            ex = Exporter(cl.connect(cfg, None, None), namespaces=None, selector=None, listen=("127.0.0.1", 0),
                          max_series=100, recent=timedelta(hours=1), request_timeout=10, settle=0.0, log=io.StringIO())
            stop = threading.Event()
            threading.Thread(target=ex.run, args=(stop,), daemon=True).start()
            import time

            for _ in range(200):
                if ex.httpd is not None and ex.health.ready:
                    break
                time.sleep(0.05)
            api.apply_all(c.oom_kill())
            api.expire()  # a relist, so that every health family has a sample
            time.sleep(1.5)
            with urllib.request.urlopen(f"http://{ex.address}/metrics", timeout=5) as r:
                body = r.read().decode()
            stop.set()
    finally:
        mp.undo()
    names: dict[str, set[str]] = {}
    for fam in text_string_to_metric_families(body):
        for s in fam.samples:
            names.setdefault(s.name, set()).update(s.labels)
    return names


def _alert_exprs() -> list[str]:
    doc = yaml.safe_load((DEPLOY / "alerts.yaml").read_text())
    return [r["expr"] for g in doc["spec"]["groups"] for r in g["rules"]]


def _dashboard_exprs() -> list[str]:
    dash = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    return [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]


def _check(expr: str, exposed: dict[str, set[str]]) -> None:
    metrics = re.findall(r"\b((?:probectl|process)_[a-z_]+)\b", expr)
    assert metrics, expr
    for metric in metrics:
        assert metric in exposed, f"{metric} is not exposed by the exporter: {expr}"
    allowed = set().union(*(exposed[m] for m in metrics)) | {"job"}
    for group in re.findall(r"\bby \(([^)]*)\)", expr):
        for label in (x.strip() for x in group.split(",")):
            assert label in allowed, f"label {label!r} is not on {metrics}: {expr}"
    for label, _op, value in re.findall(r'(\w+)\s*(=~|!~|=|!=)\s*"([^"]*)"', expr):
        assert label in allowed, f"label {label!r} is not on {metrics}: {expr}"
        if label == "cause":
            assert set(value.split("|")) <= {c.value for c in Cause}, value


def test_every_alert_names_real_metrics_and_labels(exposed):
    exprs = _alert_exprs()
    assert len(exprs) >= 4
    for expr in exprs:
        _check(expr, exposed)
    joined = "\n".join(exprs)
    for cause in ("oom-killed", "liveness-probe-failed", "image-pull-failed"):  # the example alerts
        assert f'cause="{cause}"' in joined


def test_the_dashboard_names_real_metrics_and_labels(exposed):
    for expr in _dashboard_exprs():
        _check(expr.replace("$__rate_interval", "5m").replace('"$namespace"', '"shop"'), exposed)
