"""`probectl auth`: which of the permissions probectl uses does the current identity have?"""

from __future__ import annotations

import sys

import typer

from probectl.cli import options
from probectl.errors import ExitStatus

HELP = """Check which of the permissions probectl uses you have (SelfSubjectAccessReview).

Fix RBAC before you need it: deploy/rbac.yaml grants exactly these.

Exit status: 0 when every permission is granted, 1 when some are not, 3 when the cluster
cannot be asked.
"""

# (verb, API group, resource, subresource, what needs it)
PERMISSIONS = (
    ("get", "", "pods", "", "probectl why POD"),
    ("list", "", "pods", "", "probectl scan and lint; why NAME when NAME is a workload"),
    ("list", "", "events", "", "probe failures, kills and back-offs in every verdict"),
    ("get", "", "pods", "log", "probectl why POD --logs N"),
    ("watch", "", "pods", "", "probectl watch"),
    ("watch", "", "events", "", "probectl watch: probe failures and kills as they happen"),
    ("get", "apps", "deployments", "", "probectl why deploy/NAME"),
    ("list", "apps", "deployments", "", "scan's workload pass; lint (live)"),
    ("get", "apps", "statefulsets", "", "probectl why sts/NAME"),
    ("list", "apps", "statefulsets", "", "scan's workload pass; lint (live)"),
    ("get", "apps", "daemonsets", "", "probectl why ds/NAME"),
    ("list", "apps", "daemonsets", "", "scan's workload pass; lint (live)"),
    ("get", "apps", "replicasets", "", "probectl why rs/NAME"),
    ("list", "apps", "replicasets", "", "why deploy/NAME: its revisions; lint (live)"),
    ("get", "batch", "jobs", "", "probectl why job/NAME"),
    ("list", "batch", "jobs", "", "scan's workload pass; why cj/NAME: its latest Job; lint (live)"),
    ("get", "batch", "cronjobs", "", "probectl why cj/NAME"),
    ("list", "batch", "cronjobs", "", "probectl lint (live)"),
)


def review(client, namespace: str) -> list[dict]:
    from probectl.sources.cluster import Forbidden

    out = []
    for verb, group, resource, sub, used_by in PERMISSIONS:
        attrs = {"verb": verb, "resource": resource, "group": group}
        if namespace:
            attrs["namespace"] = namespace
        if sub:
            attrs["subresource"] = sub
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {"resourceAttributes": attrs}}
        name = f"{verb} {resource}" + (f"/{sub}" if sub else "") + (f" ({group})" if group else "")
        try:
            st = client.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body).get("status") or {}
            allowed, reason = bool(st.get("allowed")), str(st.get("reason") or st.get("evaluationError") or "")
        except Forbidden as e:
            allowed, reason = False, f"the access review itself was refused: {e.message}"
        out.append({"permission": name, "verb": verb, "group": group, "resource": resource + (f"/{sub}" if sub else ""),
                    "namespace": namespace or None, "allowed": allowed, "reason": reason or None, "usedBy": used_by})
    return out


def auth(
    namespace: str | None = options.NAMESPACE,
    all_namespaces: bool = typer.Option(False, "-A", "--all-namespaces", help="Check cluster-wide (what scan -A needs)."),
    context: str | None = options.CONTEXT,
    kubeconfig: str | None = options.KUBECONFIG,
    request_timeout: str | None = options.REQUEST_TIMEOUT,
    output: options.Output = options.OUTPUT,
    no_color: bool = options.NO_COLOR,
    debug: bool = options.DEBUG,
) -> int:
    from probectl.sources import cluster as cl

    conn = cl.connect(kubeconfig, context, namespace)
    client = cl.Client(conn, cl.parse_timeout(request_timeout), debug=sys.stderr if debug else None)
    ns = "" if all_namespaces else conn.target.namespace
    items = review(client, ns)
    if output is options.Output.table:
        from rich.table import Table
        from rich.text import Text

        from probectl.render.console import box_for, to_text
        from probectl.render.safe import clean

        style = options.style(no_color)
        where = "all namespaces" if all_namespaces else f'namespace "{ns}"'
        table = Table(box=box_for(style), title=f"probectl's permissions in {clean(where)} ({clean(conn.target.where())})",
                      title_justify="left")
        for col in ("Permission", "Allowed", "Needed for", "Reason"):
            table.add_column(col, overflow="ellipsis")  # wrapped at spaces; never a word broken (-o json has it whole)
        for i in items:
            table.add_row(i["permission"], Text("yes" if i["allowed"] else "NO", style="green" if i["allowed"] else "bold red"),
                          i["usedBy"], Text(clean(i["reason"] or "", oneline=True)))
        options.emit(to_text([table], style))
    else:
        from probectl.render.data import dump

        options.emit(dump({"apiVersion": "probectl/v1", "kind": "AccessReport", "context": conn.target.context,
                           "namespace": ns or None, "items": items}, output.value))
    return ExitStatus.OK if all(i["allowed"] for i in items) else ExitStatus.FINDINGS


def register(app: typer.Typer) -> None:
    app.command("auth", help=HELP)(auth)
