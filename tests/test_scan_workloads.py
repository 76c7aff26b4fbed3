"""Issue 27: scans see workloads, not just pods: never green after a failed deploy."""

from __future__ import annotations

import json

import pytest

from tests import rollouts
from tests.apiserver import FakeAPIServer
from tests.kube import isolate_env, kubeconfig


def _dump(tmp_path, r: rollouts.Rollout) -> str:
    path = tmp_path / "ns.json"
    path.write_text(json.dumps(rollouts.as_list(r.objects)))
    return str(path)


@pytest.mark.parametrize("fmt", ["table", "json", "yaml", "markdown", "junit", "github"])
def test_only_deployment_cannot_create_its_pods_fails_the_scan_in_every_format(cli, tmp_path, fmt):
    r = rollouts.deploy_webhook_first_install()  # no pod at all
    status, out, err = cli("scan", "-n", "shop", "-f", _dump(tmp_path, r), "-o", fmt)
    assert status == 1, (out, err)
    assert "create-refused" in out
    assert "Deployment/web" in out or '"name": "web"' in out or "name: web" in out


def test_the_json_report_carries_the_workload_diagnosis(cli, tmp_path):
    r = rollouts.deploy_quota()
    status, out, _ = cli("scan", "-n", "shop", "-f", _dump(tmp_path, r), "-o", "json")
    doc = json.loads(out)
    assert status == 1
    assert [w["workload"]["name"] for w in doc["workloads"]] == ["web"]
    assert doc["workloads"][0]["kind"] == "WorkloadDiagnosis" and doc["workloads"][0]["cause"] == "create-refused"
    assert doc["summary"]["workloadsWithFindings"] == 1 and doc["summary"]["podsWithFindings"] == 0


def test_table_says_what_the_rollout_lacks(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    r = rollouts.sts_webhook()
    status, out, _ = cli("scan", "-n", "shop", "-f", _dump(tmp_path, r))
    assert status == 1
    assert "shop/StatefulSet/db: its pods cannot be created" in out
    assert "1 workload stuck or unable to create pods" in out
    assert max(len(line) for line in out.splitlines()) <= 80


@pytest.mark.parametrize("make", [rollouts.deploy_paused, rollouts.deploy_complete_after_old_refusal,
                                  rollouts.cronjob_latest_failed,
                                  rollouts.sts_readiness])  # degraded, no rollout under way: its pods are the findings
def test_healthy_or_paused_workloads_are_no_findings(cli, tmp_path, make):
    r = make()
    status, out, _ = cli("scan", "-n", "shop", "-f", _dump(tmp_path, r), "-o", "json")
    doc = json.loads(out)
    assert doc["workloads"] == []


def test_a_stuck_rollout_whose_pods_crash_is_a_finding_with_their_cause(cli, tmp_path):
    r = rollouts.deploy_new_revision_oom()
    status, out, _ = cli("scan", "-n", "shop", "-f", _dump(tmp_path, r), "-o", "json")
    doc = json.loads(out)
    assert status == 1
    assert [(w["workload"]["name"], w["cause"], w["rollout"]) for w in doc["workloads"]] == [("web", "oom-killed", "stuck")]


# ----------------------------------------------------------------------------- from the API


@pytest.fixture
def serve(tmp_path, monkeypatch, live_now):
    isolate_env(monkeypatch, tmp_path / "home")
    servers = []

    def start(r: rollouts.Rollout) -> FakeAPIServer:
        s = FakeAPIServer(r.pods, r.events, token="t0ken", workloads=[r.workload, *r.jobs, *r.replicasets])
        s.__enter__()
        servers.append(s)
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "kubeconfig", server=s.url, token="t0ken")))
        return s

    yield start
    for s in servers:
        s.__exit__(None, None, None)


def test_scan_of_a_namespace_whose_only_deployment_cannot_create_pods_exits_1(cli, serve):
    api = serve(rollouts.deploy_webhook_first_install())
    status, out, err = cli("scan", "-n", "shop", "-o", "json", "--no-logs")
    assert status == 1, err
    doc = json.loads(out)
    assert doc["workloads"][0]["cause"] == "create-refused"
    assert 'namespace "shop" has no pods at all' in doc["summary"]["warnings"]
    extra = [p for p, q, _ in api.requests if p.startswith("/apis/") or q.get("fieldSelector") == "reason=FailedCreate"]
    assert len(extra) == 5 and len(api.requests) == 7  # events, pods; four workload kinds, FailedCreate events


def test_no_permission_on_workloads_degrades_to_the_pods_with_a_warning(cli, serve):
    api = serve(rollouts.deploy_webhook_first_install())
    api.forbidden |= {"deployments", "statefulsets", "daemonsets", "jobs"}
    status, out, err = cli("scan", "-n", "shop", "-o", "json", "--no-logs")
    assert status == 0, err  # nothing could be judged: said, not an error
    doc = json.loads(out)
    assert any(w.startswith("workloads could not be listed: deployments in namespace") for w in doc["summary"]["warnings"])
    assert doc["summary"]["workloadsWithFindings"] == 0


def test_a_namespace_with_no_pods_says_so(cli, serve):
    serve(rollouts.Rollout("empty", "", {"kind": "Deployment", "metadata": {}}, "", "", ""))
    status, out, err = cli("scan", "-n", "shop")
    assert status == 0
    assert 'namespace "shop" has no pods at all' in out
