"""The API server, as one import: configuration, HTTP client and resource reads.

Commands write `from probectl.sources import cluster as cl` (lazily: importing it costs
start-up) and find here every name they use. The code lives in three modules:

- `probectl.sources.kubeconfig`: loading the configuration (kubeconfig, contexts, exec
  plugins, the in-cluster service account), the only module that imports kubernetes;
- `probectl.sources.http`: the `requests` client (paging, prefetch, retries, watches,
  errors said in one line), the only module that talks HTTP;
- `probectl.sources.resources`: resource paths and the reads commands make with it.

Settings the code reads when it runs (`kubeconfig.SA_DIR`, `kubeconfig._PARTIAL`,
`http.MAX_ATTEMPTS`, ...) are not re-exported: a test that changes one changes it in its
own module, where the code looks it up.
"""

from __future__ import annotations

from probectl.errors import ClusterError
from probectl.sources.http import (
    Client,
    Forbidden,
    Gone,
    NotFound,
    PageGate,
    _peek_continue,
    _Pending,
    parse_timeout,
)
from probectl.sources.kubeconfig import (
    Connection,
    Target,
    connect,
    context_names,
    may_prompt,
    prepare,
)
from probectl.sources.resources import (
    WORKLOAD_RESOURCES,
    events_path,
    get_pod,
    get_workload,
    list_failed_creates,
    list_pod_events,
    list_pods,
    list_workloads,
    namespace_events,
    namespace_pod_events,
    namespace_pods,
    not_found,
    pod_events,
    pod_path,
    previous_logs,
    selector_string,
    start_list_pods,
    workload_path,
)

__all__ = [
    "WORKLOAD_RESOURCES", "Client", "ClusterError", "Connection", "Forbidden", "Gone", "NotFound",
    "PageGate", "Target", "_Pending", "_peek_continue", "connect", "context_names", "events_path",
    "get_pod", "get_workload", "list_failed_creates", "list_pod_events", "list_pods",
    "list_workloads", "may_prompt", "namespace_events", "namespace_pod_events", "namespace_pods",
    "not_found", "parse_timeout", "pod_events", "pod_path", "prepare", "previous_logs",
    "selector_string", "start_list_pods", "workload_path",
]
