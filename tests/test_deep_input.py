"""Input nested far deeper than any Kubernetes object (10,000 levels of `[` or `{`) ends in
one line on stderr and exit 2, never a RecursionError: JSON, YAML, concatenated JSON and
standard input, through every command that reads files."""

from __future__ import annotations

import json
import subprocess

import pytest
import responses

from tests.conftest import probectl_exe
from tests.kube import SERVER, isolate_env, kubeconfig
from tests.scenarios import BY_NAME

DEPTH = 10_000
POD = json.dumps(BY_NAME["oom_killed_crashloop"].pod)

INPUTS = {
    "open-brackets.yaml": "[" * DEPTH + "\n",  # not JSON (unclosed): read as YAML, as the issue reported
    "brackets.json": "[" * DEPTH + "]" * DEPTH + "\n",
    "objects.json": '{"a":' * DEPTH + "1" + "}" * DEPTH + "\n",
    "block.yaml": "kind: Pod\nspec:\n" + "".join("  " * i + "a:\n" for i in range(1, 3000)),
    "flow.yaml": "kind: Pod\nspec: " + "{a: " * DEPTH + "1" + "}" * DEPTH + "\n",
    "second-document.yaml": "kind: ConfigMap\nmetadata: {name: x}\n---\n" + "[" * DEPTH + "\n",
    "concatenated.json": POD + "\n" + '{"a":' * DEPTH + "1" + "}" * DEPTH + "\n",
}


@pytest.mark.parametrize("name", sorted(INPUTS))
@pytest.mark.parametrize("command", [["lint"], ["why"], ["scan"]])
def test_deep_input_is_one_line_and_exit_2(cli, tmp_path, backend, name, command):
    path = tmp_path / name
    path.write_text(INPUTS[name])
    status, out, err = cli(*command, "-f", str(path))
    assert (status, out) == (2, ""), err
    assert err == f"probectl: error: {path}: nested too deeply to be a Kubernetes object\n"


def test_deep_standard_input_through_the_installed_command(clean_env):
    """The installed console script, stdin: no traceback, one line."""
    for command in ("lint", "why"):
        r = subprocess.run([probectl_exe(), command, "-f", "-"], input="[" * DEPTH, capture_output=True, text=True,
                           env=clean_env, timeout=60)
        assert r.returncode == 2 and r.stdout == ""
        assert r.stderr in ("probectl: error: standard input: nested too deeply to be a Kubernetes object\n",
                            "probectl: error: <stdin>: nested too deeply to be a Kubernetes object\n")


def test_deep_but_possible_input_still_reads(cli, tmp_path):
    """A pod with a 500-level structure in a field probectl does not read: still diagnosed."""
    pod = json.loads(POD)
    deep: object = "x"
    for _ in range(500):
        deep = [deep]
    pod["spec"]["containers"][0]["args"] = deep
    path = tmp_path / "pod.json"
    path.write_text(json.dumps(pod))
    status, out, err = cli("why", "-f", str(path), "-o", "json")
    assert status == 1 and json.loads(out)["cause"] == "oom-killed", err


@responses.activate
def test_a_deep_api_answer_is_exit_3(cli, tmp_path, monkeypatch, backend):
    isolate_env(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "home" / "config")))
    responses.get(f"{SERVER}/api/v1/namespaces/shop/pods/web", body='{"a":' * DEPTH + "1" + "}" * DEPTH)
    status, out, err = cli("why", "web")
    assert (status, out) == (3, "") and err.count("\n") == 1 and "not JSON" in err
