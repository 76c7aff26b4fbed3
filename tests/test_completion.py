"""The committed completion scripts match the CLI, and completion really completes."""

from __future__ import annotations

import subprocess

import pytest

from probectl.cli.completion import script
from tests.conftest import ROOT, probectl_exe

FILES = {"bash": "probectl.bash", "zsh": "_probectl", "fish": "probectl.fish"}


@pytest.mark.parametrize("shell,name", sorted(FILES.items()))
def test_committed_scripts_are_current(shell, name):
    committed = (ROOT / "completions" / name).read_text()
    assert committed == script(shell), (
        f"completions/{name} is out of date: run 'probectl completion {shell} > completions/{name}'"
    )


def _complete(env, words: str, cword: int) -> list[str]:
    env = dict(env, COMP_WORDS=words, COMP_CWORD=str(cword), _PROBECTL_COMPLETE="complete_bash")
    r = subprocess.run([probectl_exe()], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_completes_every_command(clean_env):
    from probectl.cli.main import app

    names = {c.name for c in app.registered_commands}
    assert names <= set(_complete(clean_env, "probectl ", 1))


def test_completes_options_and_choices(clean_env):
    assert {"--list", "--output", "--no-color"} <= set(_complete(clean_env, "probectl exitcode -", 2))
    assert _complete(clean_env, "probectl exitcode -o ", 3) == ["table", "json", "yaml"]


def test_kubectl_plugin_completion(clean_env):
    from pathlib import Path

    exe = Path(probectl_exe()).parent / "kubectl_complete-probectl"
    r = subprocess.run([str(exe), "__complete", "wh"], capture_output=True, text=True, env=clean_env, timeout=60)
    assert r.returncode == 0
    assert r.stdout.splitlines()[0].startswith("why\t") and r.stdout.splitlines()[-1] == ":4"
    r = subprocess.run([str(exe), "__completeNoDesc", "why", "-o", ""], capture_output=True, text=True, env=clean_env, timeout=60)
    assert r.stdout.split() == ["table", "json", "yaml", "github", ":4"]  # why -o github (issue 27)


def test_real_kubectl_runs_the_plugin_and_its_completion(clean_env):
    import shutil
    from pathlib import Path

    kubectl = shutil.which("kubectl")
    if not kubectl:
        pytest.skip("kubectl is not installed")
    env = dict(clean_env, PATH=str(Path(probectl_exe()).parent) + ":" + clean_env.get("PATH", ""), HOME="/nonexistent")
    r = subprocess.run([kubectl, "probectl", "exitcode", "143"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0 and "SIGTERM" in r.stdout, r.stderr
    r = subprocess.run([kubectl, "__complete", "probectl", "wh"], capture_output=True, text=True, env=env, timeout=60)
    assert "why\t" in r.stdout and r.stdout.rstrip().endswith(":4")
