"""Golden output of the verdict engine, for refactors that must change nothing.

    python bench/golden.py OUTDIR [--shared ../shared/conformance/real] [--pods 2000]

Writes, under OUTDIR (keep it outside the repository: the shared corpus is third-party data):

- why/<corpus>/<case>.json       `why POD -n NS -f pod -f events -o json`
- scan/<corpus>/<case>.json      `scan -A --include-history -f pod -f events -o json`
  for every case of tests/realworld (corpus "realworld") and of the shared conformance set
  (corpus "conformance");
- scenarios/<name>.json          `diagnose(sc.pod, sc.events, NOW).to_dict()` for tests/scenarios.py;
- cluster/scan.json              `scan -A -f DUMP -o json` over `bench/gencluster.py --pods N`;
- rollouts/<name>/why.json       `why KIND/NAME -n NS -f LIST -o json`, and why.txt (text);
  rollouts/<name>/scan.json      `scan -n NS -f LIST -o json`, and scan.txt (`-o table`)
  for every rollout of tests/rollouts.py, LIST being its `kubectl get ... -o json` List;
- rollouts/core/<case>.json      `diagnose_workload(...).to_dict()` for the other workload
  cases of tests/test_workload.py (variants of the rollouts, built in workload_cases()).

The rollouts are built at tests.builders.NOW (fixed), and a file's verdict is judged at the
snapshot's own time, so two runs of the same tree write the same bytes.

The CLI runs in-process (probectl.cli.main.main), with NO_COLOR=1 and COLUMNS=120. Compare two
runs with `diff -r BEFORE AFTER`: any difference is a change in behaviour.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _run(*args: str) -> tuple[int, str]:
    from probectl.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    if "Traceback" in err.getvalue():
        raise SystemExit(f"probectl {' '.join(args)}: traceback\n{err.getvalue()}")
    return status, out.getvalue()


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


def _cases(corpus: Path):
    """(case id, pod file, events file, pod name, namespace) for each case directory."""
    import yaml

    for d in sorted(p for p in corpus.iterdir() if p.is_dir()):
        pod_file = next((d / n for n in ("pod.json", "pod.yaml") if (d / n).exists()), None)
        if pod_file is None or not (d / "events.json").exists():
            continue
        text = pod_file.read_text("utf-8")
        pod = json.loads(text) if pod_file.suffix == ".json" else yaml.safe_load(text)
        meta = pod.get("metadata") or {}
        yield d.name, pod_file, d / "events.json", meta.get("name", ""), meta.get("namespace", "default")


def corpus(out: Path, name: str, where: Path) -> int:
    n = 0
    for case, pod_file, events, pod, ns in _cases(where):
        status, text = _run("why", pod, "-n", ns, "-f", str(pod_file), "-f", str(events), "-o", "json")
        _write(out / "why" / name / f"{case}.json", f"exit {status}\n{text}")
        status, text = _run("scan", "-A", "--include-history", "-f", str(pod_file), "-f", str(events), "-o", "json")
        _write(out / "scan" / name / f"{case}.json", f"exit {status}\n{text}")
        n += 1
    return n


def scenarios(out: Path) -> int:
    from probectl.core.diagnose import diagnose
    from tests.builders import NOW
    from tests.scenarios import SCENARIOS

    for sc in SCENARIOS:
        d = diagnose(sc.pod, sc.events, NOW)
        _write(out / "scenarios" / f"{sc.name}.json", json.dumps(d.to_dict(), indent=1, sort_keys=True) + "\n")
    return len(SCENARIOS)


def workload_cases() -> dict:
    """The workload verdicts tests/test_workload.py asks of diagnose_workload beyond the
    rollouts themselves (a rollout's objects altered, or a workload alone)."""
    from probectl.core.workload import diagnose_workload
    from tests import rollouts
    from tests import workloads as w
    from tests.builders import NOW

    cases = {}
    r = rollouts.deploy_new_revision_oom()
    full = diagnose_workload(r.workload, replicasets=r.replicasets, pods=r.pods, events=r.events, now=NOW)
    cases["groups_from_scan"] = diagnose_workload(r.workload, replicasets=r.replicasets, events=r.events, now=NOW,
                                                  pod_groups=list(full.groups))
    r.events.append(w.failed_create(r.replicasets[1], w.QUOTA, count=3, first=300, last=30))
    cases["refused_while_crashing"] = diagnose_workload(r.workload, replicasets=r.replicasets, pods=r.pods,
                                                        events=r.events, now=NOW)
    r = rollouts.job_backoff_limit()
    cases["job_failed_pods_gone"] = diagnose_workload(r.workload, pods=[], now=NOW)
    cases["cronjob_no_job"] = diagnose_workload(w.cronjob("nightly"), jobs=[], now=NOW)
    cases["cronjob_suspended"] = diagnose_workload(w.cronjob("nightly", suspend=True), jobs=[], now=NOW)
    d = w.deployment("web", replicas=3, revision=2, ready=2, updated=1, current=4, conditions=[
        w.cond("Progressing", "True", "ReplicaSetUpdated", w.RS_UPDATED.format(rs="web-7c9d8f6b5"), before=20)])
    cases["deploy_progressing"] = diagnose_workload(d, now=NOW)
    cases["deploy_scaled_to_zero"] = diagnose_workload(w.deployment("web", replicas=0, ready=0, updated=0, current=0),
                                                       now=NOW)
    cases["deploy_no_rs_stuck"] = diagnose_workload(w.deployment("web", replicas=3, ready=1, updated=1, current=1,
        conditions=[w.cond("Progressing", "False", "ProgressDeadlineExceeded", w.TIMED_OUT.format(rs="web-1"))]),
        now=NOW)
    cases["sts_degraded_no_pods"] = diagnose_workload(w.statefulset("db", replicas=3, ready=1, current=3), now=NOW)
    cases["sts_slow_start"] = diagnose_workload(w.statefulset("db", replicas=3, ready=0, current=0, created=2000),
                                                now=NOW)
    cases["ds_complete"] = diagnose_workload(w.daemonset("agent"), now=NOW)
    cases["job_suspended"] = diagnose_workload(w.job("x", suspend=True), now=NOW)
    cases["job_complete"] = diagnose_workload(w.job("x", succeeded=1, conditions=[w.job_cond("Complete", "", "")]),
                                              now=NOW)
    s = w.statefulset("db", replicas=1, ready=0, current=0, created=300)
    msg = ('create Claim data-db-0 for Pod db-0 in StatefulSet db failed error: persistentvolumeclaims "data-db-0" '
           "is forbidden: exceeded quota: storage-quota, requested: requests.storage=50Gi, used: "
           "requests.storage=90Gi, limited: requests.storage=100Gi")
    cases["sts_claim_quota"] = diagnose_workload(
        s, events=[w.controller_event(s, "FailedCreate", msg, count=3, first=300, last=10)], now=NOW)
    for kind, message in (("limit_range", 'pods "x" is forbidden: maximum cpu usage per Container is 2, but limit is 4'),
                          ("other", "Internal error occurred: failed calling webhook")):
        j = w.job("migrate", active=0, created=300)
        cases[f"job_refused_{kind}"] = diagnose_workload(
            j, events=[w.controller_event(j, "FailedCreate", "Error creating: " + message, count=2, first=300,
                                          last=20)], now=NOW)
    return cases


def rollouts(out: Path) -> int:
    from tests import rollouts as ro

    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        for make in ro.ALL:
            r = make()
            path = Path(tmp) / f"{r.name}.json"
            path.write_text(json.dumps(ro.as_list(r.objects)), "utf-8")
            ns = r.workload["metadata"].get("namespace", "default")
            d = out / "rollouts" / r.name
            for fname, args in (("why.json", ("why", r.ref, "-n", ns, "-f", str(path), "-o", "json")),
                                ("why.txt", ("why", r.ref, "-n", ns, "-f", str(path))),
                                ("scan.json", ("scan", "-n", ns, "-f", str(path), "-o", "json")),
                                ("scan.txt", ("scan", "-n", ns, "-f", str(path), "-o", "table"))):
                status, text = _run(*args)
                _write(d / fname, f"exit {status}\n" + text.replace(str(path), "LIST").replace(tmp, "TMP"))
            n += 1
    for name, diag in workload_cases().items():
        _write(out / "rollouts" / "core" / f"{name}.json", json.dumps(diag.to_dict(), indent=1, sort_keys=True) + "\n")
    return n


def cluster(out: Path, pods: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "dump"
        subprocess.run([sys.executable, str(ROOT / "bench" / "gencluster.py"), "--pods", str(pods), "--dump", str(dump)],
                       check=True, stdout=subprocess.DEVNULL)
        status, text = _run("scan", "-A", "-f", str(dump), "-o", "json")
        _write(out / "cluster" / "scan.json", f"exit {status}\n" + text.replace(str(dump), "DUMP"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--shared", default=str(ROOT.parent / "shared" / "conformance" / "real"))
    parser.add_argument("--pods", type=int, default=2000)
    args = parser.parse_args()
    os.environ["NO_COLOR"] = "1"
    os.environ["COLUMNS"] = "120"
    for var in ("FORCE_COLOR", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_ENV"):
        os.environ.pop(var, None)
    out = Path(args.out)
    counts = {"realworld": corpus(out, "realworld", ROOT / "tests" / "realworld")}
    if Path(args.shared).is_dir():
        counts["conformance"] = corpus(out, "conformance", Path(args.shared))
    counts["scenarios"] = scenarios(out)
    counts["rollouts"] = rollouts(out)
    cluster(out, args.pods)
    print(" ".join(f"{k}={v}" for k, v in counts.items()), "cluster=1")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
