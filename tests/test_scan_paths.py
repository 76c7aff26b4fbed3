"""Every way a scan reads its input gives each pod the verdict the engine gives it.

The reference is the plain engine: each pod diagnosed with all of its events, parsed by
json.loads. Against it: `scan -f` over kubectl's `get -o json` files and over a
cluster-info dump directory (streamed item by item), and `scan -A` against the local
API server (pages, prefetch, gzip), each with orjson and with the standard library."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from bench.gencluster import generate, write_dump, write_list
from probectl.core.diagnose import diagnose, snapshot_time
from probectl.core.events import by_pod, for_pod_key
from tests.apiserver import FakeAPIServer
from tests.kube import isolate_env, kubeconfig
from tests.scenarios import SCENARIOS


@pytest.fixture(scope="module")
def data():
    pods, events = generate(300)
    seen = {p["metadata"]["uid"] for p in pods}
    for sc in SCENARIOS:  # the corpus too, each pod once
        uid = sc.pod.get("metadata", {}).get("uid")
        if uid and uid not in seen:
            seen.add(uid)
            pods.append(sc.pod)
            events += [e for e in sc.events if e.get("kind", "Event") == "Event"]
    return json.loads(json.dumps(pods)), json.loads(json.dumps(events))


def _verdict(d: dict) -> tuple:
    return (d["cause"], d["culprit"], d["severity"], d["confidence"],
            tuple((c["name"], c["cause"], c["severity"]) for c in d["containers"]))


def _reference(pods, events, now) -> dict:
    grouped = by_pod(events)
    out = {}
    for p in pods:
        d = diagnose(p, for_pod_key(grouped, p), now).to_dict()
        out[(d["pod"]["namespace"], d["pod"]["name"])] = _verdict(d)
    return out


def _scanned(out: str) -> dict:
    doc = json.loads(out)
    return {(d["pod"]["namespace"], d["pod"]["name"]): _verdict(d) for d in doc["items"]}, doc


@pytest.mark.parametrize("layout", ["get-o-json", "dump-directory"])
def test_files_agree_with_the_engine(cli, tmp_path, data, backend, layout):
    pods, events = data
    if layout == "dump-directory":
        write_dump(str(tmp_path / "dump"), pods, events)
        args = ["-f", str(tmp_path / "dump")]
    else:  # events after pods: a pod's events come after it
        write_list(str(tmp_path / "pods.json"), pods, "Pod")
        write_list(str(tmp_path / "events.json"), events, "Event")
        args = ["-f", str(tmp_path / "pods.json"), "-f", str(tmp_path / "events.json")]
    status, out, err = cli("scan", *args, "-A", "--all", "-o", "json")
    assert status == 1, err
    got, doc = _scanned(out)
    assert got == _reference(pods, events, snapshot_time(pods, events))
    assert doc["summary"]["podsExamined"] == len(pods)


def test_the_api_server_agrees_with_the_engine(cli, tmp_path, monkeypatch, data, backend):
    pods, events = data
    isolate_env(monkeypatch, tmp_path / "home")
    with FakeAPIServer(pods, events, token="t0ken-prod", page_size_cap=50) as api:
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "config", server=api.url)))
        status, out, err = cli("scan", "-A", "--all", "-o", "json")
    assert status == 1, err
    got, doc = _scanned(out)
    now = datetime.strptime(doc["summary"]["asOf"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert got == _reference(pods, events, now)
    assert doc["summary"]["podsExamined"] == len(pods)
    lists = [r for r in api.requests if not r[0].endswith("/log")]  # a log read per unexplained failing group
    assert doc["summary"]["scope"]["requests"] == len(api.requests)
    workload_pass = [r for r in lists if r[0].startswith("/apis/") or r[1].get("fieldSelector") == "reason=FailedCreate"]
    assert len(workload_pass) == 5  # issue 27: a list of each workload kind and of FailedCreate events
    assert len(lists) - len(workload_pass) == -(-len(pods) // 50) + -(-len(events) // 50)
