"""`probectl why` on the project's real-world fixture set (tests/realworld/<case>/).

Every case directory holds the pod as kubectl prints it (pod.json or pod.yaml, sometimes a trimmed
fragment as users paste it), the events as kubectl prints them (events.json: a core/v1 or
events.k8s.io/v1 `List`, possibly empty) and case.yaml: the expected verdict and, in comments, the
facts it rests on. The CLI runs in-process on the files, exactly as a user would run it:

    probectl why POD -n NS -f pod.json -f events.json -o json
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent / "realworld"
CASES = sorted(p.name for p in HERE.iterdir() if p.is_dir() and (p / "case.yaml").exists()) if HERE.is_dir() else []
VALID_CAUSES = {
    "healthy", "completed", "oom-killed", "liveness-probe-failed", "startup-probe-failed", "readiness-probe-failed",
    "app-error", "crashed-signal", "killed", "terminated", "command-not-found", "permission-denied", "start-error",
    "image-pull-failed", "config-error", "evicted", "deadline-exceeded", "unschedulable", "unknown",
}


def _case(case_id: str) -> dict:
    return yaml.safe_load((HERE / case_id / "case.yaml").read_text("utf-8"))


def _pod_file(case_id: str) -> Path:
    for name in ("pod.json", "pod.yaml"):
        if (HERE / case_id / name).exists():
            return HERE / case_id / name
    raise AssertionError(f"{case_id}: no pod.json or pod.yaml")


def _accepted(value) -> list[str]:
    return list(value) if isinstance(value, list) else [value]


def test_at_least_40_cases():
    assert len(CASES) >= 40, f"only {len(CASES)} real-world cases in {HERE}"


@pytest.mark.parametrize("case_id", CASES)
def test_case_is_well_formed(case_id):
    text = (HERE / case_id / "case.yaml").read_text("utf-8")
    assert any(line.startswith(("# Fact", "# Facts")) for line in text.splitlines()), \
        f"{case_id}/case.yaml names no fact (a comment line starting with '# Fact' or '# Facts')"
    case = yaml.safe_load(text)
    for key in ("cause", "pod", "namespace", "kubernetes", "runtime"):
        assert key in case, f"{case_id}/case.yaml lacks {key!r}"
    assert case["runtime"] in ("containerd", "cri-o", "docker", "any")
    assert isinstance(case["kubernetes"], str)
    for cause in _accepted(case["cause"]):
        assert cause in VALID_CAUSES, f"{case_id}: {cause!r} is not a cause code"
    for name, want in (case.get("containers") or {}).items():
        for cause in _accepted(want):
            assert cause in VALID_CAUSES, f"{case_id}: {name}: {cause!r} is not a cause code"
    if "confidence" in case:
        assert case["confidence"] in ("high", "medium", "low")
    # the inputs parse as kubectl writes them
    pod = _load_pod(case_id)
    assert pod["kind"] == "Pod" and pod["metadata"]["name"] == case["pod"]
    assert pod["metadata"]["namespace"] == case["namespace"]
    events = json.loads((HERE / case_id / "events.json").read_text("utf-8"))
    assert events["kind"] == "List" and events["apiVersion"] == "v1" and isinstance(events["items"], list)
    for item in events["items"]:
        assert item["kind"] == "Event" and item["apiVersion"] in ("v1", "events.k8s.io/v1")


def _load_pod(case_id: str) -> dict:
    """The case's pod; pod.json may also be what `kubectl get pods -o json` prints (a List)."""
    path = _pod_file(case_id)
    text = path.read_text("utf-8")
    doc = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if doc.get("kind") in ("List", "PodList"):
        name = _case(case_id)["pod"]
        doc = next(item for item in doc["items"] if item["metadata"]["name"] == name)
        doc.setdefault("kind", "Pod")
    return doc


@pytest.mark.parametrize("case_id", CASES)
def test_full_objects_valid_against_openapi(case_id):
    """Full pods and every event validate against the Kubernetes schema of their era (1.25 at the oldest)."""
    kv = pytest.importorskip("kubernetes_validate")
    minor = int(_case(case_id)["kubernetes"].split(".")[1])
    version = f"1.{max(minor, 25)}"
    objects = [item for item in json.loads((HERE / case_id / "events.json").read_text("utf-8"))["items"]]
    pod = _load_pod(case_id)
    if (pod.get("spec") or {}).get("containers"):
        objects.insert(0, pod)  # fragments (no spec, trimmed status) are exempt, as pasted by users
    for obj in objects:
        try:
            kv.validate(obj, version, strict=True)
        except kv.SchemaNotFoundError:
            kv.validate(obj, kv.latest_version(), strict=True)


@pytest.mark.parametrize("case_id", CASES)
def test_verdict(case_id, cli):
    case = _case(case_id)
    status, out, err = cli("why", case["pod"], "-n", case["namespace"], "-f", str(_pod_file(case_id)),
                           "-f", str(HERE / case_id / "events.json"), "-o", "json")
    assert "Traceback" not in err, err
    assert status in (0, 1), f"exit status {status}: {err.strip()}"
    doc = json.loads(out)
    assert doc["kind"] == "Diagnosis"
    assert doc["pod"]["name"] == case["pod"] and doc["pod"]["namespace"] == case["namespace"]

    problems = []
    want = _accepted(case["cause"])
    if doc["cause"] not in want:
        problems.append(f"pod cause {doc['cause']!r}, expected {' or '.join(want)}")
    by_name = {c["name"]: c for c in doc.get("containers", [])}
    for name, expected in (case.get("containers") or {}).items():
        got = by_name.get(name)
        if got is None:
            problems.append(f"container {name!r} missing from the diagnosis")
        elif got["cause"] not in _accepted(expected):
            problems.append(f"container {name}: {got['cause']!r}, expected {' or '.join(_accepted(expected))}")
    for name, expected in (case.get("willRestart") or {}).items():
        got = by_name.get(name)
        if got is not None and got.get("willRestart") is not expected:
            problems.append(f"container {name}: willRestart {got.get('willRestart')!r}, expected {expected!r}")
    for part in case.get("summary_has") or []:
        if part not in (doc.get("summary") or ""):
            problems.append(f"the summary does not mention {part!r}")
    if "confidence" in case and doc["confidence"] != case["confidence"]:
        problems.append(f"confidence {doc['confidence']!r}, expected {case['confidence']!r}")
    warnings = " | ".join(doc.get("warnings") or []).lower()
    for part in case.get("warnings_has") or []:
        if part.lower() not in warnings:
            problems.append(f"no warning mentions {part!r} (warnings: {doc.get('warnings')})")
    assert not problems, f"{case_id}: " + "; ".join(problems) + f"\nsummary: {doc.get('summary')}"
