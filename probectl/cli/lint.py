"""`probectl lint`: probe and resource settings judged before they bite, and against what
the cluster actually did."""

from __future__ import annotations

import sys
from enum import Enum

import typer

from probectl.cli import options
from probectl.errors import ExitStatus, UsageError

HELP = """Judge probe and resource settings: static rules over workload manifests, and
observed rules over what the cluster did (start-up times, probe timeouts, kills, OOM).

\b
  probectl lint -f k8s/                       # manifests: files, directories, multi-document YAML
  helm template ./chart | probectl lint -f -  # rendered Helm output
  probectl lint -n shop                       # the live namespace: workloads, pods and events
  probectl lint -f k8s/ -o sarif > probectl.sarif
  probectl lint -f k8s/ -o github --report sarif=probectl.sarif --report junit=lint.xml
  probectl lint --rules

Exit status: 0 when nothing is at or above --fail-on, 1 when something is, 2 for usage
errors or bad files, 3 when the cluster cannot be read.
"""


class LintOutput(str, Enum):
    text = "text"
    table = "table"
    json = "json"
    yaml = "yaml"
    sarif = "sarif"
    github = "github"
    junit = "junit"


FORMATS = [f.value for f in LintOutput]

# (API path under /apis or /api, kind, group) for a live lint
WORKLOADS = (
    ("/apis/apps/v1", "deployments", "Deployment"),
    ("/apis/apps/v1", "statefulsets", "StatefulSet"),
    ("/apis/apps/v1", "daemonsets", "DaemonSet"),
    ("/apis/apps/v1", "replicasets", "ReplicaSet"),
    ("/apis/batch/v1", "jobs", "Job"),
    ("/apis/batch/v1", "cronjobs", "CronJob"),
)


def lint(
    filename: list[str] | None = typer.Option(None, "-f", "--filename", help="Manifests: files, directories, '-' for stdin; repeatable."),
    namespace: str | None = options.NAMESPACE,
    all_namespaces: bool = typer.Option(False, "-A", "--all-namespaces", help="Lint every namespace (live)."),
    rules: bool = typer.Option(False, "--rules", help="List the rules and exit."),
    disable: list[str] | None = typer.Option(None, "--disable", help="Rule ids to skip (repeatable or comma-separated): PL003,PL007."),
    output: LintOutput | None = typer.Option(
        None, "-o", "--output", case_sensitive=False, show_default=False,
        help="Format on standard output; text: one FILE:LINE:COL: line per finding, as linters write them. [default: text]"),
    report: list[str] | None = options.REPORT,
    output_file: str | None = typer.Option(
        None, "--output-file", help="Write the -o format to this file; the terminal shows the text lines."),
    fail_on: options.FailOn = options.FAIL_ON,
    context: str | None = options.CONTEXT,
    kubeconfig: str | None = options.KUBECONFIG,
    request_timeout: str | None = options.REQUEST_TIMEOUT,
    no_color: bool = options.NO_COLOR,
    debug: bool = options.DEBUG,
) -> int:
    from probectl.cli import reports
    from probectl.core import lint as core
    from probectl.render import lint as render

    if rules:
        options.emit(render.render_rules(options.style(no_color)))
        return ExitStatus.OK
    off = {r.strip().upper() for item in (disable or []) for r in item.split(",") if r.strip()}
    unknown = off - set(core.RULES)
    if unknown:
        raise UsageError(f"--disable: unknown rule {', '.join(sorted(unknown))} (see probectl lint --rules)")
    # every destination checked before a file is read or the cluster contacted
    targets = reports.plan(output.value if output else None, output_file, report, FORMATS, default=LintOutput.text.value)
    if filename:
        result = _from_files(filename, namespace, off, fail_on.value)
    else:
        result = _from_cluster(namespace, all_namespaces, off, fail_on.value, context, kubeconfig, request_timeout, debug)
    if any(t.fmt == LintOutput.sarif.value for t in targets):
        left_out = render.sarif_doc(result)[1]
        if left_out:
            note = (f"{left_out} finding(s) without a file location left out of the SARIF (code scanning rejects them): "
                    "see -o text or -o json")
            result.warnings.append(note)  # in the text, table, JSON and YAML reports too
            if not any(t.path == reports.STDOUT and t.fmt in ("text", "table") for t in targets):
                sys.stderr.write(f"probectl: warning: {note}\n")  # not already on the terminal
    style, file_style = options.style(no_color), options.file_style()
    reports.Writer(targets).finish(result, lambda fmt, to_file: _render(result, fmt, file_style if to_file else style))
    return ExitStatus.FINDINGS if result.failed else ExitStatus.OK


def _render(report, fmt: str, style) -> str:
    from probectl.render import lint as render
    from probectl.render.data import dump

    if fmt == "text":
        return render.render_text(report, style)
    if fmt == "table":
        return render.render_table(report, style)
    if fmt == "sarif":
        return dump(render.sarif_doc(report)[0], "json")
    if fmt == "github":
        return render.render_github(report)
    if fmt == "junit":
        return render.render_junit(report)
    return dump(report.to_dict(), fmt)


def _from_files(paths, namespace, off, fail_on):
    from probectl.sources.manifests import load

    return lint_manifests(load(paths), namespace, off, fail_on)


def lint_manifests(located, namespace, off, fail_on):
    """The LintReport of manifest objects (sources.manifests); nothing printed. `probectl
    lint -f` and the MCP server's probectl_lint both call this."""
    from probectl.core import lint as core
    from probectl.core.diagnose import snapshot_time

    if namespace:
        located = [x for x in located if (x.obj.get("metadata") or {}).get("namespace") in (namespace, None)]
    events = [x.obj for x in located if x.obj.get("kind") == "Event"]
    pods = [x.obj for x in located if x.obj.get("kind") == "Pod" and isinstance(x.obj.get("status"), dict) and x.obj["status"]]
    report = core.run(located, pods, events, snapshot_time(pods, events), disabled=off, fail_on=fail_on)
    if not report.objects and not pods:
        kinds = sorted({str(x.obj.get("kind")) for x in located})
        report.warnings.append(f"no workloads in the input (found {', '.join(kinds) or 'nothing'}); "
                               "probectl lint reads Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and Pods")
    return report


def _from_cluster(namespace, all_namespaces, off, fail_on, context, kubeconfig, request_timeout, debug):
    from datetime import datetime, timezone

    from probectl.core import lint as core
    from probectl.core.objects import dicts
    from probectl.sources import cluster as cl

    conn = cl.connect(kubeconfig, context, namespace)
    client = cl.Client(conn, cl.parse_timeout(request_timeout), debug=sys.stderr if debug else None)
    ns = None if all_namespaces else conn.target.namespace
    warnings: list[str] = []
    objects = []
    for base, plural, kind in WORKLOADS:
        path = f"{base}/namespaces/{ns}/{plural}" if ns else f"{base}/{plural}"
        try:
            for obj in client.list(path):
                refs = dicts(obj, "metadata", "ownerReferences")
                if any(r.get("controller") for r in refs):
                    continue  # a Deployment's ReplicaSet, a CronJob's Job: linted through their owner
                objects.append(core.Located(dict(obj, kind=kind)))
        except cl.Forbidden as e:
            warnings.append(f"{plural} skipped: {e.message}")
        except cl.NotFound:
            warnings.append(f"{plural}: the server does not serve {base}")
    pods = list(cl.list_pods(client, ns))
    objects += [core.Located(dict(p, kind="Pod")) for p in pods if not any(r.get("controller") for r in dicts(p, "metadata", "ownerReferences"))]
    try:
        events = list(cl.list_pod_events(client, ns))
    except cl.Forbidden as e:
        events = []
        warnings.append(f"events could not be read ({e.message}): observed rules see less")
    report = core.run(objects, pods, events, datetime.now(timezone.utc), disabled=off, fail_on=fail_on)
    report.warnings += warnings
    return report


def register(app: typer.Typer) -> None:
    app.command("lint", help=HELP)(lint)
