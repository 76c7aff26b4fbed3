"""`probectl exitcode` through the CLI: CliRunner, main(), and the installed command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from typer.testing import CliRunner

from probectl.cli.main import app
from tests.conftest import probectl_exe


def test_clirunner_decodes_137():
    result = CliRunner().invoke(app, ["exitcode", "137"], env={"NO_COLOR": "1"})
    assert result.exit_code == 0
    assert "Exit code 137: killed by SIGKILL" in result.output
    assert "OOMKilled" in result.output
    assert "OnFailure" in result.output


def test_json_contract(cli):
    status, out, err = cli("exitcode", "137", "-o", "json")
    assert status == 0 and err == ""
    doc = json.loads(out)
    assert doc["apiVersion"] == "probectl/v1"
    assert doc["kind"] == "ExitCode"
    assert doc["exitCode"] == 137
    assert doc["signal"] == "SIGKILL"
    assert doc["signalNumber"] == 9
    assert isinstance(doc["meaning"], str) and doc["meaning"]


def test_json_no_signal_is_null(cli):
    doc = json.loads(cli("exitcode", "1", "-o", "json")[1])
    assert doc["signal"] is None and doc["signalNumber"] is None


def test_yaml_is_the_same_document(cli):
    j = json.loads(cli("exitcode", "143", "-o", "json")[1])
    y = yaml.safe_load(cli("exitcode", "143", "-o", "yaml")[1])
    assert j == y


def test_several_codes_make_a_list(cli):
    status, out, _ = cli("exitcode", "137", "SIGSEGV", "-1073741819", "-o", "json")
    assert status == 0
    doc = json.loads(out)
    assert doc["kind"] == "List"
    assert [i["exitCode"] for i in doc["items"]] == [137, 139, -1073741819]
    assert doc["items"][2]["meaning"] == "STATUS_ACCESS_VIOLATION"


def test_list_table_and_json(cli):
    status, out, _ = cli("exitcode", "--list")
    assert status == 0
    for text in ("SIGKILL", "SIGSEGV", "SIGSYS", "command not found", "STATUS_ACCESS_VIOLATION"):
        assert text in out
    doc = json.loads(cli("exitcode", "--list", "-o", "json")[1])
    assert len(doc["items"]) >= 40


@pytest.mark.parametrize("bad", ["abc", "1.5", "", "123456789012345678901234567890", "--bogus"])
def test_bad_input_one_line_exit_2(cli, bad):
    status, out, err = cli("exitcode", bad)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("probectl: error: ")
    assert "Traceback" not in err


def test_no_code_is_a_usage_error(cli):
    status, _, err = cli("exitcode")
    assert status == 2 and "at least one exit code" in err


def test_list_and_codes_conflict(cli):
    assert cli("exitcode", "--list", "137")[0] == 2


def test_unknown_output_format(cli):
    status, _, err = cli("exitcode", "137", "-o", "xml")
    assert status == 2 and "xml" in err and err.count("\n") == 1


def test_version(cli):
    from probectl import __version__

    assert cli("--version")[1] == f"probectl {__version__}\n"


def test_table_plain_when_not_a_terminal(cli):
    out = cli("exitcode", "--list")[1]
    assert "\x1b[" not in out
    assert not any(ch in out for ch in "╭│─┃━")  # ASCII borders in pipes


def _run(args, env, **kw):
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=60, **kw)


def test_installed_entry_point(clean_env):
    r = _run([probectl_exe(), "exitcode", "139"], clean_env)
    assert r.returncode == 0, r.stderr
    assert "SIGSEGV" in r.stdout
    assert "\x1b[" not in r.stdout  # not a terminal: no colour


def test_installed_entry_point_bad_input(clean_env):
    r = _run([probectl_exe(), "exitcode", "1.5"], clean_env)
    assert r.returncode == 2
    assert r.stderr.startswith("probectl: error:") and "Traceback" not in r.stderr


def test_python_dash_m(clean_env):
    r = _run([sys.executable, "-m", "probectl", "exitcode", "--help"], clean_env)
    assert r.returncode == 0
    assert "Usage: probectl exitcode" in r.stdout


def test_kubectl_plugin_name(clean_env):
    from pathlib import Path

    plugin = Path(probectl_exe()).parent / "kubectl-probectl"
    r = _run([str(plugin), "exitcode", "--help"], clean_env)
    assert r.returncode == 0
    assert "Usage: kubectl probectl exitcode" in r.stdout


def test_force_color_gives_ansi(clean_env):
    env = dict(clean_env, FORCE_COLOR="1")
    r = _run([probectl_exe(), "exitcode", "137"], env)
    assert "\x1b[" in r.stdout
    env = dict(clean_env, FORCE_COLOR="1", NO_COLOR="1")
    assert "\x1b[" not in _run([probectl_exe(), "exitcode", "137"], env).stdout


@pytest.mark.parametrize("args", [["exitcode", "137"], ["exitcode", "137", "-o", "json"], ["--help"], ["exitcode", "--list"]])
def test_does_not_import_kubernetes(clean_env, args):
    code = (
        "import sys\nfrom probectl.cli.main import main\n"
        f"status = main({args!r})\n"
        "heavy = sorted(m for m in sys.modules if m == 'kubernetes' or m.startswith(('kubernetes.', 'yaml', 'requests', 'urllib3')))\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy))\n"
    )
    r = _run([sys.executable, "-c", code], clean_env)
    heavy = r.stderr.rsplit("HEAVY=", 1)[1]
    assert "kubernetes" not in heavy
    assert "requests" not in heavy


def test_closed_pipe_is_quiet(clean_env):
    r = subprocess.run(
        f"'{probectl_exe()}' exitcode --list | head -1", shell=True, capture_output=True, text=True, env=clean_env, timeout=60
    )
    assert r.returncode == 0
    assert "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr
