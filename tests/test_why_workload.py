"""Issue 27: `probectl why KIND/NAME` from kubectl dumps and from the API (the local API
server), every rollout of tests/rollouts.py; bounded requests; missing permissions."""

from __future__ import annotations

import json

import pytest

from tests import rollouts
from tests.apiserver import FakeAPIServer
from tests.kube import isolate_env, kubeconfig


def _write(path, doc) -> str:
    path.write_text(json.dumps(doc))
    return str(path)


def _typed(kind: str, items: list[dict]) -> dict:
    """A typed List as the API server and `cluster-info dump` write it: items without kind."""
    return {"kind": f"{kind}List", "apiVersion": "v1", "metadata": {"resourceVersion": "4242"},
            "items": [{k: v for k, v in i.items() if k not in ("kind", "apiVersion")} for i in items]}


@pytest.mark.parametrize("make", rollouts.ALL, ids=lambda f: f.__name__)
def test_why_from_a_kubectl_list(cli, tmp_path, make):
    r = make()
    path = _write(tmp_path / "all.json", rollouts.as_list(r.objects))
    status, out, err = cli("why", r.ref, "-n", "shop", "-f", path, "-o", "json")
    assert status == (0 if r.severity == "ok" else 1), err
    doc = json.loads(out)
    assert (doc["kind"], doc["cause"], doc["rollout"]) == ("WorkloadDiagnosis", r.cause, r.rollout)
    status, text, err = cli("why", r.ref, "-f", path)
    assert r.cause in text and not err


def test_why_from_a_cluster_info_dump(cli, tmp_path):
    """`kubectl cluster-info dump --output-directory`: typed lists per namespace, no kinds
    on the items, log blocks around them."""
    r = rollouts.deploy_quota()
    ns = tmp_path / "dump" / "shop"
    ns.mkdir(parents=True)
    _write(ns / "deployments.json", _typed("Deployment", [r.workload]))
    _write(ns / "replicasets.json", _typed("ReplicaSet", r.replicasets))
    _write(ns / "pods.json", _typed("Pod", r.pods))
    _write(ns / "events.json", _typed("Event", r.events))
    _write(ns / "daemonsets.json", _typed("DaemonSet", []))
    status, out, err = cli("why", "deploy/web", "-n", "shop", "-f", str(tmp_path / "dump"), "-o", "json")
    assert status == 1, err
    doc = json.loads(out)
    assert doc["cause"] == "create-refused" and doc["createRefused"]["refusal"] == "quota"
    assert "exceeded quota: compute-quota" in doc["createRefused"]["message"]


def test_table_reads_at_80_columns(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    for make in (rollouts.deploy_pod_security_new_events_api, rollouts.deploy_new_revision_oom):
        r = make()
        status, out, _ = cli("why", r.ref, "-f", _write(tmp_path / "a.json", rollouts.as_list(r.objects)))
        assert status == 1
        assert max(len(line) for line in out.splitlines()) <= 80
        assert "Next steps" in out


def test_github_output_is_one_escaped_annotation(cli, tmp_path):
    r = rollouts.sts_webhook()
    status, out, _ = cli("why", r.ref, "-f", _write(tmp_path / "a.json", rollouts.as_list(r.objects)), "-o", "github")
    assert status == 1
    assert out.startswith("::error title=create-refused%3A shop/StatefulSet/db::")
    assert out.count("\n") == 1  # the webhook's newlines never start a line of their own


def test_unknown_workload_in_the_input_is_exit_2(cli, tmp_path):
    r = rollouts.deploy_quota()
    status, _, err = cli("why", "sts/web", "-f", _write(tmp_path / "a.json", rollouts.as_list(r.objects)))
    assert status == 2 and "the input holds no StatefulSet" in err and "no pod of it either" in err and "Traceback" not in err


# ----------------------------------------------------------------------------- from the API


@pytest.fixture
def api_env(tmp_path, monkeypatch, live_now):
    isolate_env(monkeypatch, tmp_path / "home")

    def start(r: rollouts.Rollout, **kw) -> FakeAPIServer:
        server = FakeAPIServer(r.pods, r.events, token="t0ken",
                               workloads=[r.workload, *r.jobs, *r.replicasets], **kw)
        server.__enter__()
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "kubeconfig", server=server.url, token="t0ken")))
        started.append(server)
        return server

    started: list[FakeAPIServer] = []
    yield start
    for s in started:
        s.__exit__(None, None, None)


LIVE_ROLLOUT = {"ds_missing_service_account": "stuck", "job_quota": "progressing",  # judged on the wall clock
                "deploy_quota_old_wording_events_only": "progressing"}


@pytest.mark.parametrize("make", rollouts.ALL, ids=lambda f: f.__name__)
def test_why_from_the_api_with_bounded_requests(cli, api_env, make):
    r = make()
    api = api_env(r)
    status, out, err = cli("why", r.ref, "-o", "json", "--no-logs")
    assert status == (0 if r.severity == "ok" else 1), err
    doc = json.loads(out)
    assert doc["cause"] == r.cause, doc["summary"]
    paths = [p for p, _, _ in api.requests]
    # get the workload, list its ReplicaSets or Jobs, its pods (by selector), the namespace's events
    assert len(paths) <= 4, paths
    assert not any("/pods/" in p for p in paths), paths  # never a request per pod
    assert sum(p.endswith("/events") for p in paths) == 1


def test_crash_log_read_once_per_failing_group(cli, api_env):
    r = rollouts.deploy_new_revision_oom()
    crashing = r.pods[-1]
    crashing["status"]["containerStatuses"][0]["lastState"]["terminated"].update(exitCode=1, reason="Error")
    name = crashing["metadata"]["name"]
    api = api_env(r, logs={("shop", name, "api", True): ["starting", "Error: connect ECONNREFUSED 10.0.0.5:5432"]})
    status, out, err = cli("why", r.ref, "-o", "json")
    assert status == 1, err
    doc = json.loads(out)
    assert doc["cause"] == "app-error"
    assert doc["pods"][0]["containers"][0]["crash"]["kind"] == "connection-refused"
    assert sum("/log" in p for p, _, _ in api.requests) == 1


def test_no_permission_on_the_workload_kind_degrades_to_the_pods(cli, api_env):
    r = rollouts.deploy_new_revision_oom()
    api = api_env(r)
    api.forbidden.add("deployments")
    status, out, err = cli("why", "deploy/web", "-o", "json", "--no-logs")
    assert status == 1, err
    assert "warning" in err and 'deployment "web" could not be read' in err and "Traceback" not in err
    doc = json.loads(out)
    assert doc["kind"] == "List" and any(d["cause"] == "oom-killed" for d in doc["items"])
    assert "pod-level answer" in doc["items"][0]["warnings"][0]


def test_no_permission_on_replicasets_is_a_warning(cli, api_env):
    r = rollouts.deploy_quota()
    api = api_env(r)
    api.forbidden.add("replicasets")
    status, out, err = cli("why", "deploy/web", "-o", "json", "--no-logs")
    assert status == 1, err
    doc = json.loads(out)
    assert doc["cause"] == "create-refused"  # the Deployment's ReplicaFailure condition still says it
    assert any("ReplicaSets could not be listed" in w for w in doc["warnings"])


def test_missing_workload_is_exit_2_with_a_suggestion(cli, api_env):
    r = rollouts.deploy_quota()
    api_env(r)
    status, _, err = cli("why", "deploy/wbe", "--no-logs")
    assert status == 2 and 'deployment "wbe" not found in namespace "shop"; did you mean web?' in err


def test_pods_only_input_gives_the_pod_level_answer_with_a_warning(cli, tmp_path):
    """`kubectl get pods,events -o json`: no Deployment in the input, its pods are there."""
    r = rollouts.deploy_new_revision_oom()
    path = _write(tmp_path / "pods.json", rollouts.as_list([*r.pods, *r.events]))
    status, out, err = cli("why", "deploy/web", "-f", path, "-o", "json")
    assert status == 1, err
    assert "warning: the input holds no Deployment" in err
    doc = json.loads(out)
    assert doc["kind"] == "List" and any(d["cause"] == "oom-killed" for d in doc["items"])
    status, _, err = cli("why", "deploy/nothing", "-f", path)
    assert status == 2 and "and no pod of it either" in err


def test_other_name_of_a_kind_in_the_input_lists_those_there(cli, tmp_path):
    r = rollouts.deploy_quota()
    status, _, err = cli("why", "deploy/wbe", "-f", _write(tmp_path / "a.json", rollouts.as_list(r.objects)))
    assert status == 2 and 'deployment "wbe" not found in the input; Deployments there: shop/web' in err
