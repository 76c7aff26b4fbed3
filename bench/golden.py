"""Golden output of the verdict engine, for refactors that must change nothing.

    python bench/golden.py OUTDIR [--shared ../shared/conformance/real] [--pods 2000]

Writes, under OUTDIR (keep it outside the repository: the shared corpus is third-party data):

- why/<corpus>/<case>.json       `why POD -n NS -f pod -f events -o json`
- scan/<corpus>/<case>.json      `scan -A --include-history -f pod -f events -o json`
  for every case of tests/realworld (corpus "realworld") and of the shared conformance set
  (corpus "conformance");
- scenarios/<name>.json          `diagnose(sc.pod, sc.events, NOW).to_dict()` for tests/scenarios.py;
- cluster/scan.json              `scan -A -f DUMP -o json` over `bench/gencluster.py --pods N`.

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
    cluster(out, args.pods)
    print(" ".join(f"{k}={v}" for k, v in counts.items()), "cluster=1")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
