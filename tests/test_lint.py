"""`probectl lint`: each rule positive and negative, the manifest loader, the formats."""

from __future__ import annotations

import copy
import json

import pytest
import responses
from lxml import etree

from probectl.core import lint as core
from tests.builders import NOW, event, http_probe, running, spec, status, terminated, timeout_msg
from tests.builders import pod as make_pod
from tests.conftest import ROOT
from tests.kube import SERVER, isolate_env, kubeconfig
from tests.scenarios import BY_NAME


def deployment(*containers, grace=None, name="web") -> dict:
    pod_spec = {"containers": list(containers)}
    if grace is not None:
        pod_spec["terminationGracePeriodSeconds"] = grace
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec}}}


GOOD = spec("api", liveness=http_probe("/livez", failures=3), readiness=http_probe("/ready", failures=2))


def rules_of(obj) -> list[str]:
    return sorted(f.rule for f in core.lint_static(obj))


def test_a_good_deployment_has_no_findings():
    assert rules_of(deployment(GOOD)) == []


@pytest.mark.parametrize(
    "rule,bad",
    [
        ("PL001", spec("api", liveness=http_probe("/healthz"), readiness=http_probe("/healthz"))),
        ("PL002", spec("api", liveness=http_probe("/livez"))),
        ("PL003", spec("api", liveness=http_probe("/livez", delay=120), readiness=http_probe("/ready", failures=2))),
        ("PL004", spec("api", liveness=http_probe("/livez", failures=1), readiness=http_probe("/ready", failures=2))),
        ("PL005", spec("api", liveness=http_probe("/livez", timeout=10, period=10), readiness=http_probe("/ready", failures=2))),
        ("PL006", spec("api", liveness=http_probe("/livez", port="web"), readiness=http_probe("/ready", failures=2))),
        ("PL006", spec("api", liveness=http_probe("/livez", port=9090), readiness=http_probe("/ready", failures=2))),
        ("PL007", spec("api", memory=None, liveness=http_probe("/livez"), readiness=http_probe("/ready", failures=2))),
    ],
)
def test_static_rule_fires(rule, bad):
    assert rule in rules_of(deployment(bad))


def test_pl005_fix_never_suggests_the_value_it_flags():
    for timeout, period, fix in ((10, 10, "timeoutSeconds: 5 or periodSeconds: 20"),
                                 (1, 1, "periodSeconds: 2 (timeoutSeconds cannot go below 1)")):
        c = spec("api", liveness=http_probe("/livez", timeout=timeout, period=period), readiness=http_probe("/ready", failures=2))
        found = [f for f in core.lint_static(deployment(c)) if f.rule == "PL005"]
        assert found and fix in found[0].fix, found[0].fix


def test_pl008_prestop_sleep_and_grace():
    c = copy.deepcopy(GOOD)
    c["lifecycle"] = {"preStop": {"exec": {"command": ["/bin/sh", "-c", "sleep 20"]}}}
    assert "PL008" in rules_of(deployment(c, grace=15))
    assert "PL008" not in rules_of(deployment(c, grace=60))
    c["lifecycle"] = {"preStop": {"sleep": {"seconds": 40}}}  # the PreStop sleep action
    assert "PL008" in rules_of(deployment(c))  # default grace 30s
    f = next(f for f in core.lint_static(deployment(c)) if f.rule == "PL008")
    assert "terminationGracePeriodSeconds: 70" in f.fix


def test_negatives_next_to_positives():
    assert "PL003" not in rules_of(deployment(spec("api", liveness=http_probe("/livez", delay=120), readiness=http_probe("/r"),
                                                    startup=http_probe("/livez", failures=30))))
    assert "PL006" not in rules_of(deployment(spec("api", liveness=http_probe("/livez", port="http"), readiness=http_probe("/r"))))
    assert "PL006" not in rules_of(deployment(spec("api", ports=(), liveness=http_probe("/livez", port=9090), readiness=http_probe("/r"))))
    assert "PL002" not in rules_of(deployment(spec("api", readiness=http_probe("/r"))))
    assert "PL005" not in rules_of(deployment(spec("api", liveness=http_probe("/l", timeout=2, period=10), readiness=http_probe("/r"))))


def test_named_port_finding_is_critical_number_is_warning():
    named = core.lint_static(deployment(spec("api", liveness=http_probe("/l", port="web"), readiness=http_probe("/r"))))
    number = core.lint_static(deployment(spec("api", liveness=http_probe("/l", port=9090), readiness=http_probe("/r"))))
    assert next(f for f in named if f.rule == "PL006").severity.value == "critical"
    assert next(f for f in number if f.rule == "PL006").severity.value == "warning"


@pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"])
def test_every_workload_kind(kind):
    c = spec("api", liveness=http_probe("/l", failures=1), readiness=http_probe("/r"))
    tpl = {"spec": {"containers": [c], "restartPolicy": "OnFailure" if kind in ("Job", "CronJob") else "Always"}}
    obj = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "x", "namespace": "shop"}}
    if kind == "Pod":
        obj["spec"] = tpl["spec"]
    elif kind == "CronJob":
        obj["spec"] = {"schedule": "@hourly", "jobTemplate": {"spec": {"template": tpl}}}
    else:
        obj["spec"] = {"template": tpl}
    assert "PL004" in rules_of(obj)


def test_other_kinds_are_ignored():
    assert core.lint_static({"kind": "Service", "metadata": {"name": "web"}, "spec": {"ports": []}}) == []


# ------------------------------------------------------------------ observed rules


def observed(*scenario_names, pods=None, events=None):
    ps, es = list(pods or []), list(events or [])
    for n in scenario_names:
        ps.append(BY_NAME[n].pod)
        es += BY_NAME[n].events
    return {f.rule: f for f in core.lint_observed(ps, es, NOW)}


def test_pl104_oom_with_the_value_that_would_pass():
    f = observed("oom_killed_crashloop")["PL104"]
    assert "256Mi" in f.message and "512Mi" in f.fix and f.kind == "Deployment" and f.name == "web"


def test_pl101_startup_kill_and_early_liveness_kill():
    f = observed("startup_probe_kill")["PL101"]
    assert "startupProbe.failureThreshold" in f.fix
    assert "PL101" not in observed("liveness_exit_143")  # killed after 4m34s: not while starting
    early = copy.deepcopy(BY_NAME["liveness_exit_143"].pod)
    early["status"]["containerStatuses"][0]["lastState"] = terminated(143, "Error", 50, 26)  # ran 24s: within 30s
    f = observed(pods=[early], events=BY_NAME["liveness_exit_143"].events)["PL101"]
    assert "Add a startupProbe" in f.fix


def test_pl102_timeouts_while_recovering():
    p = make_pod("api-7c9d8e6f5-z9y8x", [spec("api", liveness=http_probe(timeout=1), readiness=http_probe("/ready"))],
                 [status("api", running(5000), ready=True)])
    ev = [event(p, "Unhealthy", timeout_msg("Liveness"), type="Warning", container="api", count=2, first=900, last=300)]
    f = observed(pods=[p], events=ev)["PL102"]
    assert "timeoutSeconds: 3" in f.fix
    refused = [event(p, "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500", type="Warning",
                     container="api", count=2, first=900, last=300)]
    assert "PL102" not in observed(pods=[p], events=refused)


def test_pl103_sigkill_after_grace():
    assert "PL103" in observed("killed_grace_period_exceeded")
    assert "PL103" in observed("liveness_exit_137_grace")
    assert "PL103" not in observed("liveness_exit_143")
    assert "PL103" not in observed("oom_killed_crashloop")


def test_observed_groups_replicas():
    oom = BY_NAME["oom_killed_crashloop"]
    pods = []
    for i in range(5):
        p = copy.deepcopy(oom.pod)
        p["metadata"]["name"] = f"web-7f9c6d8b5-{i}abcd"
        p["metadata"]["uid"] = f"uid-{i}"
        pods.append(p)
    findings = [f for f in core.lint_observed(pods, [], NOW) if f.rule == "PL104"]
    assert len(findings) == 1 and findings[0].pods == 5


def test_healthy_pods_have_no_observed_findings():
    assert observed("healthy_running", "readiness_failing") == {}


# ------------------------------------------------------------------ CLI, loader, formats

MANIFEST = """# Source: shop/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/api:1.4.2
          ports: [{name: http, containerPort: 8080}]
          resources: {requests: {memory: 256Mi}, limits: {memory: 256Mi}}
          livenessProbe: {httpGet: {path: /healthz, port: metrics}, failureThreshold: 1}
          readinessProbe: {httpGet: {path: /ready, port: http}}
---
# Source: shop/templates/service.yaml
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{port: 80, targetPort: http}]}
---
"""


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "chart.yaml"
    path.write_text(MANIFEST)
    return path


def test_cli_on_helm_output_with_lines(cli, manifest):
    status, out, _ = cli("lint", "-f", str(manifest), "-o", "json")
    assert status == 1
    doc = json.loads(out)
    assert doc["kind"] == "LintReport" and doc["summary"]["objects"] == 1
    rules = {i["rule"]: i for i in doc["items"]}
    assert set(rules) == {"PL004", "PL006"}
    # the offending field, not the document start (line 2): `port: metrics` and `failureThreshold: 1`
    assert (rules["PL006"]["line"], rules["PL006"]["column"]) == (17, 53) and rules["PL006"]["file"] == str(manifest)
    assert (rules["PL004"]["line"], rules["PL004"]["column"]) == (17, 69)


def test_stdin_disable_and_fail_on(cli, manifest, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(MANIFEST))
    status, out, _ = cli("lint", "-f", "-", "--disable", "PL004,PL006", "-o", "json")
    assert status == 0 and json.loads(out)["items"] == []
    assert cli("lint", "-f", str(manifest), "--fail-on", "never")[0] == 0
    assert cli("lint", "-f", str(manifest), "--disable", "PL999")[0] == 2


def test_rules_listing(cli):
    status, out, _ = cli("lint", "--rules")
    assert status == 0
    for r in core.RULES:
        assert r in out
    words = " ".join(out.split())
    assert words.count("Not reported: ") == len(core.RULES)
    assert "No memory limit, whether or not a memory request is set" in words
    assert "in Jobs and CronJobs" in words and "below 30s" in words and "declares no ports at all" in words


def test_sarif_has_locations_only(cli, manifest, tmp_path):
    status, out, err = cli("lint", "-f", str(manifest), "-o", "sarif")
    doc = json.loads(out)
    assert doc["version"] == "2.1.0" and doc["runs"][0]["tool"]["driver"]["name"] == "probectl"
    ids = {r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    for r in doc["runs"][0]["results"]:
        assert r["ruleId"] in ids and r["level"] in ("error", "warning")
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] and loc["region"]["startLine"] >= 1
    # observed findings have no file: left out of the SARIF, with a warning
    pods = tmp_path / "pods.json"
    pods.write_text(json.dumps({"kind": "List", "apiVersion": "v1", "items": [BY_NAME["oom_killed_crashloop"].pod]}))
    status, out, err = cli("lint", "-f", str(pods), "-o", "sarif")
    assert json.loads(out)["runs"][0]["results"] == [] and "left out of the SARIF" in err


def test_github_and_junit(cli, manifest):
    gh = cli("lint", "-f", str(manifest), "-o", "github")[1]
    assert gh.startswith("::error file=") and ",line=17,col=69," in gh and ",line=17,col=53," in gh
    junit = cli("lint", "-f", str(manifest), "-o", "junit")[1]
    schema = etree.XMLSchema(etree.parse(str(ROOT / "tests" / "data" / "junit.xsd")))
    schema.assertValid(etree.fromstring(junit.encode()))


def test_bad_manifests(cli, tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("kind: [unclosed\n")
    status, _, err = cli("lint", "-f", str(p))
    assert status == 2 and "neither JSON nor valid YAML (line 2" in err


@responses.activate
def test_live_lint_lists_workloads_pods_and_events(cli, tmp_path, monkeypatch):
    isolate_env(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "home" / "config")))
    dep = deployment(spec("api", liveness=http_probe("/l", failures=1), readiness=http_probe("/r")))
    dep.pop("kind")

    def lst(items):
        return {"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": items}

    for base, plural in (("apis/apps/v1", "deployments"), ("apis/apps/v1", "statefulsets"), ("apis/apps/v1", "daemonsets"),
                         ("apis/apps/v1", "replicasets"), ("apis/batch/v1", "jobs"), ("apis/batch/v1", "cronjobs")):
        items = [dep] if plural == "deployments" else []
        responses.get(f"{SERVER}/{base}/namespaces/shop/{plural}", json=lst(items))
    oom = BY_NAME["oom_killed_crashloop"]
    responses.get(f"{SERVER}/api/v1/namespaces/shop/pods", json=lst([oom.pod]))
    responses.get(f"{SERVER}/api/v1/namespaces/shop/events", json=lst(oom.events))
    status, out, err = cli("lint", "-o", "json")
    assert status == 1, err
    rules = {i["rule"] for i in json.loads(out)["items"]}
    assert {"PL004", "PL104"} <= rules
    assert len(responses.calls) == 8


def test_docs_rule_catalog_matches_the_rules():
    """docs/lint.md: a section per rule (generated: tests/test_docs.py) and a row in the
    table of where each finding points."""
    page = (ROOT / "docs" / "lint.md").read_text()
    words = " ".join(page.split())
    for r in core.RULES.values():
        assert f"\n### {r.id} {r.name}\n" in page, r.id
        assert r.summary in words and ("Not reported: " + r.exceptions) in words, r.id
        row = next((line for line in page.splitlines() if line.startswith(f"| [{r.id}](#")), "")
        assert f"`{r.name}`" in row, f"{r.id}: not in docs/lint.md's 'Where each finding points'"
