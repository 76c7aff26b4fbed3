"""The file source: everything kubectl writes, and clear errors for everything else."""

from __future__ import annotations

import io
import json

import pytest
import yaml

from probectl.errors import InputError
from probectl.sources.files import load
from tests.scenarios import BY_NAME

OOM = BY_NAME["oom_killed_crashloop"]
LIVE = BY_NAME["liveness_exit_143"]


def _strip_kind(obj: dict) -> dict:
    obj = json.loads(json.dumps(obj))
    obj.pop("kind", None)
    obj.pop("apiVersion", None)
    return obj


def write(path, doc, fmt="json"):
    path.write_text(json.dumps(doc, indent=2) if fmt == "json" else yaml.safe_dump(doc))
    return str(path)


def test_single_pod_json(tmp_path):
    snap = load([write(tmp_path / "pod.json", OOM.pod)])
    assert len(snap.pods) == 1 and snap.events == []


def test_pod_and_event_list_yaml(tmp_path):
    pods = write(tmp_path / "pod.yaml", OOM.pod, "yaml")
    events = write(tmp_path / "events.yaml", {"apiVersion": "v1", "kind": "EventList", "metadata": {},
                                                "items": [_strip_kind(e) for e in OOM.events]}, "yaml")
    snap = load([pods, events])
    assert len(snap.pods) == 1 and len(snap.events) == len(OOM.events)


def test_kubectl_list_of_mixed_items(tmp_path):
    doc = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
           "items": [OOM.pod, LIVE.pod, *OOM.events, *LIVE.events,
                     {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}]}
    snap = load([write(tmp_path / "all.json", doc)])
    assert len(snap.pods) == 2
    assert len(snap.events) == len(OOM.events) + len(LIVE.events)
    assert snap.skipped == {}
    assert [x["kind"] for x in snap.workloads] == ["Deployment"]  # issue 27: why deploy/NAME -f


def test_podlist_items_without_kind(tmp_path):
    doc = {"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": [_strip_kind(OOM.pod)]}
    assert len(load([write(tmp_path / "pods.json", doc)]).pods) == 1


def test_events_k8s_io_list(tmp_path):
    ev = BY_NAME["liveness_new_events_api"].events
    doc = {"apiVersion": "events.k8s.io/v1", "kind": "EventList", "metadata": {}, "items": [_strip_kind(e) for e in ev]}
    assert len(load([write(tmp_path / "ev.json", doc)]).events) == len(ev)


def test_multi_document_yaml(tmp_path):
    path = tmp_path / "both.yaml"
    path.write_text(yaml.safe_dump(OOM.pod) + "---\n" + yaml.safe_dump(OOM.events[0]))
    snap = load([str(path)])
    assert len(snap.pods) == 1 and len(snap.events) == 1


def cluster_info_dump(root, fmt="json"):
    """The layout `kubectl cluster-info dump --output-directory` writes."""
    ext = "." + fmt
    (root / "shop").mkdir(parents=True)
    (root / "kube-system").mkdir()
    dump = lambda p, d: p.write_text(json.dumps(d) if fmt == "json" else yaml.safe_dump(d))  # noqa: E731
    dump(root / f"nodes{ext}", {"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": [{"metadata": {"name": "node-3"}}]})
    pods = [OOM.pod, LIVE.pod]
    events = OOM.events + LIVE.events
    dump(root / "shop" / f"pods{ext}", {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": [_strip_kind(p) for p in pods]})
    dump(root / "shop" / f"events{ext}", {"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": [_strip_kind(e) for e in events]})
    for name in ("replication-controllers", "services", "daemonsets", "deployments", "replicasets"):
        kind = {"replication-controllers": "ReplicationControllerList", "services": "ServiceList", "daemonsets": "DaemonSetList",
                "deployments": "DeploymentList", "replicasets": "ReplicaSetList"}[name]
        dump(root / "shop" / f"{name}{ext}", {"kind": kind, "apiVersion": "v1", "metadata": {}, "items": []})
    dump(root / "kube-system" / f"pods{ext}", {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": []})
    dump(root / "kube-system" / f"events{ext}", {"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": []})
    logdir = root / "shop" / OOM.pod["metadata"]["name"]
    logdir.mkdir()
    (logdir / "logs.txt").write_text("==== START logs for container api of pod shop/web ====\n{not json\n==== END logs ====\n")
    return str(root)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_cluster_info_dump_directory(tmp_path, fmt):
    snap = load([cluster_info_dump(tmp_path / "dump", fmt)])
    assert {p["metadata"]["name"] for p in snap.pods} == {OOM.pod["metadata"]["name"], LIVE.pod["metadata"]["name"]}
    assert len(snap.events) == len(OOM.events) + len(LIVE.events)


def test_cluster_info_dump_to_stdout_concatenated(tmp_path):
    parts = [
        json.dumps({"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": []}, indent=4),
        json.dumps({"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": [_strip_kind(e) for e in OOM.events]}, indent=4),
        json.dumps({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": [_strip_kind(OOM.pod)]}, indent=4),
        "==== START logs for container api of pod shop/web-7f9c6d8b5-x2lqz ====\n"
        '{"level":"info","msg":"started"} {broken\n'
        "==== END logs for container api of pod shop/web-7f9c6d8b5-x2lqz ====",
    ]
    path = tmp_path / "dump.txt"
    path.write_text("\n".join(parts) + "\n")
    snap = load([str(path)])
    assert len(snap.pods) == 1 and len(snap.events) == len(OOM.events)


def test_stdin():
    snap = load(["-"], stdin=io.StringIO(json.dumps(OOM.pod)))
    assert len(snap.pods) == 1


@pytest.mark.parametrize(
    "content,fragment",
    [
        ("", "empty input"),
        ("   \n", "empty input"),
        ("{not json", "not valid JSON"),
        ("key: [unclosed", "neither JSON nor valid YAML"),
        ("just some words", "expected a Kubernetes object"),
        ('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web"}}', r"holds no Pod, Event or workload \(found ConfigMap\)"),
        ("a: &a [1]\nb: *a\n", "aliases are not accepted"),
        ('{"kind": "PodList", "items": 5}', "items is not a list"),
        ("[1, 2]", "expected a Kubernetes object"),
    ],
)
def test_bad_files(tmp_path, content, fragment):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputError, match=fragment):
        load([str(path)])


def test_binary_file(tmp_path):
    path = tmp_path / "core"
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)))
    with pytest.raises(InputError, match="binary data"):
        load([str(path)])


def test_missing_file():
    with pytest.raises(InputError, match="no such file"):
        load(["/nonexistent/pod.json"])


def test_empty_directory(tmp_path):
    with pytest.raises(InputError, match="no .json or .yaml files"):
        load([str(tmp_path)])
