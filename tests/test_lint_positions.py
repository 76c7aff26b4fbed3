"""`probectl lint` points at the offending field: exact lines and columns through
multi-document YAML, Helm `---` + `# Source:` output, `kind: List` items and JSON; the
linter-format default output; the same position in SARIF, GitHub and JUnit."""

from __future__ import annotations

import io
import json
import re

import pytest
from lxml import etree

from probectl.core import lint as core
from probectl.core.model import Severity
from probectl.render import lint as render
from probectl.render.console import Style
from probectl.sources import files, manifests
from tests.conftest import ROOT

# Every finding's expected place is marked in a trailing comment: `# <- PL00N` (the line);
# the column is where the key named in EXPECT starts on that line.
CHART = """\
# Source: shop/templates/web.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 10  # <- PL008 web/api
      initContainers:
        - name: migrate
          image: registry.example.com/shop/migrate:1
          resources: {limits: {memory: 1Gi}}
      containers:
        - name: api
          image: registry.example.com/shop/api:1
          ports:
            - {name: http, containerPort: 8080}
          lifecycle: {preStop: {exec: {command: [sleep, "15"]}}}
          resources:  # <- PL007 web/api
            requests: {memory: 256Mi}
          livenessProbe:  # <- PL002 web/api
            httpGet: {path: /healthz, port: metrics}  # <- PL006 web/api
            initialDelaySeconds: 60  # <- PL003 web/api
            failureThreshold: 1  # <- PL004 web/api
            timeoutSeconds: 10  # <- PL005 web/api
---
# Source: shop/templates/empty.yaml
---
# Source: shop/templates/worker.yaml
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: worker
  namespace: shop
spec:
  serviceName: worker
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:  # <- PL008 worker/worker
      containers:
        - name: worker  # <- PL007 worker/worker
          image: registry.example.com/shop/worker:1
          lifecycle: {preStop: {sleep: {seconds: 40}}}
          livenessProbe:  # <- PL001 worker/worker
            exec: {command: ["true"]}
          readinessProbe:
            exec: {command: ["true"]}
        - name: side
          image: registry.example.com/shop/side:1
          ports: [{containerPort: 80}]
          resources: {limits: {memory: 64Mi}}
          readinessProbe: {tcpSocket: {port: 9090}, periodSeconds: 1}  # <- PL005 worker/side PL006 worker/side
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec: {ports: [{port: 80}]}
  - apiVersion: batch/v1
    kind: CronJob
    metadata: {name: nightly, namespace: shop}
    spec:
      schedule: "@daily"
      jobTemplate:
        spec:
          template:
            spec:
              restartPolicy: OnFailure
              containers:
                - name: job  # <- PL007 nightly/job
                  image: registry.example.com/shop/job:1
                  livenessProbe:
                    exec: {command: ["true"]}
                    failureThreshold: 1  # <- PL004 nightly/job
  - apiVersion: v1
    kind: Pod
    metadata: {name: solo, namespace: shop}
    spec:
      containers:
        - name: solo
          image: registry.example.com/shop/solo:1
          resources:
            limits: {memory: 64Mi}
          livenessProbe: {httpGet: {path: /, port: 8080}, failureThreshold: 1}  # <- PL004 solo/solo PL002 solo/solo
"""

# the key each rule's position is on (the column is where it starts)
KEY = {"PL001": "livenessProbe", "PL002": "livenessProbe", "PL003": "initialDelaySeconds", "PL004": "failureThreshold",
       "PL005": "timeoutSeconds", "PL006": "port", "PL007": "resources", "PL008": "terminationGracePeriodSeconds"}
KEY_WHEN_MISSING = {"PL005": "periodSeconds", "PL007": "name", "PL008": "spec"}


def expected(text: str) -> set[tuple]:
    """(rule, object name, container, line, column) from the `# <- ...` markers."""
    out = set()
    for n, line in enumerate(text.splitlines(), 1):
        code, _, marks = line.partition("# <- ")
        for rule, who in re.findall(r"(PL\d+) (\S+)", marks):
            name, container = who.split("/")
            key = KEY[rule] if f"{KEY[rule]}:" in code else KEY_WHEN_MISSING[rule]
            out.add((rule, name, container, n, code.index(key + ":") + 1))
    return out


def found(located) -> set[tuple]:
    return {(f.rule, f.name, f.container, f.line, f.column)
            for x in located for f in core.lint_static(x.obj, file=x.file, line=x.line, positions=x.positions)}


@pytest.fixture
def chart(tmp_path):
    path = tmp_path / "chart.yaml"
    path.write_text(CHART)
    return path


def test_every_rule_points_at_its_field(chart):
    want = expected(CHART)
    assert {w[0] for w in want} == set(KEY)  # every static rule is exercised
    assert found(manifests.load([str(chart)])) == want


def test_some_positions_literally(chart):
    got = {(r, n, c): (ln, col) for r, n, c, ln, col in found(manifests.load([str(chart)]))}
    assert got[("PL004", "web", "api")] == (26, 13)  # failureThreshold: 1
    assert got[("PL006", "web", "api")] == (24, 39)  # the port: inside the flow mapping
    assert got[("PL008", "web", "api")] == (10, 7)  # terminationGracePeriodSeconds: 10
    assert got[("PL008", "worker", "worker")] == (42, 5)  # no grace period: the pod template's spec:
    assert got[("PL007", "worker", "worker")] == (44, 11)  # no resources: the container's `- name:`
    assert got[("PL004", "nightly", "job")] == (79, 21)  # inside a List item, through a CronJob


def test_documents_and_list_items_keep_their_own_start(chart):
    located = manifests.load([str(chart)])
    assert [(x.obj["kind"], x.line) for x in located] == [
        ("Deployment", 2), ("StatefulSet", 32), ("Service", 60), ("CronJob", 64), ("Pod", 80)]


def test_stdin_has_positions(cli, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(CHART))
    status, out, _ = cli("lint", "-f", "-", "-o", "json")
    items = json.loads(out)["items"]
    assert {(i["rule"], i["object"]["name"], i["container"], i["line"], i["column"]) for i in items} == expected(CHART)
    assert {i["file"] for i in items} == {"<stdin>"}


# ------------------------------------------------------------------ JSON

def test_json_positions_match_yaml(tmp_path, chart):
    docs = [d for d, _ in files.yaml_documents(CHART, "x") if d]
    path = tmp_path / "web.json"
    path.write_text(json.dumps(docs[0], indent=2))
    text = path.read_text()
    got = {(f.rule, f.line, f.column) for f in core.run(manifests.load([str(path)]), [], [], None).findings}
    lines = text.splitlines()

    def at(needle: str) -> tuple[int, int]:
        n = next(i for i, line in enumerate(lines) if needle in line)
        return n + 1, lines[n].index(needle) + 1

    assert ("PL004", *at('"failureThreshold": 1')) in got
    assert ("PL006", *at('"port": "metrics"')) in got
    assert ("PL008", *at('"terminationGracePeriodSeconds"')) in got
    assert all(line > 1 for _, line, _ in got)


def test_json_with_tabs_and_a_list(tmp_path):
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
           "spec": {"template": {"spec": {"containers": [{"name": "api", "resources": {"limits": {"memory": "1Gi"}},
                                                           "livenessProbe": {"exec": {"command": ["true"]}, "failureThreshold": 1}}]}}}}
    path = tmp_path / "list.json"
    path.write_text(json.dumps({"kind": "List", "apiVersion": "v1", "items": [dep, dep]}, indent="\t"))
    lines = path.read_text().splitlines()
    threshold = [(i + 1, line.index('"failureThreshold"') + 1) for i, line in enumerate(lines) if '"failureThreshold"' in line]
    got = [(f.line, f.column) for f in core.run(manifests.load([str(path)]), [], [], None).findings if f.rule == "PL004"]
    assert sorted(got) == threshold and len(got) == 2


def test_large_json_points_at_the_document_start(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "JSON_POSITIONS_MAX", 100)
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
           "spec": {"template": {"spec": {"containers": [{"name": "api", "livenessProbe": {"exec": {}, "failureThreshold": 1}}]}}}}
    path = tmp_path / "big.json"
    path.write_text(json.dumps(dep, indent=2))
    findings = core.run(manifests.load([str(path)]), [], [], None).findings
    assert findings and {(f.line, f.column) for f in findings} == {(1, 1)}


def test_positions_duplicate_keys_count_where_last_given():
    (doc, pos), = files.yaml_documents_with_positions("a: {b: 1}\nc: 2\na:\n  b: 3\n", "x")
    assert doc == {"a": {"b": 3}, "c": 2}
    assert pos[("a",)] == (3, 1) and pos[("a", "b")] == (4, 3) and pos[()] == (1, 1)


def test_aliases_still_refused():
    from probectl.errors import InputError

    with pytest.raises(InputError, match="aliases"):
        list(files.yaml_documents_with_positions("a: &x [1]\nb: *x\n", "x"))


# ------------------------------------------------------------------ the default output


def test_default_output_is_one_linter_line_per_finding(cli, chart):
    status, out, _ = cli("lint", "-f", str(chart))
    assert status == 1
    lines = out.splitlines()
    heads = [line for line in lines if not line.startswith(" ")]
    summary = heads.pop()
    want = expected(CHART)
    assert len(heads) == len(want)
    # the message may wrap (at the terminal's width) onto indented lines: the head line keeps
    # FILE:LINE:COL: severity RULE name:
    pattern = re.compile(rf"^{re.escape(str(chart))}:(\d+):(\d+): (critical|warning) (PL\d\d\d) [a-z0-9-]+:( .+)?$")
    seen = set()
    for head, fix in zip(heads, [line for line in lines if line.startswith("  fix: ")], strict=True):
        m = pattern.match(head)
        assert m, head
        seen.add((m.group(4), int(m.group(1)), int(m.group(2))))
        assert fix.startswith("  fix: ")
    assert seen == {(r, ln, col) for r, _, _, ln, col in want}
    assert summary == f"4 workloads linted, 0 pods observed: {len(want)} findings (6 critical, 10 warnings)."
    assert "\x1b" not in out  # NO_COLOR (the cli fixture sets it)
    # file order: lines ascend
    numbers = [int(pattern.match(h).group(1)) for h in heads]
    assert numbers == sorted(numbers)


def test_text_format_colour_only_when_asked_and_neutralised():
    bad = "web\x1b]8;;https://evil\x07\u202e"
    f = core.LintFinding("PL004", Severity.CRITICAL, "Deployment", "shop", bad, "api\x1b[2J", "msg\x9b31m", "fix\r\nme",
                         file="k8s/a\x1b.yaml", line=3, column=5)
    o = core.LintFinding("PL104", Severity.CRITICAL, "Deployment", "shop", bad, "api", "OOM", "raise it", pods=3)
    report = core.LintReport([f, o], objects=1, pods_observed=3, fail_on="critical", warnings=["w\x1b"])
    plain = render.render_text(report, Style(color=False, width=400))  # wide: one line per finding
    assert "\x1b" not in plain and "\x9b" not in plain and "\u202e" not in plain and "\x07" not in plain
    assert plain.splitlines()[0].startswith("k8s/a^[.yaml:3:5: critical PL004 liveness-failure-threshold-1: msg\\x9b31m (")
    assert "  fix: fix me" in plain
    assert "shop/Deployment/web^[]8;;https://evil^G<U+202E>: critical PL104 oom-killed: OOM (container api, 3 pods)" in plain
    assert plain.splitlines()[-2] == "! w^["
    assert plain.splitlines()[-1] == "1 workload linted, 3 pods observed: 2 findings (2 critical)."
    coloured = render.render_text(report, Style(color=True, width=400))
    assert "\x1b[1;31mcritical\x1b[0m" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_no_findings_summary():
    report = core.LintReport([], objects=2, pods_observed=0, fail_on="critical")
    assert render.render_text(report, Style()) == "2 workloads linted, 0 pods observed: no findings.\n"


def test_table_still_available(cli, chart):
    status, out, _ = cli("lint", "-f", str(chart), "-o", "table")
    assert status == 1 and "Critical: 6 findings" in out and ":26:13" in out


@pytest.mark.parametrize("columns", ["80", "120"])
def test_table_reads_in_80_columns(cli, chart, monkeypatch, columns):
    """Issue 13: one row per finding, each name, path and field whole (never broken
    mid-word), no line longer than the terminal."""
    monkeypatch.chdir(chart.parent)
    monkeypatch.setenv("COLUMNS", columns)
    out = cli("lint", "-f", chart.name, "-o", "table")[1]
    items = json.loads(cli("lint", "-f", chart.name, "-o", "json")[1])["items"]
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= int(columns)
    rows = [line for line in lines if re.match(r"PL\d{3}  ", line)]
    assert len(rows) == len(items)  # one row per finding
    for i in items:
        name, o = core.RULES[i["rule"]].name, i["object"]
        obj = f"{o['namespace']}/{o['kind']}/{o['name']}, container {i['container']}"
        assert any(line.startswith(i["rule"]) and name in line and obj in line for line in rows), (i["rule"], obj)
        assert f"  {i['file']}:{i['line']}:{i['column']}: " in out
    words = " ".join(out.split())  # wrapped only at spaces: the text reads back whole
    for i in items:
        assert i["message"] in words and f"fix: {i['fix']}" in words
    assert "StatefulSet/worker, container worker" in out


def test_table_puts_a_long_object_on_its_own_line():
    f = core.LintFinding("PL004", Severity.CRITICAL, "StatefulSet", "payments-production-eu-west-1",
                         "ledger-reconciliation-worker", "reconciler", "livenessProbe.failureThreshold is 1.",
                         "Set livenessProbe.failureThreshold: 3.", file="k8s/ledger.yaml", line=40, column=13)
    out = render.render_table(core.LintReport([f], objects=1, pods_observed=0, fail_on="critical"), Style(width=80))
    lines = out.splitlines()
    assert lines[3] == "PL004  liveness-failure-threshold-1"
    assert lines[4] == "  payments-production-eu-west-1/StatefulSet/ledger-reconciliation-worker,"
    assert lines[5] == "    container reconciler"
    assert lines[6] == "  k8s/ledger.yaml:40:13: livenessProbe.failureThreshold is 1."


def test_output_file_shows_text_on_the_terminal(cli, chart, tmp_path):
    target = tmp_path / "out.sarif"
    status, out, _ = cli("lint", "-f", str(chart), "-o", "sarif", "--output-file", str(target))
    assert json.loads(target.read_text())["version"] == "2.1.0"
    assert f"{chart}:26:13: critical PL004" in out


# ------------------------------------------------------------------ CI formats carry the same position


def test_sarif_github_junit_positions(cli, chart, monkeypatch):
    monkeypatch.chdir(chart.parent)
    rel = chart.name
    sarif = json.loads(cli("lint", "-f", rel, "-o", "sarif")[1])
    regions = set()
    for res in sarif["runs"][0]["results"]:
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == "chart.yaml"
        regions.add((res["ruleId"], loc["region"]["startLine"], loc["region"]["startColumn"]))
    want = {(r, ln, col) for r, _, _, ln, col in expected(CHART)}
    assert regions == want
    gh = cli("lint", "-f", rel, "-o", "github")[1]
    assert {(m[2], int(m[0]), int(m[1])) for m in re.findall(r"file=chart\.yaml,line=(\d+),col=(\d+),title=(PL\d+)", gh)} == want
    junit = cli("lint", "-f", rel, "-o", "junit")[1]
    schema = etree.XMLSchema(etree.parse(str(ROOT / "tests" / "data" / "junit.xsd")))
    schema.assertValid(etree.fromstring(junit.encode()))
    failures = list(etree.fromstring(junit.encode()).iter("failure"))
    assert len(failures) == len(want)
    assert {(e.get("type"), *map(int, re.match(r"chart\.yaml:(\d+):(\d+): ", e.text).groups())) for e in failures} == want


def test_json_report_keeps_its_shape_and_adds_the_column(cli, chart):
    item = json.loads(cli("lint", "-f", str(chart), "-o", "json")[1])["items"][0]
    assert set(item) == {"rule", "name", "severity", "type", "object", "container", "message", "fix", "file", "line",
                         "column", "pods"}
