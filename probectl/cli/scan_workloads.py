"""scan's workload pass: the workloads of the scan's scope, listed page by page like the
pods, judged by core/workload.py with the FailedCreate events and the pod findings the
scan has already made. A workload whose pods cannot be created, or whose rollout is past
its progress deadline, becomes a finding, so a scan after a failed deploy is never green
when a workload is broken. A kind that may not be listed is a warning, never an error."""

from __future__ import annotations

from collections.abc import Callable

KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")


def tallying(on_item: Callable, tally) -> Callable:
    """on_item that also counts the troubled pods by owner workload (core.workload.PodTally)."""
    def item(d) -> None:
        tally.add(d)
        on_item(d)

    return item


def from_cluster(client, scopes: list, report, tally, now, *, label_selector: str | None = None) -> None:
    """List each workload kind and the FailedCreate events of each scope (None: all
    namespaces), keep the candidates (core.workload.candidate), judge them, and add the
    findings to the report. Requests: len(KINDS) + 1 lists per scope, paged."""
    from probectl.core.workload import candidate, judge_scope
    from probectl.sources import cluster as cl

    kept: list[dict] = []
    examined = 0
    events: list[dict] = []
    denied: list[str] = []
    for ns in scopes:
        where = f'namespace "{ns}"' if ns else "all namespaces"
        for kind in KINDS:
            try:
                for w in cl.list_workloads(client, kind, ns, label_selector=label_selector, warn=report.warnings.append):
                    examined += 1
                    if candidate(w):
                        kept.append(_compact(w))
            except cl.Forbidden as e:
                denied.append(f"{cl.WORKLOAD_RESOURCES[kind][1]} in {where} ({e.message})")
            except cl.ClusterError as e:  # the pods were read: their answer stands, said plainly
                denied.append(f"{cl.WORKLOAD_RESOURCES[kind][1]} in {where} ({e.message})")
                break
        try:
            events += list(cl.list_failed_creates(client, ns, warn=report.warnings.append))
        except cl.ClusterError:
            pass  # the events warning is the pod pass's; ReplicaFailure conditions still tell
    if denied:
        report.warnings.append(f"workloads could not be listed: {'; '.join(denied[:3])}"
                               + (f" and {len(denied) - 3} more" if len(denied) > 3 else "")
                               + ": those are judged by their pods only (grant list on them: deploy/rbac.yaml)")
    report.add_workloads(judge_scope(kept, events, tally, now), examined)


def from_snapshot(workloads: list[dict], events: list[dict], report, tally, now, *, namespaces=None,
                  label_selector: str | None = None) -> None:
    """The same over the workloads and FailedCreate events read from files."""
    from probectl.core.select import label_matcher
    from probectl.core.workload import candidate, judge_scope

    labels = label_matcher(label_selector)
    wanted = set(namespaces or [])
    chosen = [w for w in workloads if w.get("kind") in KINDS and labels(w)
              and (not wanted or ((w.get("metadata") or {}).get("namespace") or "default") in wanted)]
    kept = [w for w in chosen if candidate(w)]
    report.add_workloads(judge_scope(kept, events, tally, now), len(chosen))


def _compact(w: dict) -> dict:
    from probectl.core.workload import compact_workload

    return compact_workload(w)
