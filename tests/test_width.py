"""Every text output reads at 80 columns and stays as good as before on wide terminals.

At a width W: no line is longer than W, and no word is broken: every word of the output
(ellipsis aside) is a whole word of the same output rendered where nothing has to wrap.
`probectl why` is checked on every bundled demo pod (`probectl demo --list`); `scan` on the
demo snapshot; `lint` on a manifest; `exitcode` on single codes and its `--list`.

Goldens (UPDATE_GOLDEN=1 rewrites them; review the diff): tests/golden/why-200.txt (every
demo pod at 200 columns: the wide layout, as it was before the narrow one existed) and
tests/golden/why-80.txt (the same pods at 80 columns).
"""

from __future__ import annotations

import os
import re

import pytest

from tests.conftest import ROOT

GOLDEN = ROOT / "tests" / "golden"
BOX = set("+-|=─━│┃╭╮╰╯├┤┬┴┼┌┐└┘•")
WIDE = 400  # the widest COLUMNS probectl accepts: the reference where nothing needs to wrap


def demo_pods():
    from probectl.cli.demo import snapshot

    return [p["metadata"]["name"] for p in snapshot().pods]


def words(text: str) -> set[str]:
    return {w for w in text.split() if not set(w) <= BOX}


def assert_reads_at(out: str, width: int, reference: str) -> None:
    """No line over `width`; every word is whole (a word of `reference`) unless it ends in
    an ellipsis (cut where the full value is shown elsewhere)."""
    long = [line for line in out.split("\n") if len(line) > width]
    assert not long, f"lines over {width} columns:\n" + "\n".join(long)
    broken = sorted(w for w in words(out) - words(reference) if not w.endswith("…"))
    assert not broken, f"words broken at {width} columns: {broken}"


def run(cli, monkeypatch, width: int, *args: str):
    monkeypatch.setenv("COLUMNS", str(width))
    return cli(*args)


def render_demo(pod: str, width: int, *, narrow: bool | None = None) -> str:
    from probectl.cli.demo import snapshot
    from probectl.cli.why import diagnose_snapshot
    from probectl.render.console import Style
    from probectl.render.why import render

    return render(diagnose_snapshot(snapshot(), pod, None), Style(width=width), narrow=narrow)


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed (UPDATE_GOLDEN=1 to accept, after reading the diff)"


@pytest.mark.parametrize("width", [80, 200])
def test_why_golden_every_demo_pod(cli, monkeypatch, width):
    out = []
    for pod in demo_pods():
        status, text, err = run(cli, monkeypatch, width, "demo", pod)
        assert status == 0, err
        out.append(f"=== probectl demo {pod}  (COLUMNS={width})\n{text}")
    golden(f"why-{width}.txt", "".join(out))


@pytest.mark.parametrize("width", [80, 200])
def test_why_reads_at_width_for_every_demo_pod(cli, monkeypatch, width):
    pods = demo_pods()
    assert len(pods) >= 8
    for pod in pods:
        status, out, err = run(cli, monkeypatch, width, "demo", pod)
        assert status == 0, err
        # the same layout where nothing has to wrap
        assert_reads_at(out, width, render_demo(pod, 1000, narrow=width < 100))


def test_demo_stop_hook_at_80(cli, monkeypatch):
    """What the project's stop hook runs: COLUMNS=80 NO_COLOR=1 TERM=dumb probectl demo."""
    monkeypatch.setenv("TERM", "dumb")
    status, out, _ = run(cli, monkeypatch, 80, "demo")
    assert status == 0
    assert_reads_at(out, 80, render_demo("web-7f9c6d8b5-x2lqz", 1000, narrow=True) + "More examples: probectl demo --list")


@pytest.mark.parametrize("width", [80, 200])
def test_demo_list_reads_at_width(cli, monkeypatch, width):
    status, out, _ = run(cli, monkeypatch, width, "demo", "--list")
    assert status == 0 and len(out.splitlines()) >= len(demo_pods())
    narrow_only = "Show one in full: probectl demo NAME"  # the command column, once, when it does not fit
    assert (narrow_only in out) == (width == 80)
    assert_reads_at(out, width, run(cli, monkeypatch, WIDE, "demo", "--list")[1] + narrow_only)


@pytest.mark.parametrize("width", [80, 200])
def test_scan_of_the_demo_snapshot_reads_at_width(cli, monkeypatch, width):
    demo = str(ROOT / "probectl" / "examples" / "demo.json")
    status, out, _ = run(cli, monkeypatch, width, "scan", "-f", demo, "-A")
    assert status == 1 and "oom-killed" in out
    assert_reads_at(out, width, run(cli, monkeypatch, WIDE, "scan", "-f", demo, "-A")[1])


MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: a-deployment-with-a-rather-long-name-for-the-wrapping-test
  namespace: shop
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 10
      containers:
        - name: api
          image: registry.example.com/shop/api:1.4.2
          ports: [{name: http, containerPort: 8080}]
          lifecycle:
            preStop:
              sleep: {seconds: 15}
          livenessProbe:
            httpGet: {path: /healthz, port: metrics}
            failureThreshold: 1
            initialDelaySeconds: 90
            timeoutSeconds: 10
            periodSeconds: 10
"""


@pytest.mark.parametrize("fmt", ["text", "table"])
@pytest.mark.parametrize("width", [80, 200])
def test_lint_of_a_manifest_reads_at_width(cli, monkeypatch, tmp_path, width, fmt):
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "web.yaml").write_text(MANIFEST)
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(cli, monkeypatch, width, "lint", "-f", "k8s/web.yaml", "-o", fmt)
    assert status == 1 and "PL008" in out and "PL006" in out
    assert_reads_at(out, width, run(cli, monkeypatch, WIDE, "lint", "-f", "k8s/web.yaml", "-o", fmt)[1])


@pytest.mark.parametrize("width", [80, 200])
def test_lint_rules_read_at_width(cli, monkeypatch, width):
    status, out, _ = run(cli, monkeypatch, width, "lint", "--rules")
    assert status == 0 and "PL104" in out
    assert_reads_at(out, width, run(cli, monkeypatch, WIDE, "lint", "--rules")[1])


@pytest.mark.parametrize("args", [["137"], ["0", "1", "143", "-1073741819", "SIGSEGV"], ["--list"]])
@pytest.mark.parametrize("width", [80, 200])
def test_exitcode_reads_at_width(cli, monkeypatch, width, args):
    status, out, _ = run(cli, monkeypatch, width, "exitcode", *args)
    assert status == 0 and re.search(r"\d", out)
    note = "A command cut with … is whole in -o json (or a wider terminal)."  # only when one is cut
    assert_reads_at(out, width, run(cli, monkeypatch, WIDE, "exitcode", *args)[1] + note)


def test_the_checker_catches_a_broken_word():
    """The check itself: today's 80-column failure (`(CrashLoo` / `pBackOff)`) is caught."""
    ref = "| waiting (CrashLoopBackOff) |"
    with pytest.raises(AssertionError, match="broken"):
        assert_reads_at("| waiting (CrashLoo |\n|         pBackOff) |", 80, ref)
    with pytest.raises(AssertionError, match="over 20"):
        assert_reads_at("x" * 21, 20, "x" * 21)
    assert_reads_at("| waiting (CrashLoo… |", 80, ref)


@pytest.mark.parametrize("width", [80, 200])
def test_why_of_a_workload_reads_at_width(width):
    """`probectl why web` when web is a Deployment: a line per pod, then the worst in full."""
    from probectl.cli.demo import snapshot
    from probectl.cli.why import diagnose_snapshot
    from probectl.render.console import Style
    from probectl.render.why import render_overview

    snap = snapshot()
    pods = [p["metadata"]["name"] for p in snap.pods if p["metadata"]["name"].startswith("web-")]
    diagnoses = [diagnose_snapshot(snap, name, None) for name in pods]
    out = render_overview(diagnoses, Style(width=width))
    assert all(name in out for name in pods) and "The most troubled pod in full" in out
    wide = render_overview(diagnoses, Style(width=1000))
    narrow_ref = "\n".join(render_demo(name, 1000, narrow=True) for name in pods)
    assert_reads_at(out, width, wide + narrow_ref + " ".join(f"{n} restarts" for n in range(100)) + " restart")


def _finding(pod: str = "checkout-5d8f7c9b6-q4tnm"):
    from datetime import datetime, timezone

    from probectl.core.watch import Finding

    return Finding(datetime(2026, 11, 20, 6, 33, 40, tzinfo=timezone.utc), "shop", pod, "api", "termination", "oom-killed",
                   "Container api was OOM-killed at its 256Mi memory limit and restarted 1 time.", exit_code=137,
                   signal="SIGKILL", reason="OOMKilled")


@pytest.mark.parametrize("width", [80, 200])
def test_watch_lines_read_at_width(width):
    from probectl.cli.watch import _line
    from probectl.render.console import Style

    for f in (_finding(), _finding("a-statefulset-with-a-long-name-0")):
        out = _line(f, Style(width=width), "table")
        assert_reads_at(out, width, _line(f, Style(width=1000), "table"))
        assert out.startswith("06:33:40Z  shop/") and (len(out.splitlines()) == 1) == (width == 200)
        assert all(line.startswith("           ") for line in out.splitlines()[1:])  # under the time
    coloured = _line(_finding(), Style(width=80, color=True), "table")
    assert "\x1b[1;31moom-killed\x1b[0m" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == _line(_finding(), Style(width=80), "table")


def test_line_formats_keep_one_line_per_entry_in_a_pipe(cli, monkeypatch, tmp_path):
    """No terminal and no COLUMNS (a pipe, a CI log): lint's text and watch's lines are not
    wrapped, so grep and CI problem matchers see a whole finding per line."""
    from probectl.cli.watch import _line
    from probectl.render.console import Style

    monkeypatch.delenv("COLUMNS", raising=False)
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "web.yaml").write_text(MANIFEST)
    monkeypatch.chdir(tmp_path)
    status, out, _ = cli("lint", "-f", "k8s/web.yaml")
    heads = [line for line in out.splitlines() if line.startswith("k8s/web.yaml:")]
    assert status == 1 and len(heads) == 7 and all(line.endswith("container api)") for line in heads)
    assert not [line for line in out.splitlines() if line.startswith("    ")]
    piped = Style.detect(None, environ={})
    assert not piped.fits and piped.width == 120
    assert len(_line(_finding(), piped, "table").splitlines()) == 1
    assert Style.detect(None, environ={"COLUMNS": "80"}).fits
