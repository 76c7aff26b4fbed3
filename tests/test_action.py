"""The GitHub Action (action.yml at the repository root): its metadata has what GitHub
requires, and its scan step, run as GitHub runs it, scans the local API server once and
leaves annotations, the step summary, the JUnit file and the step's outputs.

The install step (pip install of this directory into a virtual environment) is not run:
it needs the package index, and tests contact nothing but 127.0.0.1. The scan step takes
the probectl command from PROBECTL, which the install step sets; here it is the
installed console script of the test environment, the same code.
"""

from __future__ import annotations

import re
import socket
import subprocess

import pytest
import yaml
from lxml import etree

from tests.apiserver import FakeAPIServer
from tests.conftest import ROOT, probectl_exe
from tests.kube import kubeconfig

ACTION = ROOT / "action.yml"
INPUTS = {"namespace", "all-namespaces", "selector", "since", "fail-on", "kubeconfig", "args", "junit-file", "workload"}


@pytest.fixture(scope="module")
def action() -> dict:
    return yaml.safe_load(ACTION.read_text())


def _step(action: dict, step_id: str) -> dict:
    return next(s for s in action["runs"]["steps"] if s.get("id") == step_id)


# ----------------------------------------------------------------- metadata


def test_action_metadata_has_what_github_requires(action):
    assert isinstance(action["name"], str) and action["name"]
    assert isinstance(action["description"], str) and 0 < len(action["description"]) <= 125  # the Marketplace's limit
    assert set(action["inputs"]) == INPUTS
    for name, spec in action["inputs"].items():
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name), name
        assert isinstance(spec.get("description"), str) and spec["description"], name
        # YAML 1.1 reads an unquoted true/false/on/off as a boolean: defaults must be strings
        assert isinstance(spec.get("default", ""), str), name
        assert spec.get("required", False) is False, name
    assert action["inputs"]["junit-file"]["default"] == "probectl-junit.xml"
    assert action["inputs"]["fail-on"]["default"] == "critical"
    for name, spec in action["outputs"].items():
        assert spec["description"] and re.fullmatch(r"\$\{\{ steps\.scan\.outputs\.[a-z-]+ \}\}", spec["value"]), name
    assert {"junit-file", "exit-code"} <= set(action["outputs"])
    runs = action["runs"]
    assert runs["using"] == "composite" and runs["steps"]
    for step in runs["steps"]:
        assert ("run" in step) != ("uses" in step), step.get("name")
        if "run" in step:
            assert step["shell"] == "bash", step.get("name")
            # inputs reach scripts through env: an input pasted into `run` would be script injection
            assert "${{" not in step["run"], step.get("name")


def test_action_installs_its_own_version(action):
    """pip installs the action's own directory (the ref the workflow pinned), in a virtual
    environment, and hands that probectl to the scan step."""
    install, scan = _step(action, "install"), _step(action, "scan")
    assert 'python3 -m venv "$venv"' in install["run"]
    assert '"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$GITHUB_ACTION_PATH"' in install["run"]
    assert 'echo "probectl=$venv/bin/probectl" >> "$GITHUB_OUTPUT"' in install["run"]
    assert scan["env"]["PROBECTL"] == "${{ steps.install.outputs.probectl }}"
    assert scan["run"] == 'bash "$GITHUB_ACTION_PATH/ci/github-action.sh"'
    # every input reaches the script, each as INPUT_<NAME>
    wanted = {f"INPUT_{n.upper().replace('-', '_')}": f"${{{{ inputs.{n} }}}}" for n in INPUTS}
    assert {k: v for k, v in scan["env"].items() if k.startswith("INPUT_")} == wanted
    script = (ROOT / "ci" / "github-action.sh").read_text()
    assert all(var in script for var in wanted)
    # the package the install step builds is the one in this directory
    assert (ROOT / "pyproject.toml").exists() and (ROOT / "probectl" / "__init__.py").exists()


# ----------------------------------------------------------------- the scan step, run as GitHub runs it


class Run:
    def __init__(self, proc, tmp_path, workdir):
        self.returncode, self.stdout, self.stderr = proc.returncode, proc.stdout, proc.stderr
        self.summary = (tmp_path / "summary.md").read_text()
        self.outputs = dict(line.split("=", 1) for line in (tmp_path / "output").read_text().splitlines() if "=" in line)
        self.workdir = workdir


@pytest.fixture
def run_step(action, tmp_path, clean_env):
    """Run the scan step's `run:` with bash as the runner does, the `env:` of the step with
    the given inputs (else the defaults of action.yml) substituted."""
    step = _step(action, "scan")
    workdir = tmp_path / "workspace"
    workdir.mkdir()
    (tmp_path / "summary.md").write_text("")
    (tmp_path / "output").write_text("")

    def run(**inputs) -> Run:
        values = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
        values.update({k.replace("_", "-"): v for k, v in inputs.items()})

        def expand(text: str) -> str:
            text = text.replace("${{ steps.install.outputs.probectl }}", probectl_exe())
            return re.sub(r"\$\{\{ inputs\.([a-z-]+) \}\}", lambda m: values[m.group(1)], text)

        env = {k: v for k, v in clean_env.items() if "proxy" not in k.lower()}
        env.update({k: expand(v) for k, v in step["env"].items()})
        env.update({"HOME": str(tmp_path / "home"), "GITHUB_ACTIONS": "true", "GITHUB_ACTION_PATH": str(ROOT),
                    "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "GITHUB_OUTPUT": str(tmp_path / "output"),
                    "RUNNER_TEMP": str(tmp_path), "NO_COLOR": "1"})
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=workdir,
                              env=env, capture_output=True, text=True, timeout=120)
        return Run(proc, tmp_path, workdir)

    return run


@pytest.fixture
def api(cluster, tmp_path):
    with FakeAPIServer(*cluster, token="t0ken") as server:
        server.kubeconfig = str(kubeconfig(tmp_path / "kubeconfig", server=server.url, token="t0ken"))
        yield server


def plain_scan_requests(api, clean_env, *args) -> list[str]:
    """The requests of a plain `probectl scan` (no reports) against the server, then forgotten."""
    env = {k: v for k, v in clean_env.items() if "proxy" not in k.lower()}
    subprocess.run([probectl_exe(), "scan", "--kubeconfig", api.kubeconfig, *args], env=env, capture_output=True,
                   timeout=120)
    paths = [p for p, _, _ in api.requests]
    api.requests.clear()
    return paths


def test_one_scan_annotations_summary_and_junit(run_step, api, clean_env):
    plain = plain_scan_requests(api, clean_env, "-A")
    assert sorted(p for p in plain if not p.endswith("/log")) == [
        "/api/v1/events", "/api/v1/events", "/api/v1/pods",  # pod events, then FailedCreate (issue 27)
        "/apis/apps/v1/daemonsets", "/apis/apps/v1/deployments", "/apis/apps/v1/statefulsets", "/apis/batch/v1/jobs"]
    r = run_step(all_namespaces="true", kubeconfig=api.kubeconfig)
    assert r.returncode == 1, r.stderr  # critical findings: the --fail-on contract
    # annotations, summary and JUnit from the requests of a plain `probectl scan -A`
    assert sorted(p for p, _, _ in api.requests) == sorted(plain)  # the pods' first page races the events
    lines = r.stdout.splitlines()
    assert lines[0].startswith("probectl scan --output github --fail-on critical --report junit=probectl-junit.xml")
    annotations = lines[1:]
    assert annotations[0].startswith("::error title=oom-killed%3A shop/Deployment/web (40 pods)")
    assert all(line.startswith("::") for line in annotations)
    assert "| `oom-killed` | 40 |" in r.summary and r.summary.startswith("## ❌ probectl scan: failed")
    assert r.outputs == {"junit-file": "probectl-junit.xml", "exit-code": "1"}
    junit = etree.parse(str(r.workdir / "probectl-junit.xml"))
    etree.XMLSchema(etree.parse(str(ROOT / "tests" / "data" / "junit.xsd"))).assertValid(junit)
    assert junit.find(".//failure[@type='oom-killed']") is not None


def test_namespaces_selector_since_and_args_reach_the_api(run_step, api):
    r = run_step(namespace="shop, batch", selector="app=web", since="1d", fail_on="never", kubeconfig=api.kubeconfig,
                 args="--field-selector 'status.phase!=Succeeded' --include-history", junit_file="reports/scan.xml")
    assert r.returncode == 0, r.stderr  # fail-on never
    paths = [p for p, _, _ in api.requests if not p.endswith("/log")]  # scan may read a log per failing group
    # the first page of pods is asked for while the events are read: compare without order
    assert sorted(paths) == sorted(["/api/v1/namespaces/shop/events", "/api/v1/namespaces/batch/events",
                                    "/api/v1/namespaces/shop/pods", "/api/v1/namespaces/batch/pods"])
    pods_query = next(q for p, q, _ in api.requests if p == "/api/v1/namespaces/shop/pods")
    assert pods_query["labelSelector"] == "app=web" and pods_query["fieldSelector"] == "status.phase!=Succeeded"
    assert "--namespace shop --namespace batch --selector app=web --since 1d" in r.stdout.splitlines()[0]
    assert r.outputs["junit-file"] == "reports/scan.xml" and r.outputs["exit-code"] == "0"
    etree.parse(str(r.workdir / "reports" / "scan.xml"))  # its directory made by the script


def test_kubeconfig_from_the_environment(run_step, api, clean_env):
    clean_env["KUBECONFIG"] = api.kubeconfig  # what kind and cluster set-up actions export
    r = run_step(all_namespaces="true", fail_on="warning")
    assert r.returncode == 1 and sorted(p for p, _, _ in api.requests[:2]) == ["/api/v1/events", "/api/v1/pods"]


def test_workload_input_adds_the_rollouts_verdict(run_step, tmp_path, live_now):
    """Issue 27: after a failed `helm upgrade --wait`, the Deployment that cannot create its
    pods is named with the API server's own words, and fails the step."""
    from tests import rollouts

    r = rollouts.deploy_quota()
    with FakeAPIServer(r.pods, r.events, token="t0ken", workloads=[r.workload, *r.replicasets]) as server:
        cfg = str(kubeconfig(tmp_path / "wl-kubeconfig", server=server.url, token="t0ken"))
        got = run_step(namespace="shop", workload="deploy/web", kubeconfig=cfg)
        paths = [p for p, _, _ in server.requests]
    assert got.returncode == 1, got.stderr
    lines = got.stdout.splitlines()
    assert any(line.startswith("probectl why deploy/web --output github --no-logs --namespace shop") for line in lines)
    assert any(line.startswith("::error title=create-refused%3A shop/Deployment/web::") and "compute-quota" in line
               for line in lines)
    assert got.outputs["workload-cause"] == "create-refused" and got.outputs["exit-code"] == "1"
    assert "/apis/apps/v1/namespaces/shop/deployments/web" in paths


@pytest.mark.parametrize("inputs,message", [
    ({"workload": "web; rm -rf /"}, "workload: 'web; rm -rf /' is not KIND/NAME"),
    ({"all_namespaces": "yes"}, "all-namespaces: true or false, not 'yes'"),
    ({"namespace": "shop *"}, "namespace: '*' is not a namespace name"),
    ({"args": "--field-selector 'unbalanced"}, "args: unbalanced quotes"),
    ({"junit_file": "a\nb.xml"}, "junit-file: a path without line breaks"),
])
def test_bad_inputs_are_an_annotation_and_exit_2(run_step, api, inputs, message):
    r = run_step(kubeconfig=api.kubeconfig, **inputs)
    assert r.returncode == 2 and api.requests == []
    assert r.stdout.startswith("::error title=probectl scan::") and message in r.stdout
    assert r.outputs == {"exit-code": "2"}


def test_probectl_refusing_its_input_is_exit_2(run_step, api):
    r = run_step(kubeconfig=api.kubeconfig, since="soon")
    assert r.returncode == 2 and "--since 'soon'" in r.stderr and api.requests == []
    assert "::error title=probectl scan::probectl refused its input (exit 2)" in r.stdout
    assert r.outputs == {"junit-file": "probectl-junit.xml", "exit-code": "2"}


def test_an_unreachable_cluster_is_exit_3_and_no_report(run_step, tmp_path):
    with socket.socket() as s:  # a port on 127.0.0.1 that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = str(kubeconfig(tmp_path / "gone", server=f"http://127.0.0.1:{port}", token="t0ken"))
    r = run_step(all_namespaces="true", kubeconfig=cfg)
    assert r.returncode == 3, r.stderr
    assert "::error title=probectl scan::probectl could not read the cluster (exit 3)" in r.stdout
    assert r.summary == "" and not (r.workdir / "probectl-junit.xml").exists()
    assert r.outputs["exit-code"] == "3"


def test_readme_documents_every_input_and_output(action):
    # the README or a page of docs/ (the workload input: docs/rollouts.md)
    readme = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
    for name in action["inputs"]:
        assert f"| `{name}` |" in readme, name
    for name in action["outputs"]:
        assert f"| `{name}` |" in readme, name
    assert "uses: probectl/probectl@" in readme and "if: failure()" in readme
    assert "--report junit=probectl-junit.xml" in readme and "junit: probectl-junit.xml" in readme
