"""Several reports from one run (`--report FORMAT=PATH`), written atomically, checked before
anything is fetched; and the Markdown summary appended to GitHub's step summary."""

from __future__ import annotations

import json
import os
import stat
import threading

import pytest
import responses
import yaml
from lxml import etree

from probectl.cli import reports
from probectl.errors import InputError, UsageError
from tests.conftest import ROOT
from tests.kube import SERVER, isolate_env, kubeconfig
from tests.test_scan import _mock_all_namespaces, _page

FORMATS = ["table", "json", "yaml", "markdown", "junit", "github"]
MiB = 1024 * 1024


@pytest.fixture
def kcfg(tmp_path, monkeypatch):
    isolate_env(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "home" / "config")))


@pytest.fixture
def in_actions(cli, tmp_path, monkeypatch):
    """GitHub Actions' environment: the step summary file, with an earlier step's text
    (after the cli fixture, which clears the GITHUB_* variables)."""
    summary = tmp_path / "step_summary.md"
    summary.write_text("# Earlier output of this step\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    return summary


def leftovers(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# ----------------------------------------------------------------- plan(): checked before anything is fetched


def test_plan_destinations(tmp_path):
    x = str(tmp_path / "x.xml")
    assert [(t.fmt, t.path) for t in reports.plan(None, None, None, FORMATS)] == [("table", "-")]
    assert [(t.fmt, t.path) for t in reports.plan("json", None, None, FORMATS)] == [("json", "-")]
    # --output-file takes the -o format; the terminal shows the table
    assert [(t.fmt, t.path) for t in reports.plan("junit", x, None, FORMATS)] == [("junit", x), ("table", "-")]
    # a report to stdout replaces the table
    got = reports.plan(None, None, ["JUnit = " + x, "markdown=-"], FORMATS)
    assert [(t.fmt, t.path) for t in got] == [("junit", x), ("markdown", "-")]
    # lint's default is the text lines
    assert reports.plan(None, None, None, ["text", "sarif"], default="text")[0].fmt == "text"


@pytest.mark.parametrize("spec,message", [
    ("junit", "use FORMAT=PATH"),
    ("=x.xml", "use FORMAT=PATH"),
    ("junit=", "use FORMAT=PATH"),
    ("sarif=x.sarif", "unknown format 'sarif' (one of: table, json, yaml, markdown, junit, github)"),
])
def test_plan_refuses_bad_specs(tmp_path, spec, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        reports.plan(None, None, [spec], FORMATS)


def test_plan_refuses_bad_paths(tmp_path):
    with pytest.raises(UsageError, match="is a directory"):
        reports.plan(None, None, [f"junit={tmp_path}"], FORMATS)
    with pytest.raises(UsageError, match="does not exist"):
        reports.plan(None, None, [f"junit={tmp_path / 'nope' / 'x.xml'}"], FORMATS)
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="does not exist"):
        reports.plan(None, None, [f"junit={tmp_path / 'file' / 'x.xml'}"], FORMATS)  # the "directory" is a file
    x = str(tmp_path / "x")
    with pytest.raises(UsageError, match="named by two reports"):
        reports.plan("junit", x, [f"json={x}"], FORMATS)
    with pytest.raises(UsageError, match="only one report can go to standard output"):
        reports.plan(None, None, ["junit=-", "json=-"], FORMATS)
    with pytest.raises(UsageError, match="only one report can go to standard output"):
        reports.plan("json", None, ["junit=-"], FORMATS)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere: permissions cannot be tested")
def test_plan_refuses_unwritable_paths(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "old.xml").write_text("old")
    (ro / "old.xml").chmod(0o444)
    ro.chmod(0o555)
    try:
        with pytest.raises(UsageError, match="cannot create a file in"):
            reports.plan(None, None, [f"junit={ro / 'x.xml'}"], FORMATS)
        with pytest.raises(UsageError, match="permission denied"):
            reports.plan(None, None, [f"junit={ro / 'old.xml'}"], FORMATS)
    finally:
        ro.chmod(0o755)


def test_an_existing_file_in_a_read_only_directory_is_refused_too(tmp_path):
    """The report is renamed into place, so the directory must be writable, not just the file."""
    if os.geteuid() == 0:
        pytest.skip("root may write anywhere")
    d = tmp_path / "d"
    d.mkdir()
    (d / "x.xml").write_text("old")
    d.chmod(0o555)
    try:
        with pytest.raises(UsageError, match="cannot create a file in"):
            reports.plan(None, None, [f"junit={d / 'x.xml'}"], FORMATS)
    finally:
        d.chmod(0o755)


# ----------------------------------------------------------------- the Writer


def _writer(targets):
    streamed = {"json": reports.Streamed(lambda d: json.dumps(d), lambda report, items: ["[", ",".join(items), "]\n"])}
    return reports.Writer(targets, streamed)


def test_writer_streams_items_and_renders_the_rest(tmp_path, monkeypatch):
    monkeypatch.setattr(reports, "SPOOL_MEMORY", 64)  # items spill to disk after 64 characters
    out = []

    class Out:
        write = out.append

        def flush(self):
            pass

    targets = reports.plan(None, None, [f"json={tmp_path / 'a.json'}", f"markdown={tmp_path / 'a.md'}"], FORMATS)
    w = reports.Writer(targets, _writer(targets).streamed, stdout=Out())
    items = [{"n": i, "text": "nul \0 and newline \n"} for i in range(50)]
    for it in items:
        w.item(it)
    w.finish(None, lambda fmt, to_file: f"{fmt} {'file' if to_file else 'stdout'}\n")
    assert json.loads((tmp_path / "a.json").read_text()) == items
    assert (tmp_path / "a.md").read_text() == "markdown file\n"
    assert out == ["table stdout\n"]
    assert leftovers(tmp_path) == []


def test_writer_failure_leaves_nothing(tmp_path):
    old = tmp_path / "old.xml"
    old.write_text("the report of an earlier run\n")
    targets = reports.plan(None, None, [f"junit={old}", f"markdown={tmp_path / 'new.md'}"], FORMATS)
    w = _writer(targets)

    def render(fmt, to_file):
        if fmt == "table":
            raise RuntimeError("boom while rendering the last report")
        return fmt

    with pytest.raises(RuntimeError):
        w.finish(None, render)
    assert old.read_text() == "the report of an earlier run\n"
    assert not (tmp_path / "new.md").exists() and leftovers(tmp_path) == []


def test_write_atomic_keeps_the_mode_and_reports_errors(tmp_path):
    p = tmp_path / "r.xml"
    p.write_text("old")
    p.chmod(0o600)
    reports.write_atomic(str(p), ["new ", "text"])
    assert p.read_text() == "new text" and stat.S_IMODE(p.stat().st_mode) == 0o600
    with pytest.raises(InputError, match="cannot write"):
        reports.write_atomic(str(tmp_path / "missing" / "r.xml"), ["x"])


def test_a_symbolic_link_is_followed_not_replaced(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "r.xml"
    target.write_text("old")
    link = tmp_path / "link.xml"
    link.symlink_to(target)
    reports.plan(None, None, [f"junit={link}"], FORMATS)
    reports.write_atomic(str(link), ["new"])
    assert link.is_symlink() and target.read_text() == "new"
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "real") == []


def test_a_fifo_is_written_in_place(tmp_path):
    """`--report junit=/dev/stdout` and FIFOs: written into, never renamed over (which, as
    root, would replace /dev/stdout with a regular file)."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    reports.plan(None, None, [f"junit={fifo}"], FORMATS)
    try:
        reports.write_atomic(str(fifo), ["<testsuites/>", "\n"])
    finally:
        reader.join(10)
        if reader.is_alive() and stat.S_ISFIFO(fifo.lstat().st_mode):  # never leave the reader blocked
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert got == ["<testsuites/>\n"] and stat.S_ISFIFO(fifo.lstat().st_mode)
    assert leftovers(tmp_path) == []


# ----------------------------------------------------------------- scan --report through the CLI


def test_several_reports_from_one_scan(cli, dump, tmp_path):
    paths = {fmt: tmp_path / f"r.{fmt}" for fmt in ("junit", "markdown", "json", "yaml", "table")}
    args = [a for fmt, p in paths.items() for a in ("--report", f"{fmt}={p}")]
    status, out, err = cli("scan", "-f", dump, "-A", "-o", "github", *args)
    assert status == 1, err  # the --fail-on contract, whatever the reports
    assert out.startswith("::error ") and all(line.startswith("::") for line in out.splitlines())
    doc = json.loads(paths["json"].read_text())
    assert yaml.safe_load(paths["yaml"].read_text()) == doc
    troubled = {i["pod"]["name"] for i in doc["items"] if i["severity"] != "ok"}
    junit = etree.fromstring(paths["junit"].read_bytes())
    etree.XMLSchema(etree.parse(str(ROOT / "tests" / "data" / "junit.xsd"))).assertValid(junit)
    assert {c.get("name") for c in junit.iter("testcase") if c.find("failure") is not None} == troubled
    md = paths["markdown"].read_text()
    assert md.startswith("## ❌ probectl scan: failed") and "| Severity | Workload |" in md
    assert "Critical: 6 problems in 47 pods" in paths["table"].read_text()
    # each the same as the format alone on stdout
    for fmt in ("junit", "markdown", "json", "yaml"):
        assert cli("scan", "-f", dump, "-A", "-o", fmt)[1] == paths[fmt].read_text(), fmt
    assert leftovers(tmp_path) == []


def test_a_report_to_stdout_replaces_the_table(cli, dump, tmp_path):
    status, out, _ = cli("scan", "-f", dump, "-A", "--report", "json=-", "--report", f"junit={tmp_path / 'x.xml'}")
    assert status == 1 and json.loads(out)["kind"] == "ScanReport"
    etree.fromstring((tmp_path / "x.xml").read_bytes())


def test_a_table_in_a_file_has_no_colour(cli, dump, tmp_path, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR")
    status, out, _ = cli("scan", "-f", dump, "-A", "--report", f"table={tmp_path / 't.txt'}")
    assert "\x1b[" in out  # the terminal's table is coloured as asked
    text = (tmp_path / "t.txt").read_text()
    assert "Critical: 6 problems" in text and "\x1b" not in text and "─" not in text


@pytest.mark.parametrize("args,message", [
    (["--report", "junit"], "--report 'junit': use FORMAT=PATH"),
    (["--report", "sarif=x.sarif"], "unknown format 'sarif'"),
    (["--report", "junit={tmp}"], "is a directory"),
    (["--report", "junit={tmp}/no/such/dir/x.xml"], "does not exist"),
    (["--report", "junit=-", "--report", "markdown=-"], "only one report can go to standard output"),
    (["-o", "json", "--report", "junit=-"], "only one report can go to standard output"),
])
@responses.activate
def test_bad_report_values_exit_2_before_any_request(cli, kcfg, tmp_path, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    status, out, err = cli("scan", "-A", *args)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("probectl: error: ") and message in err
    assert len(responses.calls) == 0


@responses.activate
def test_reports_cost_no_extra_requests(cli, kcfg, cluster, tmp_path):
    pages = _mock_all_namespaces(responses, *cluster)
    status, plain, _ = cli("scan", "-A", "-o", "github")
    requests = [c.request.url for c in responses.calls]
    assert status == 1 and sum("/log" not in u for u in requests) == pages  # the lists (and the logs scan reads)
    responses.calls.reset()
    x, s = tmp_path / "x.xml", tmp_path / "s.md"
    status, out, err = cli("scan", "-A", "-o", "github", "--report", f"junit={x}", "--report", f"markdown={s}")
    assert status == 1, err
    assert [c.request.url for c in responses.calls] == requests  # one listing feeds every report
    assert out == plain
    junit = etree.fromstring(x.read_bytes())
    assert junit.find(".//failure[@type='oom-killed']") is not None
    assert "| `oom-killed` | 40 |" in s.read_text()


@responses.activate
def test_a_failed_scan_leaves_no_report(cli, kcfg, cluster, tmp_path):
    """The API fails in the middle of the pod list (a token that expired between two pages):
    exit 3, nothing on stdout, no new file, the old file untouched, no temporary file left."""
    pods, events = cluster
    responses.get(f"{SERVER}/api/v1/events", json=_page("EventList", events))
    url = f"{SERVER}/api/v1/pods"
    responses.get(url, json=_page("PodList", pods[:30], "c1"),
                  match=[responses.matchers.query_param_matcher({"limit": "500"})])
    responses.get(url, status=401, json={"kind": "Status", "code": 401, "reason": "Unauthorized"},
                  match=[responses.matchers.query_param_matcher({"limit": "500", "continue": "c1"})])
    old = tmp_path / "x.xml"
    old.write_text("the report of an earlier run\n")
    for stdout in ("github", "json", "yaml"):  # json and yaml stream their items while the scan runs
        status, out, err = cli("scan", "-A", "-o", stdout, "--report", f"junit={old}", "--report", f"json={tmp_path / 'r.json'}",
                               "--report", f"yaml={tmp_path / 'r.yaml'}" if stdout != "yaml" else f"markdown={tmp_path / 's.md'}")
        assert status == 3 and out == "", stdout
        assert "401 Unauthorized" in err and err.count("\n") == 1
        assert old.read_text() == "the report of an earlier run\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "x.xml"]


# ----------------------------------------------------------------- the GitHub step summary


def test_step_summary_is_appended_inside_github_actions(cli, dump, in_actions):
    status, out, err = cli("scan", "-f", dump, "-A", "-o", "github")
    assert status == 1 and err == ""
    summary = in_actions.read_text()
    md = cli("scan", "-f", dump, "-A", "-o", "markdown")[1]
    assert summary == "# Earlier output of this step\n" + md
    assert "| `oom-killed` | 40 |" in summary
    assert "## ❌" not in out  # annotations on stdout, the table in the summary


def test_no_step_summary_outside_github_actions_or_when_asked(cli, dump, in_actions, monkeypatch):
    before = in_actions.read_text()
    cli("scan", "-f", dump, "-A", "-o", "github", "--no-step-summary")
    cli("scan", "-f", dump, "-A", "-o", "table")  # only with github output
    monkeypatch.setenv("GITHUB_ACTIONS", "false")
    cli("scan", "-f", dump, "-A", "-o", "github")
    monkeypatch.delenv("GITHUB_ACTIONS")
    cli("scan", "-f", dump, "-A", "-o", "github")
    assert in_actions.read_text() == before


def test_a_markdown_report_to_the_summary_file_is_not_added_twice(cli, dump, in_actions):
    status, _, err = cli("scan", "-f", dump, "-A", "-o", "github", "--report", f"markdown={in_actions}")
    assert status == 1, err
    assert in_actions.read_text() == cli("scan", "-f", dump, "-A", "-o", "markdown")[1]


def test_a_failed_scan_adds_nothing_to_the_summary(cli, tmp_path, in_actions):
    before = in_actions.read_text()
    status, _, err = cli("scan", "-f", str(tmp_path / "missing.json"), "-o", "github")
    assert status == 2 and "no such file" in err
    assert in_actions.read_text() == before


def test_step_summary_is_cut_at_1_MiB_with_a_note(cli, dump, in_actions):
    md = cli("scan", "-f", dump, "-A", "-o", "markdown")[1]
    assert len(md.encode()) > 1000
    earlier = "x" * 99 + "\n"
    in_actions.write_text(earlier * ((MiB - 1000) // 100))  # room for less than the report
    status, _, err = cli("scan", "-f", dump, "-A", "-o", "github")
    assert status == 1
    assert "probectl: warning: the Markdown report was cut to fit GitHub's 1 MiB step summary" in err
    data = in_actions.read_bytes()
    assert len(data) <= MiB
    added = data[len(earlier * ((MiB - 1000) // 100)):].decode()
    assert added.endswith("the JUnit or JSON report has everything.\n")
    assert md.startswith(added.split("\n\n> probectl:")[0])  # whole lines of the report, then the note


def test_a_full_step_summary_gets_a_warning(cli, dump, in_actions):
    in_actions.write_text("x" * (MiB - 10))
    status, _, err = cli("scan", "-f", dump, "-A", "-o", "github")
    assert status == 1 and "GITHUB_STEP_SUMMARY is full (1 MiB)" in err
    assert in_actions.stat().st_size == MiB - 10


def test_step_summary_cut_closes_an_open_details_block(tmp_path):
    path = tmp_path / "summary.md"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(path)}
    body = "## title\n\n<details><summary>Evidence</summary>\n\n" + "".join(f"- line {i}\n" for i in range(200_000))
    note = reports.step_summary(body + "\n</details>\n", env)
    assert note and "cut" in note
    text = path.read_text()
    assert len(text.encode()) <= MiB and text.count("<details>") == text.count("</details>") == 1
    assert reports.step_summary("# small\n", {"GITHUB_STEP_SUMMARY": str(path)}) is None  # not in Actions


# ----------------------------------------------------------------- lint --report


@pytest.fixture
def chart(tmp_path):
    from tests.test_lint_positions import CHART

    p = tmp_path / "chart.yaml"
    p.write_text(CHART)
    return p


@pytest.fixture
def observed(tmp_path):
    """A pod that was OOM-killed: an observed finding, which has no file location."""
    from tests.scenarios import BY_NAME

    p = tmp_path / "pods.json"
    p.write_text(json.dumps({"kind": "List", "apiVersion": "v1", "items": [BY_NAME["oom_killed_crashloop"].pod]}))
    return p


def test_lint_several_reports_from_one_run(cli, chart, tmp_path):
    paths = {fmt: tmp_path / f"lint.{fmt}" for fmt in ("sarif", "junit", "json", "yaml", "github", "table", "text")}
    args = [a for fmt, p in paths.items() for a in ("--report", f"{fmt}={p}")]
    status, out, err = cli("lint", "-f", str(chart), *args)
    assert status == 1, err
    assert out == cli("lint", "-f", str(chart))[1]  # the text lines on the terminal, as without reports
    for fmt, p in paths.items():
        assert p.read_text() == cli("lint", "-f", str(chart), "-o", fmt)[1], fmt
    doc = json.loads(paths["json"].read_text())
    assert len(json.loads(paths["sarif"].read_text())["runs"][0]["results"]) == len(doc["items"])
    assert leftovers(tmp_path) == []


def test_lint_output_file_is_atomic_and_shows_text(cli, chart, tmp_path):
    target = tmp_path / "table.txt"
    status, out, _ = cli("lint", "-f", str(chart), "-o", "table", "--output-file", str(target))
    assert status == 1 and target.read_text() == cli("lint", "-f", str(chart), "-o", "table")[1]
    assert f"{chart}:26:13: critical PL004" in out  # --output-file: the text lines on the terminal
    status, out, _ = cli("lint", "-f", str(chart), "-o", "github", "--report", "sarif=-")
    assert status == 2 and "only one report can go to standard output" in _


def test_lint_sarif_left_out_warning(cli, chart, observed, tmp_path):
    sarif = tmp_path / "x.sarif"
    # SARIF on stdout: the warning on stderr
    status, out, err = cli("lint", "-f", str(observed), "-o", "sarif")
    assert json.loads(out)["runs"][0]["results"] == [] and err.count("left out of the SARIF") == 1
    # SARIF in a file, the text lines on the terminal: the warning once, among them
    status, out, err = cli("lint", "-f", str(observed), "-f", str(chart), "--report", f"sarif={sarif}")
    assert out.count("left out of the SARIF") == 1 and "left out" not in err
    assert "! 1 finding(s) without a file location left out of the SARIF" in out
    # JSON on stdout, SARIF in a file: on stderr, and in the JSON's warnings
    status, out, err = cli("lint", "-f", str(observed), "--report", f"sarif={sarif}", "-o", "json")
    assert any("left out of the SARIF" in w for w in json.loads(out)["summary"]["warnings"]) and "left out of the SARIF" in err
    # no SARIF asked for: no warning
    status, out, err = cli("lint", "-f", str(observed), "-o", "json", "--report", f"junit={tmp_path / 'j.xml'}")
    assert "SARIF" not in out + err


def test_lint_bad_report_values_exit_2_before_reading(cli, tmp_path):
    status, out, err = cli("lint", "-f", str(tmp_path / "missing.yaml"), "--report", "markdown=x.md")
    assert status == 2 and out == "" and err.count("\n") == 1
    assert "unknown format 'markdown' (one of: text, table, json, yaml, sarif, github, junit)" in err


@responses.activate
def test_live_lint_bad_report_before_any_request(cli, kcfg, tmp_path):
    status, _, err = cli("lint", "--report", f"sarif={tmp_path}")
    assert status == 2 and "is a directory" in err and len(responses.calls) == 0


def test_lint_github_output_adds_no_step_summary(cli, chart, in_actions):
    """lint's findings are annotations on the lines of the diff; there is no Markdown report."""
    before = in_actions.read_text()
    status, out, _ = cli("lint", "-f", str(chart), "-o", "github")
    assert status == 1 and out.startswith("::error file=")
    assert in_actions.read_text() == before
    assert cli("lint", "-f", str(chart), "-o", "github", "--no-step-summary")[0] == 2  # no such option for lint
