"""The rule tables: authority order pinned, every rule decides some case, event filtering
as scan and watch do it never changes a verdict, and scan agrees with why."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from probectl.core import events as ev
from probectl.core import objects as ob
from probectl.core import rules
from probectl.core.diagnose import (
    RECENT,
    _events_by_container,
    build_pod_facts,
    container_facts,
    diagnose,
    pod_info,
    snapshot_time,
)
from tests.builders import NOW, event, pod, spec
from tests.rule_cases import RULE_CASES
from tests.scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parent.parent
REALWORLD = ROOT / "tests" / "realworld"


def _realworld():
    for d in sorted(p for p in REALWORLD.iterdir() if (p / "case.yaml").exists()):
        f = next(d / n for n in ("pod.json", "pod.yaml") if (d / n).exists())
        text = f.read_text("utf-8")
        pod_obj = json.loads(text) if f.suffix == ".json" else yaml.safe_load(text)
        yield d.name, pod_obj, json.loads((d / "events.json").read_text("utf-8"))["items"], None


def _corpus():
    yield from ((sc.name, sc.pod, sc.events, NOW) for sc in SCENARIOS)
    yield from _realworld()
    yield from ((f"rule-{c[0]}", c[1], c[2], NOW) for c in RULE_CASES)


CORPUS = list(_corpus())


def test_authority_order_pinned():
    """Changing the order of authority is a reviewed one-line change here and in the tables."""
    assert [r.id for r in rules.POD] == [f"P{i:02}" for i in range(1, 11)]
    assert [(s.name, [r.id for r in s.rules]) for s in rules.STAGES] == [
        ("no-status", ["S01", "S02"]),
        ("waiting-stated", ["W01", "W02", "W03"]),
        ("stopped-by-pod", ["K01"]),
        ("unready-now", [f"R{i:02}" for i in range(1, 10)]),
        ("termination", ["T01", "T02", "T03", "T04", "T05", "T06", "T23", "T07", "T08", "T22",
                         *[f"T{i:02}" for i in range(9, 22)]]),
        ("no-record", ["N01", "N02", "N03", "N04"]),
        ("running", [f"R{i:02}" for i in range(1, 10)]),
        ("waiting-other", ["W04", "W05", "W06", "W07"]),
        ("no-state", ["U01"]),
    ]


def test_rules_are_documented_and_unique():
    ids = [r.id for r in rules.ALL]
    assert len(ids) == len(set(ids)) == len({r.name for r in rules.ALL})
    for r in rules.ALL:
        assert r.doc and r.reads, r.id


def _decided(pod_obj, events, now) -> list[str]:
    """The ids of the rules that decide this pod: its pod rule, each container's, each lastRestart's."""
    now = now or snapshot_time([pod_obj], events)
    info = pod_info(pod_obj)
    pod_events = ev.for_pod([e for e in map(ev.normalise, events) if e], info.namespace, info.name, info.uid)
    pf = build_pod_facts(pod_obj, pod_events, now, None, RECENT, True)
    pv = rules.judge_pod(pf)
    out = [pv.rule] if pv else []
    refs = ob.containers(pod_obj)
    by_container = _events_by_container(refs, pod_events)
    for ref in refs:
        f = container_facts(pf, pv, ref, by_container.get(ref.name, []))
        out.append(rules.judge_container(f).rule)
        if f.previous:
            out.append(rules.judge_termination(replace(f, last=f.previous)).rule)
    return out


def test_every_rule_decides_a_case():
    decided = {rid for _, p, e, now in CORPUS for rid in _decided(p, e, now)}
    assert [r.id for r in rules.ALL if r.id not in decided] == []


@pytest.mark.parametrize("case", RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_rule_case(case):
    rid, pod_obj, events, container, cause = case
    assert rid in _decided(pod_obj, events, NOW)
    d = diagnose(pod_obj, events, NOW)
    got = d.cause.value if not container else next(c.cause.value for c in d.containers if c.name == container)
    assert got == cause


def _verdict(d) -> tuple:
    return (d.cause, d.confidence, d.severity,
            tuple((c.name, c.cause, c.confidence, c.severity, c.history) for c in d.containers))


@pytest.mark.parametrize("case", CORPUS, ids=[c[0] for c in CORPUS])
def test_filtering_events_as_scan_and_watch_do_changes_no_verdict(case):
    """scan's index and watch's buffers keep only rules.kept(e) events (and how far back
    all of them reach): the verdict must be the one `why` gives with every event."""
    _, pod_obj, events, now = case
    now = now or snapshot_time([pod_obj], events)
    records = [e for e in map(ev.normalise, events) if e]
    times = [e.first or e.last for e in records if e.first or e.last]
    kept = [e for e in records if rules.kept(e)]
    whole = diagnose(pod_obj, events, now)
    filtered = diagnose(pod_obj, kept, now, earliest_event=min(times) if times else None)
    assert _verdict(filtered) == _verdict(whole)


def _agree(scan_item: dict, why_doc: dict) -> None:
    for key in ("cause", "severity", "confidence"):
        assert scan_item[key] == why_doc[key], (why_doc["pod"]["name"], key)
    assert [(c["name"], c["cause"]) for c in scan_item["containers"]] == [(c["name"], c["cause"]) for c in why_doc["containers"]]


def test_scan_agrees_with_why_on_the_autoscaler_case(cli, tmp_path):
    """review §1.5: Pending, FailedScheduling and a recent TriggeredScaleUp (Normal, from the
    cluster-autoscaler: its scale_up.go records it on the pod) is a warning for both."""
    p = pod("web-1", [spec("web")], [], phase="Pending", node=None)
    p["status"]["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                  "message": "0/3 nodes are available: 3 Insufficient cpu.",
                                  "lastTransitionTime": p["metadata"]["creationTimestamp"], "lastProbeTime": None}]
    events = [event(p, "FailedScheduling", "0/3 nodes are available: 3 Insufficient cpu.", type="Warning",
                    count=4, first=300, last=100, component="default-scheduler"),
              event(p, "TriggeredScaleUp", "pod triggered scale-up: [{pool-a 3->4 (max: 10)}]", first=100,
                    component="cluster-autoscaler")]
    (tmp_path / "pod.json").write_text(json.dumps(p))
    (tmp_path / "events.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": events}))
    files = ("-f", str(tmp_path / "pod.json"), "-f", str(tmp_path / "events.json"))
    _, why_out, _ = cli("why", "web-1", "-n", "shop", *files, "-o", "json")
    _, scan_out, _ = cli("scan", "-n", "shop", *files, "-o", "json")
    why_doc, items = json.loads(why_out), json.loads(scan_out)["items"]
    assert why_doc["cause"] == "unschedulable" and why_doc["severity"] == "warning"
    assert len(items) == 1
    _agree(items[0], why_doc)


def test_scan_agrees_with_why_on_every_pod_of_a_generated_cluster(cli, tmp_path):
    """2,000 generated pods: every scan item agrees with why; every pod scan leaves out
    (healthy now) is healthy for why too."""
    from probectl.sources.files import load

    dump = tmp_path / "dump"
    subprocess.run([sys.executable, str(ROOT / "bench" / "gencluster.py"), "--pods", "2000", "--dump", str(dump)],
                   check=True, stdout=subprocess.DEVNULL)
    _, out, _ = cli("scan", "-A", "--include-history", "-f", str(dump), "-o", "json")
    items = {(i["pod"]["namespace"], i["pod"]["name"]): i for i in json.loads(out)["items"]}
    snap = load([str(dump)])
    now = snapshot_time(snap.pods, snap.events)
    grouped = ev.by_pod(snap.events)
    assert len(snap.pods) == 2000 and items
    for p in snap.pods:
        d = diagnose(p, ev.for_pod_key(grouped, p), now).to_dict()
        item = items.get((d["pod"]["namespace"], d["pod"]["name"]))
        if item is None:
            assert d["severity"] == "ok" and d["cause"] in ("healthy", "completed"), d["pod"]["name"]
        else:
            _agree(item, d)
