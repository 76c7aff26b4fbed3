"""`probectl why -f` and `probectl demo` through the CLI."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from tests.builders import terminated
from tests.conftest import probectl_exe
from tests.scenarios import BY_NAME

OOM = BY_NAME["oom_killed_crashloop"]
HEALTHY = BY_NAME["healthy_running"]


def files(tmp_path, sc, name="x"):
    pod = tmp_path / f"{name}-pod.json"
    pod.write_text(json.dumps(sc.pod))
    ev = tmp_path / f"{name}-events.json"
    ev.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": sc.events}))
    return ["-f", str(pod), "-f", str(ev)]


def test_json_contract_and_findings_exit(cli, tmp_path):
    status, out, err = cli("why", "web-7f9c6d8b5-x2lqz", "-n", "shop", *files(tmp_path, OOM), "-o", "json")
    assert status == 1, err
    doc = json.loads(out)
    assert doc["kind"] == "Diagnosis" and doc["cause"] == "oom-killed" and doc["confidence"] == "high"
    assert doc["pod"] == doc["pod"] | {"namespace": "shop", "name": "web-7f9c6d8b5-x2lqz", "phase": "Running",
                                        "restartPolicy": "Always", "node": "node-3"}
    api = doc["containers"][0]
    assert api["lastTermination"]["exitCode"] == 137 and api["lastTermination"]["signal"] == "SIGKILL"
    assert api["lastTermination"]["reason"] == "OOMKilled"
    assert api["willRestart"] is True and api["restartCount"] == 7
    assert doc["asOf"] == "2026-11-20T09:59:30Z"  # the newest timestamp in the input


def test_yaml_same_document(cli, tmp_path):
    args = files(tmp_path, OOM)
    j = json.loads(cli("why", *args, "-o", "json")[1])
    y = yaml.safe_load(cli("why", *args, "-o", "yaml")[1])
    assert j == y


def test_healthy_exits_0(cli, tmp_path):
    status, out, _ = cli("why", *files(tmp_path, HEALTHY))
    assert status == 0
    assert "Verdict: healthy" in out


def test_table_report_sections(cli, tmp_path):
    status, out, _ = cli("why", "pod/web-7f9c6d8b5-x2lqz", *files(tmp_path, OOM))
    assert status == 1
    for text in ("Pod shop/web-7f9c6d8b5-x2lqz", "Containers", "Probes", "Events", "Verdict: oom-killed",
                 "Evidence", "Next steps", "kubectl logs -n shop web-7f9c6d8b5-x2lqz -c api --previous"):
        assert text in out


def test_pod_name_optional_with_one_pod(cli, tmp_path):
    assert cli("why", *files(tmp_path, OOM))[0] == 1


def test_several_pods_need_a_name(cli, tmp_path):
    args = files(tmp_path, OOM, "a") + files(tmp_path, HEALTHY, "b")
    status, out, err = cli("why", *args)
    assert status == 2 and out == ""
    assert "holds 2 pods" in err and err.count("\n") == 1


def test_unknown_pod(cli, tmp_path):
    status, out, err = cli("why", "web-nope", *files(tmp_path, OOM))
    assert status == 2 and out == ""
    assert 'pod "web-nope" not found' in err


def test_wrong_namespace(cli, tmp_path):
    status, _, err = cli("why", "web-7f9c6d8b5-x2lqz", "-n", "prod", *files(tmp_path, OOM))
    assert status == 2 and 'in namespace "prod"' in err


def test_no_pod_and_no_filename_is_a_usage_error(cli):
    status, out, err = cli("why")
    assert status == 2 and out == "" and "name a pod" in err


def test_bad_file_one_line(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    status, out, err = cli("why", "-f", str(bad))
    assert status == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err


def test_stdin_through_the_installed_command(tmp_path, clean_env):
    r = subprocess.run([probectl_exe(), "why", "-f", "-", "-o", "json"], input=json.dumps(OOM.pod),
                       capture_output=True, text=True, env=clean_env, timeout=60)
    assert r.returncode == 1, r.stderr
    assert json.loads(r.stdout)["cause"] == "oom-killed"


def test_demo_runs_with_no_cluster(cli):
    status, out, err = cli("demo")
    assert status == 0, err
    assert "Verdict: oom-killed" in out and "probectl demo --list" in out


def test_demo_list_and_each_example(cli):
    status, out, _ = cli("demo", "--list")
    assert status == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert len(names) >= 6
    causes = set()
    for name in names:
        s, o, e = cli("demo", name, "-o", "json")
        assert s == 0, e
        causes.add(json.loads(o)["cause"])
    assert {"oom-killed", "liveness-probe-failed", "readiness-probe-failed", "image-pull-failed"} <= causes


# ---------------------------------------------------------------- terminal safety

EVIL = ("\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\ \x1b[2J\x1b[H cleared "
        "[link=https://evil.example]x[/link] [bold red]loud[/bold red] :skull: \x07bell\rback\x08\x9b31m \u202eevil")


def evil_pod():
    pod = json.loads(json.dumps(OOM.pod))
    st = pod["status"]["containerStatuses"][0]
    st["lastState"] = terminated(1, "Error", 95, 40, message=EVIL)
    events = json.loads(json.dumps(OOM.events))
    events[-1]["message"] = EVIL
    return pod, events


@pytest.mark.parametrize("force_color", [False, True])
def test_cluster_text_cannot_drive_the_terminal(cli, tmp_path, monkeypatch, force_color):
    pod, events = evil_pod()
    (tmp_path / "p.json").write_text(json.dumps(pod))
    (tmp_path / "e.json").write_text(json.dumps({"kind": "List", "apiVersion": "v1", "items": events}))
    if force_color:
        monkeypatch.delenv("NO_COLOR")
        monkeypatch.setenv("FORCE_COLOR", "1")
    status, out, _ = cli("why", "-f", str(tmp_path / "p.json"), "-f", str(tmp_path / "e.json"))
    assert status == 1
    assert "\x1b]" not in out  # no OSC (hyperlinks, titles)
    assert "\x1b[2J" not in out and "\x1b[H" not in out
    assert "\x07" not in out and "\r" not in out and "\x08" not in out and "\x9b" not in out
    assert "\u202e" not in out
    assert "^[]8;;https://evil.example/" in out  # shown, defused
    assert "[link=https://evil.example]x[/link]" in out  # markup printed as text
    assert "[bold red]loud[/bold red]" in out
    assert ":skull:" in out  # no emoji substitution
    if not force_color:
        assert "\x1b" not in out
    else:
        import re

        assert set(re.findall(r"\x1b\[[0-9;]*m", out))  # rich's own colours are there
        assert not re.findall(r"\x1b(?!\[[0-9;]*m)", out)  # and nothing else


def test_json_keeps_cluster_text_exact(cli, tmp_path):
    pod, events = evil_pod()
    (tmp_path / "p.json").write_text(json.dumps(pod))
    doc = json.loads(cli("why", "-f", str(tmp_path / "p.json"), "-o", "json")[1])
    assert doc["containers"][0]["lastTermination"]["message"] == EVIL


def test_report_golden(cli):
    """The `why` report layout (probectl demo, plain text at 120 columns)."""
    import os

    from tests.conftest import ROOT

    status, out, _ = cli("demo")
    path = ROOT / "tests" / "golden" / "demo.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(out)
    assert status == 0 and out == path.read_text()


def test_empty_no_color_does_not_disable_colour(clean_env):
    env = dict(clean_env, FORCE_COLOR="1", NO_COLOR="")
    r = subprocess.run([probectl_exe(), "exitcode", "137"], capture_output=True, text=True, env=env, timeout=60)
    assert "\x1b[" in r.stdout  # no-color.org: NO_COLOR counts when it is not empty


def test_yaml_keeps_cluster_text_exact_and_escaped(cli, tmp_path):
    pod, _ = evil_pod()
    (tmp_path / "p.json").write_text(json.dumps(pod))
    out = cli("why", "-f", str(tmp_path / "p.json"), "-o", "yaml")[1]
    assert "\x1b" not in out and "\x07" not in out  # the serializer escapes control characters
    assert yaml.safe_load(out)["containers"][0]["lastTermination"]["message"] == EVIL
