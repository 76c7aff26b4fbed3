"""`probectl mcp`: probectl's diagnosis as tools for AI assistants (Model Context Protocol).

Two layers:

- `Tools`: the four tools as plain functions, arguments in, JSON text out. They call what
  the commands call (`why.collect`, `scan.collect`, `lint.lint_manifests`,
  `exitcodes.decode`): the same engine and the same requests, nothing of their own about
  Kubernetes. Errors are the commands' ProbectlError with the one-line message they print.
- `build_server`: the MCP SDK's MCPServer around them (the SDK is imported only here and
  only by `probectl mcp`), each tool annotated read-only, each error a tool error.

Answers are the JSON the commands write with -o json (`probectl_why` exactly that text);
`probectl_scan` gives the groups of the scan table, bounded in size whatever the cluster.
"""

# No `from __future__ import annotations`: the SDK reads the tools' annotations (Annotated,
# Field, CallToolResult, imported inside build_server) to build their input schemas.
import logging
import re
import threading
from dataclasses import dataclass

from probectl.errors import ProbectlError, UsageError, error_line

# An answer is read by a model: what it holds is paid for in tokens and context. The scan's
# groups stop at this many characters (the issue: "about 30,000"), saying what was left out.
SCAN_BUDGET = 30_000
LINT_BUDGET = 30_000
WHY_BUDGET = 30_000  # a workload's pods (a List): one pod's Diagnosis is always whole
DETAILED_GROUPS = 3  # the first groups also carry their example pod's evidence and next steps
MAX_WARNINGS = 20
TEXT_LIMIT = 300  # a summary, a crash line or a warning: at most this many characters

log = logging.getLogger("probectl.mcp")

# Bidi overrides and zero-width characters make text read other than it is; JSON does not
# escape them (control characters it does, as \u001b). In the JSON text they become \uXXXX
# escapes: the same document once parsed, but nothing invisible in what the model reads.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def neutral_json(text: str) -> str:
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


@dataclass(frozen=True)
class Settings:
    """What `probectl mcp` was started with: the cluster options of the other commands, or
    files (-f) to serve from instead of a cluster."""

    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    request_timeout: str | None = None
    filename: tuple[str, ...] = ()
    debug: bool = False

    def check(self) -> None:
        """Usage errors before serving: a bad timeout, stdin as a file (it carries the protocol)."""
        import os

        from probectl.sources import cluster as cl

        cl.parse_timeout(self.request_timeout)
        for path in self.filename:
            if path == "-":
                raise UsageError("-f -: standard input carries the MCP protocol; give a file or a directory")
            if not os.path.exists(path):
                raise UsageError(f"{path}: no such file or directory")


def _clean(text, limit: int = TEXT_LIMIT) -> str:
    from probectl.render.safe import clean, truncate

    return truncate(clean(text, oneline=True), limit)


class Tools:
    """The tools as plain functions. One call at a time touches the cluster (or the files):
    memory stays that of one command, however many calls an assistant makes at once."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- probectl_why

    def why(self, pod: str, namespace: str | None = None, logs: bool = True) -> str:
        from probectl.cli import why
        from probectl.core.diagnose import RECENT
        from probectl.render.data import dump

        s = self.settings
        if not pod or not pod.strip():
            raise UsageError("name a pod: probectl_why {\"pod\": NAME}")
        from probectl.core.workload import parse_ref

        ref = parse_ref(pod.strip())  # deploy/NAME, sts/NAME...: the rollout's verdict, as `probectl why`
        with self._lock:
            if ref is not None:
                found = why.collect_workload(ref, namespace=namespace or s.namespace,
                                             filename=list(s.filename) or None, context=s.context,
                                             kubeconfig=s.kubeconfig, request_timeout=s.request_timeout,
                                             read_logs=logs, recent=RECENT, debug=s.debug)
                if not isinstance(found, list):
                    return neutral_json(dump(found.to_dict(), "json"))
                diagnoses = found
            else:
                diagnoses = why.collect(pod.strip(), namespace=namespace or s.namespace,
                                        filename=list(s.filename) or None, context=s.context,
                                        kubeconfig=s.kubeconfig, request_timeout=s.request_timeout,
                                        logs=0, read_logs=logs, recent=RECENT, debug=s.debug)
        text = neutral_json(dump(why.document(diagnoses), "json"))
        if len(diagnoses) > 1 and len(text) > WHY_BUDGET:
            return workload_document(diagnoses)
        return text

    # ---------------------------------------------------------------- probectl_scan

    def scan(self, namespace: str | None = None, all_namespaces: bool = False, selector: str | None = None,
             include_history: bool = False) -> str:
        from probectl.cli import scan
        from probectl.core.diagnose import RECENT
        from probectl.gcpause import collector_paused

        s = self.settings
        ns = namespace or (None if all_namespaces else s.namespace)
        settings = dict(include_healthy=False, include_history=include_history, fail_on="critical", since=None,
                        since_text=None, recent=RECENT, recent_text="1h", keep_findings=False, group_findings=True,
                        keep_history=include_history)
        with self._lock, collector_paused():
            report = scan.collect(list(s.filename) or None, [ns] if ns and not all_namespaces else None,
                                  all_namespaces, selector or None, None, settings, context=s.context,
                                  kubeconfig=s.kubeconfig, request_timeout=s.request_timeout, debug=s.debug,
                                  log_groups=20)  # the CLI's default --log-groups
        return scan_document(report, narrowed=bool(namespace or selector))

    # ---------------------------------------------------------------- probectl_exitcode

    def exitcode(self, code: int | str) -> str:
        from probectl.core import exitcodes
        from probectl.render.data import dump

        try:
            info = exitcodes.decode(exitcodes.parse(str(code).strip()))
        except exitcodes.ExitCodeError as e:
            raise UsageError(str(e)) from None
        return dump(info.to_dict(), "json")

    # ---------------------------------------------------------------- probectl_lint

    def lint(self, manifest: str | None = None, path: str | None = None) -> str:
        from probectl.cli import lint
        from probectl.sources import manifests

        if bool(manifest) == bool(path):
            raise UsageError("give the manifest's YAML or JSON text as manifest, or a file or directory as path: one of them")
        with self._lock:
            located = manifests.load_text(manifest) if manifest else manifests.load([path])
            report = lint.lint_manifests(located, None, set(), "critical")
        return lint_document(report)


# --------------------------------------------------------------------------- answers


def _group(g, detailed: bool) -> dict:
    """A scan table group (core/scan.py Group) as a JSON object: cluster text sanitised."""
    from probectl.core.model import iso

    ex = g.example
    out = {
        "severity": g.severity.value,
        "cause": g.cause,
        "namespace": _clean(g.namespace),
        "workload": _clean(g.owner) if g.owner else None,
        "container": _clean(g.container) if g.container else None,
        "pods": g.count,
        "restarts": g.restarts,
        "probeFailures": g.probe_failures,
        "exitCodes": list(g.exits),
        "lastTerminated": iso(g.last_terminated),
        "examplePod": _clean(ex.name) if g.count else None,  # a workload finding (no pod): its name is the workload's
        "summary": _clean(ex.summary),
        "crash": ({"kind": g.crash.kind, "line": _clean(g.crash.line), "source": g.crash.source}
                  if g.crash is not None else None),
    }
    if detailed:
        out["evidence"] = [_clean(e) for e in ex.evidence]
        out["nextSteps"] = [_clean(x) for x in ex.next_steps]
    return out


def _dumps(doc) -> str:
    import json

    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def _fit(lines: list[str], fixed: int, budget: int) -> int:
    """How many of `lines` (in order, with the two characters ",\n" after each) fit in
    `budget` next to `fixed` characters."""
    total, n = fixed, 0
    for line in lines:
        total += len(line) + 2
        if total > budget:
            break
        n += 1
    return n


def scan_document(report, *, narrowed: bool = False, budget: int = SCAN_BUDGET) -> str:
    """The groups of the scan table as compact JSON, one group a line, at most `budget`
    characters: groups (worst first, then the largest) are left out from the end, and the
    answer says how many and how to narrow the scan."""
    from probectl.render.scan import history_groups

    groups = report.groups
    history = history_groups(report) if report.include_history and report.history else []
    # the scan's counters; its warnings come once, below, and failOn/failed are for CI
    summary = {k: v for k, v in report.summary().items() if k not in ("warnings", "failOn", "failed")}
    warnings = [_clean(w, 500) for w in report.warnings[:MAX_WARNINGS]]
    if len(report.warnings) > MAX_WARNINGS:
        warnings.append(f"{len(report.warnings) - MAX_WARNINGS} more warnings left out")
    found = [_dumps(_group(g, i < DETAILED_GROUPS)) for i, g in enumerate(groups)]
    earlier = [_dumps(_group(g, False)) for g in history]

    def render(n: int, m: int) -> str:
        shown, left = found[:n], groups[n:]
        doc: dict = {"apiVersion": "probectl/v1", "kind": "ScanGroups", "groupsTotal": len(groups),
                     "groupsShown": n, "groupsLeftOut": len(left), "podsLeftOut": sum(g.count for g in left)}
        if left or len(history) > m:
            doc["leftOutByNamespace"] = _by_namespace(left + history[m:])
            doc["narrow"] = (f"{len(left)} problem group(s) ({doc['podsLeftOut']} pods) and {len(history) - m} "
                             f"history group(s) were left out to keep this answer under {budget:,} characters. "
                             + ("Narrow further with " if narrowed else "Narrow the scan with ")
                             + "namespace (one namespace) or selector (a label selector such as app=web), or ask "
                               "probectl_why about a pod.")
        doc["summary"] = summary
        doc["warnings"] = warnings
        head = _dumps(doc)[:-1]  # the document without its closing brace: the groups follow
        parts = [head, ',"groups":[', ",\n".join(shown), "]"]
        if history:
            parts += [',"restartedEarlier":[', ",\n".join(earlier[:m]), "]"]
        return "".join(parts) + "}\n"

    fixed = len(render(0, 0)) + 200  # the counts grow by a few digits as groups are left out
    n = _fit(found, fixed, budget)
    m = _fit(earlier, fixed + sum(len(x) + 2 for x in found[:n]), budget) if n == len(found) else 0
    text = render(n, m)
    while len(text) > budget and (n or m):  # a long warning or scope: leave out more
        n, m = (n - 1, m) if m == 0 else (n, m - 1)
        text = render(n, m)
    return text


def _by_namespace(groups) -> dict:
    counts: dict[str, int] = {}
    for g in groups:
        counts[g.namespace] = counts.get(g.namespace, 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    out = {_clean(ns, 63): n for ns, n in top[:10]}
    if len(top) > 10:
        out["(other namespaces)"] = sum(n for _, n in top[10:])
    return out


def workload_document(diagnoses: list, budget: int = WHY_BUDGET) -> str:
    """A workload's pods whose Diagnoses do not fit in `budget` characters: the List of
    `why -o json` with the worst pods first, as many as fit (at least one), and
    `itemsLeftOut` with a note saying how to see the others."""
    from probectl.render.data import dump

    ranked = sorted(diagnoses, key=lambda d: -d.severity.rank)  # stable: the command's order within a severity
    # each item as it stands inside the List (indented by 4), so that its size is exact
    items = ["    " + neutral_json(dump(d.to_dict(), "json")).rstrip("\n").replace("\n", "\n    ") for d in ranked]

    def render(n: int) -> str:
        left = len(items) - n
        doc = {"apiVersion": "probectl/v1", "kind": "List", "items": [], "itemsLeftOut": left,
               "note": (f"{left} of the workload's {len(items)} pods left out to keep this answer under {budget:,} "
                        "characters (the worst pods come first): ask probectl_why about one pod by its name, or "
                        "probectl_scan for the workload's pods grouped.")}
        return neutral_json(dump(doc, "json")).replace('"items": []', '"items": [\n' + ",\n".join(items[:n]) + "\n  ]", 1)

    return render(max(1, _fit(items, len(render(0)) + 20, budget)))


def lint_document(report, budget: int = LINT_BUDGET) -> str:
    """`probectl lint -o json`'s document; findings left out from the end (least severe)
    beyond `budget` characters, saying how many."""
    from probectl.render.data import dump

    doc = report.to_dict()
    text = neutral_json(dump(doc, "json"))
    if len(text) <= budget:
        return text
    items = doc["items"]
    lines = [_dumps(i) for i in items]
    doc["items"] = []
    doc["itemsLeftOut"] = len(items)
    fixed = len(_dumps(doc)) + 200
    n = _fit(lines, fixed, budget)
    doc["items"], doc["itemsLeftOut"] = items[:n], len(items) - n
    doc["summary"]["warnings"] = list(doc["summary"]["warnings"]) + [
        f"{len(items) - n} finding(s) left out to keep this answer under {budget:,} characters: lint fewer files"]
    return neutral_json(_dumps(doc)) + "\n"


# --------------------------------------------------------------------------- the MCP server

INSTRUCTIONS = """probectl diagnoses Kubernetes pods whose containers restart, crash or get no \
traffic, from the pod's status, its events and (for a crash) its previous log, and says \
what it does not know. Every tool is read-only: it only GETs from the cluster.

Start with probectl_scan to find the problems of a namespace or the cluster (grouped: one \
line per workload, container and cause), then probectl_why on a group's examplePod for \
the full evidence. Use probectl_exitcode to decode an exit code, probectl_lint to check \
probe and resource settings in manifests before they are applied. Trust the `cause` and \
`confidence` fields over guessing from exit codes: 137 alone does not mean OOM."""

WHY = """Diagnose one pod: why its containers restart, crash, or get no traffic.

Call it when a user asks about a specific pod (or a workload: give a Deployment, StatefulSet, \
DaemonSet or Job name and every pod of it is diagnosed; give deploy/NAME, sts/NAME, ds/NAME or \
job/NAME for why its rollout is stuck, pods never created included), or to look closer at a \
probectl_scan group's examplePod. Reads the pod, its events and, for a container that crashed, its previous \
log (a few GET requests).

Returns probectl's Diagnosis JSON (exactly what `probectl why POD -o json` prints; for a \
workload's name a List of them; for deploy/NAME etc. what `probectl why deploy/NAME -o json` \
prints, kind WorkloadDiagnosis): `cause` (e.g. oom-killed, liveness-probe-failed, app-error, \
crashed-signal, image-pull-failed, config-error, unschedulable, healthy), `confidence` \
(high/medium/low: low means the evidence that would decide is gone, e.g. expired events), \
`summary` (one sentence to relay), per container `lastTermination` (exitCode, signal, \
reason), `restartCount`, `probes`, `crash` (the log line that says why the process died), \
`evidence` (what was seen) and `nextSteps` (commands to run). `warnings` say what could not be read. \
A workload's List over about 30,000 characters keeps its worst pods first and says in \
`itemsLeftOut` and `note` how many were left out."""

SCAN = """Find every troubled pod of a namespace (default: the configured one) or of the whole \
cluster (all_namespaces), grouped as probectl's scan table groups them: one group per \
workload, container and cause (40 replicas failing the same way are one group).

Call it first for "what is wrong in my cluster/namespace?". Lists pods and events page by \
page: a handful of GET requests whatever the cluster's size. The answer is bounded (about \
30,000 characters): when groups are left out, `groupsLeftOut`, `leftOutByNamespace` and \
`narrow` say so; call again with namespace or selector (a label selector, e.g. app=web) to \
see them.

Returns JSON: `groups` (worst first, then the largest), each with severity, cause, \
namespace, workload (e.g. Deployment/web; null for a bare pod), container, pods (how many), \
restarts, probeFailures, exitCodes, lastTerminated, examplePod (pass it to probectl_why), \
summary and crash (the line that says why the process died); the first groups also carry \
evidence and nextSteps. A group with pods 0 and examplePod null is a workload whose pods \
cannot be created or whose rollout is stuck: call probectl_why with its workload \
(Deployment/web -> deploy/web). `summary` counts pods examined, with findings, by cause and by \
severity, and workloadsWithFindings. With include_history, `restartedEarlier` groups pods that restarted over an hour \
ago and are fine now."""

EXITCODE = """Decode a container exit code (137, 143, 139, 1, 255, -1073741819) or a hex \
NTSTATUS (0xC0000005) or a signal name (SIGKILL): what it means, the signal, what usually \
causes it in Kubernetes, what each restartPolicy does with it and what to check next. \
Offline: no cluster request. Returns probectl's ExitCode JSON (as `probectl exitcode CODE \
-o json`). An exit code alone never tells OOM from a probe kill: for a real pod, use probectl_why."""

LINT = """Check probe and resource settings of Kubernetes manifests before they bite: liveness \
equal to readiness, liveness without readiness, failureThreshold 1, timeouts not below the \
period, probe ports that are not declared, no memory limit, a grace period shorter than the \
preStop sleep.

Give the manifest text (YAML or JSON, several documents, a List, Helm output) as manifest, \
or a local file or directory as path (one of them). No cluster request. Returns probectl's \
LintReport JSON (as `probectl lint -f FILE -o json`): `items`, each with rule, severity, \
object, container, message, fix (the setting that would pass), and file, line, column of \
the offending field; `summary` counts them."""


def build_server(settings: Settings, tools: Tools | None = None):
    """The MCPServer serving the four tools (imports the SDK)."""
    from typing import Annotated

    from mcp.server.mcpserver import MCPServer
    from mcp.types import CallToolResult, TextContent, ToolAnnotations
    from pydantic import Field

    from probectl import __version__

    tools = tools or Tools(settings)
    server = MCPServer("probectl", title="probectl", version=__version__, instructions=INSTRUCTIONS,
                       website_url="https://github.com/probectl/probectl")

    def answer(name: str, fn, **kwargs) -> CallToolResult:
        """The tool's JSON text; an error is a tool error (isError) holding the line the
        CLI writes on stderr, and the server goes on serving."""
        try:
            text = fn(**kwargs)
        except ProbectlError as e:
            message = error_line(e.message)
            log.info("%s: %s", name, message)
            return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)
        except Exception as e:  # noqa: BLE001 - one line; the traceback only with --debug
            message = error_line(f"internal error: {type(e).__name__}: {e}")
            log.warning("%s: %s", name, message, exc_info=settings.debug)
            return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)
        log.info("%s: %d characters", name, len(text))
        return CallToolResult(content=[TextContent(type="text", text=text)])

    def read_only(title: str, cluster: bool) -> ToolAnnotations:
        return ToolAnnotations(title=title, read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                               open_world_hint=cluster)

    live = not settings.filename

    def probectl_why(
        pod: Annotated[str, Field(description="The pod's name (pod/NAME works too); a workload as kubectl "
                                              "names it (deploy/NAME, sts/NAME, ds/NAME, job/NAME) for why its "
                                              "rollout is stuck; or a workload's bare name for all its pods.")],
        namespace: Annotated[str | None, Field(description="The pod's namespace; default: the configured one "
                                                           "(the kubeconfig context's).")] = None,
        logs: Annotated[bool, Field(description="Read the previous log of a container that crashed, to find the "
                                                "line that says why (one request each). false: status and "
                                                "events only.")] = True,
    ) -> CallToolResult:
        return answer("probectl_why", tools.why, pod=pod, namespace=namespace, logs=logs)

    def probectl_scan(
        namespace: Annotated[str | None, Field(description="The namespace to scan; default: the configured one.")] = None,
        all_namespaces: Annotated[bool, Field(description="Scan every namespace.")] = False,
        selector: Annotated[str | None, Field(description="Label selector, e.g. app=web,tier!=db.")] = None,
        include_history: Annotated[bool, Field(description="Also group pods that restarted earlier (over an "
                                                           "hour ago) and are fine now.")] = False,
    ) -> CallToolResult:
        return answer("probectl_scan", tools.scan, namespace=namespace, all_namespaces=all_namespaces,
                      selector=selector, include_history=include_history)

    def probectl_exitcode(
        code: Annotated[int | str, Field(description="An exit code (137, -1073741819), hex (0xC0000005) or a "
                                                     "signal name (SIGKILL).")],
    ) -> CallToolResult:
        return answer("probectl_exitcode", tools.exitcode, code=code)

    def probectl_lint(
        manifest: Annotated[str | None, Field(description="Manifest text: YAML or JSON, one or more documents.")] = None,
        path: Annotated[str | None, Field(description="A local manifest file or directory (instead of manifest).")] = None,
    ) -> CallToolResult:
        return answer("probectl_lint", tools.lint, manifest=manifest, path=path)

    for fn, description, title, cluster in (
            (probectl_why, WHY, "Why is this pod failing?", live),
            (probectl_scan, SCAN, "Problems of a namespace or cluster, grouped", live),
            (probectl_exitcode, EXITCODE, "Decode an exit code", False),
            (probectl_lint, LINT, "Lint probe and resource settings", False)):
        server.add_tool(fn, name=fn.__name__, title=title, description=description,
                        annotations=read_only(title, cluster), structured_output=False)
    return server


def configure_logging(debug: bool) -> None:
    """Logs on stderr, one line each (stdout carries the protocol). Set before the SDK's
    MCPServer configures its own (a rich handler at INFO), which then stands back."""
    import sys

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("probectl mcp: %(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    log.setLevel(logging.DEBUG if debug else logging.INFO)


def serve(settings: Settings) -> None:
    """Serve over stdio until the client closes the connection."""
    import sys

    configure_logging(settings.debug)
    server = build_server(settings)
    where = f"files {', '.join(settings.filename)}" if settings.filename else (
        f"context {settings.context}" if settings.context else "the current kubeconfig context")
    log.info("serving 4 tools over stdio, reading %s", _clean(where, 500))
    if sys.stdin.isatty():
        log.warning("stdin is a terminal: this command speaks MCP (JSON-RPC) on stdin and stdout, for an AI "
                    "assistant to start (see probectl mcp --help); Ctrl-C stops it")
    server.run("stdio")
