"""`probectl why POD`: one pod's verdict with its evidence."""

from __future__ import annotations

import typer

from probectl.cli import options
from probectl.errors import ExitStatus, UsageError

HELP = """Say why a pod's containers restart, crash or get no traffic.

Reads the pod and its events, decodes each container's last termination, correlates it
with probe failures, the kills the kubelet announced and the restartPolicy, and gives one
verdict with its evidence and next steps.

Read kubectl output instead of a cluster with -f (repeatable, '-' for stdin):

  kubectl get pod web-7f9c -n shop -o json > pod.json
  kubectl get events -n shop -o json > events.json
  probectl why web-7f9c -n shop -f pod.json -f events.json

Exit status: 0 when the pod is fine, 1 when it has trouble, 2 for bad input.
"""


def diagnose_snapshot(snap, pod_name: str | None, namespace: str | None):
    """Pick the pod from a file snapshot and diagnose it as of the snapshot's time."""
    from probectl.core.diagnose import diagnose, snapshot_time
    from probectl.core.select import find_pod

    pod = find_pod(snap.pods, pod_name, namespace)
    return diagnose(pod, snap.events, snapshot_time(snap.pods, snap.events))


def show(diagnosis, output: options.Output, no_color: bool) -> None:
    if output is options.Output.table:
        from probectl.render.report import render

        options.emit(render(diagnosis, options.style(no_color)))
    else:
        from probectl.render.data import dump

        options.emit(dump(diagnosis.to_dict(), output.value))


def why(
    pod: str | None = typer.Argument(None, metavar="POD", help="The pod's name (pod/NAME works too); optional when the input holds one pod."),
    namespace: str | None = options.NAMESPACE,
    filename: list[str] | None = options.FILENAME,
    output: options.Output = options.OUTPUT,
    no_color: bool = options.NO_COLOR,
    debug: bool = options.DEBUG,
) -> int:
    if not filename:
        raise UsageError(
            "reading a live cluster is not available yet: give kubectl output with -f "
            "(e.g. kubectl get pod POD -o json > pod.json; probectl why POD -f pod.json), or try 'probectl demo'"
        )
    from probectl.sources.files import load

    diagnosis = diagnose_snapshot(load(filename), pod, namespace)
    show(diagnosis, output, no_color)
    return ExitStatus.OK if diagnosis.severity.value == "ok" else ExitStatus.FINDINGS


def register(app: typer.Typer) -> None:
    app.command("why", help=HELP)(why)
