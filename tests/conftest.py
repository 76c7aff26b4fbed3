from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# set by GitHub Actions: probectl (and the action's script) write to these files when they see them
GITHUB_VARS = ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_ENV")


def probectl_exe() -> str:
    """The installed console script (the venv's, not whatever is on PATH first)."""
    exe = Path(sys.executable).parent / "probectl"
    if exe.exists():
        return str(exe)
    found = shutil.which("probectl")
    if not found:
        pytest.skip("probectl is not installed as a console script")
    return found


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run probectl's main() in-process; returns (exit status, stdout, stderr)."""
    from probectl.cli.main import main

    monkeypatch.delenv("FORCE_COLOR", raising=False)
    for var in GITHUB_VARS:  # when the suite itself runs in GitHub Actions: not its job summary
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")

    def run(*args: str):
        status = main(list(args))
        out, err = capsys.readouterr()
        return status, out, err

    return run


@pytest.fixture
def clean_env():
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "KUBECONFIG", *GITHUB_VARS)}
    env["COLUMNS"] = "120"
    return env


@pytest.fixture(scope="session")
def tls():
    """A throw-away CA, a server certificate for 127.0.0.1 and a client certificate."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("probectl-test-client")
    return {
        "ca_obj": ca,
        "server": server,
        "ca": ca.cert_pem.bytes(),
        "client_cert": client.cert_chain_pems[0].bytes(),
        "client_key": client.private_key_pem.bytes(),
    }


@pytest.fixture(params=["orjson", "stdlib"])
def backend(request, monkeypatch):
    """Run the test with orjson and with the standard library's json (the fallback)."""
    from probectl import jsonio

    if request.param == "stdlib":
        monkeypatch.setattr(jsonio, "_orjson", None)
    elif jsonio._orjson is None:
        pytest.skip("orjson is not installed")
    return request.param


@pytest.fixture
def live_now(monkeypatch):
    """Build objects on this machine's clock (tests.builders.NOW): the installed command
    judges ages against it."""
    from datetime import datetime, timezone

    from tests import builders

    now = datetime.now(timezone.utc).replace(microsecond=0)
    monkeypatch.setattr(builders, "NOW", now)
    return now


@pytest.fixture(scope="module")
def cluster():
    """The small scan cluster: forty replicas failing the same way, and their neighbours."""
    from tests.scan_fixtures import small_cluster

    return small_cluster()


@pytest.fixture
def dump(tmp_path, cluster):
    """That cluster as a `kubectl cluster-info dump --output-directory`."""
    from tests.scan_fixtures import write_dump

    return str(write_dump(tmp_path / "dump", *cluster))
