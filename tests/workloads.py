"""Build workloads (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob) and the
controllers' events in the shapes the API server returns and `kubectl get -o json` writes.

Every text is a controller's or an admission plugin's own; each builder names its source.
Times are seconds before builders.NOW.
"""

from __future__ import annotations

import hashlib

from tests import builders as b
from tests.builders import spec, ts, uid

NS = "shop"

# Fact: pkg/controller/deployment/util/deployment_util.go (condition reasons and messages)
NEW_RS_AVAILABLE = 'ReplicaSet "{rs}" has successfully progressed.'
RS_UPDATED = 'ReplicaSet "{rs}" is progressing.'
TIMED_OUT = 'ReplicaSet "{rs}" has timed out progressing.'
MIN_UNAVAILABLE = "Deployment does not have minimum availability."
MIN_AVAILABLE = "Deployment has minimum availability."
PAUSED = "Deployment is paused"

# Fact: admission errors quoted by the controllers' FailedCreate events
# - plugin/resourcequota (k8s.io/apiserver): "exceeded quota: %s, requested: %s, used: %s, limited: %s"
QUOTA = ('pods "{pod}" is forbidden: exceeded quota: compute-quota, requested: limits.memory=2Gi, '
         "used: limits.memory=7Gi, limited: limits.memory=8Gi")
# - the same before Kubernetes 1.9 (capital E)
QUOTA_OLD = 'pods "{pod}" is forbidden: Exceeded quota: team-quota, requested: pods=1, used: pods=10, limited: pods=10'
# - k8s.io/pod-security-admission: `violates PodSecurity %q: %s` (ForbiddenDetail lists the checks)
PSA = ('pods "{pod}" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false '
       '(container "api" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities '
       '(container "api" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or '
       'container "api" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "api" '
       'must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")')
# - k8s.io/apiserver webhook errors: `admission webhook %q denied the request: %s`
WEBHOOK = ('admission webhook "validate.kyverno.svc-fail" denied the request: \n\nresource Pod/shop/{pod} was blocked '
           "due to the following policies \n\nrequire-requests-limits:\n  validate-resources: 'validation error: "
           "CPU and memory resource requests and limits are required. rule validate-resources failed at path "
           "/spec/containers/0/resources/limits/'")
GATEKEEPER = ('admission webhook "validation.gatekeeper.sh" denied the request: [k8s-required-labels] '
              'you must provide labels: {{"team"}}')
# - plugin/pkg/admission/serviceaccount: "error looking up service account %s/%s: %w"
MISSING_SA = 'pods "{pod}" is forbidden: error looking up service account shop/{sa}: serviceaccount "{sa}" not found'


def _meta(kind: str, name: str, ns: str, created: float, generation: int = 1, **extra) -> dict:
    m = {"name": name, "namespace": ns, "uid": uid(f"{ns}/{kind}/{name}"),
         "resourceVersion": str(int(hashlib.sha256(name.encode()).hexdigest()[:6], 16)),
         "generation": generation, "creationTimestamp": ts(created), "labels": {"app": name}}
    m.update(extra)
    return m


def _owner(kind: str, name: str, ns: str) -> list[dict]:
    return [{"apiVersion": "batch/v1" if kind in ("Job", "CronJob") else "apps/v1", "kind": kind, "name": name,
             "uid": uid(f"{ns}/{kind}/{name}"), "controller": True, "blockOwnerDeletion": True}]


def template(name: str, **kw) -> dict:
    return {"metadata": {"labels": {"app": name}}, "spec": {"containers": [spec(**kw)], "restartPolicy": "Always"}}


def cond(ctype: str, status: str, reason: str, message: str, before: float = 700, updated: float | None = None) -> dict:
    c = {"type": ctype, "status": status, "reason": reason, "message": message,
         "lastTransitionTime": ts(before)}
    if ctype in ("Progressing", "Available", "ReplicaFailure") and updated is not None:
        c["lastUpdateTime"] = ts(updated)
    return c


def deployment(name: str, *, replicas=3, revision=2, ready=3, updated=3, available=None, current=None,
               conditions=(), paused=False, ns=NS, created=86400, generation=None, deadline=600) -> dict:
    available = ready if available is None else available
    current = updated if current is None else current
    status = {"observedGeneration": generation or revision, "replicas": current, "updatedReplicas": updated,
              "readyReplicas": ready, "availableReplicas": available}
    if replicas - available > 0:
        status["unavailableReplicas"] = replicas - available
    status = {k: v for k, v in status.items() if v}  # the API omits zero counts
    status["observedGeneration"] = generation or revision
    if conditions:
        status["conditions"] = list(conditions)
    d = {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": _meta("Deployment", name, ns, created, generation or revision,
                           annotations={"deployment.kubernetes.io/revision": str(revision)}),
         "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": template(name),
                  "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                  "revisionHistoryLimit": 10, "progressDeadlineSeconds": deadline},
         "status": status}
    if paused:
        d["spec"]["paused"] = True
    return d


def replicaset(deploy: dict | None, hash_: str, *, revision=2, replicas=3, ready=None, created=3600, conditions=(),
               ns=NS, name=None) -> dict:
    owner = deploy["metadata"]["name"] if deploy else None
    rs_name = name or f"{owner}-{hash_}"
    ready = replicas if ready is None else ready
    meta = _meta("ReplicaSet", rs_name, ns, created, 1,
                 annotations={"deployment.kubernetes.io/revision": str(revision),
                              "deployment.kubernetes.io/desired-replicas": str(replicas)})
    meta["labels"] = {"app": owner or rs_name, "pod-template-hash": hash_}
    if deploy:
        meta["ownerReferences"] = _owner("Deployment", owner, ns)
    status = {"replicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": ready, "availableReplicas": ready,
              "observedGeneration": 1}
    status = {k: v for k, v in status.items() if v}
    if conditions:
        status["conditions"] = list(conditions)
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta,
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": owner or rs_name, "pod-template-hash": hash_}},
                     "template": template(owner or rs_name)},
            "status": status}


def statefulset(name: str, *, replicas=3, ready=3, current=None, updated=None, current_rev="1", update_rev="1",
                ns=NS, created=86400, generation=1) -> dict:
    current = replicas if current is None else current
    updated = current if updated is None else updated
    st = {"observedGeneration": generation, "replicas": current, "readyReplicas": ready, "currentReplicas": current,
          "updatedReplicas": updated, "availableReplicas": ready, "collisionCount": 0,
          "currentRevision": f"{name}-{current_rev}", "updateRevision": f"{name}-{update_rev}"}
    st = {k: v for k, v in st.items() if v or k == "collisionCount"}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": _meta("StatefulSet", name, ns, created, generation),
            "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": {"app": name}},
                     "template": template(name), "podManagementPolicy": "OrderedReady",
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}},
            "status": st}


def daemonset(name: str, *, desired=3, ready=3, current=None, updated=None, ns=NS, created=86400, generation=1) -> dict:
    current = desired if current is None else current
    updated = current if updated is None else updated
    st = {"currentNumberScheduled": current, "numberMisscheduled": 0, "desiredNumberScheduled": desired,
          "numberReady": ready, "observedGeneration": generation, "updatedNumberScheduled": updated,
          "numberAvailable": ready}
    if desired - ready:
        st["numberUnavailable"] = desired - ready
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": _meta("DaemonSet", name, ns, created, generation),
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": template(name),
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}},
            "status": st}


def job(name: str, *, active=0, succeeded=0, failed=0, ready=0, conditions=(), backoff=6, completions=1,
        parallelism=1, deadline=None, ns=NS, created=900, cronjob=None, pod_failure_policy=None, suspend=False) -> dict:
    meta = _meta("Job", name, ns, created, 1)
    meta["labels"] = {"batch.kubernetes.io/job-name": name, "job-name": name}
    if cronjob:
        meta["ownerReferences"] = _owner("CronJob", cronjob, ns)
    # Fact: the Job controller's generated selector (pkg/apis/batch: batch.kubernetes.io/controller-uid)
    labels = {"batch.kubernetes.io/controller-uid": meta["uid"], "controller-uid": meta["uid"],
              "batch.kubernetes.io/job-name": name, "job-name": name}
    spec_ = {"backoffLimit": backoff, "completions": completions, "parallelism": parallelism,
             "completionMode": "NonIndexed", "suspend": suspend, "manualSelector": False,
             "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": meta["uid"]}},
             "template": {"metadata": {"labels": labels},
                          "spec": {"containers": [spec()], "restartPolicy": "Never"}}}
    if deadline is not None:
        spec_["activeDeadlineSeconds"] = deadline
    if pod_failure_policy:
        spec_["podFailurePolicy"] = pod_failure_policy
    st = {"startTime": ts(created - 1), "active": active, "succeeded": succeeded, "failed": failed, "ready": ready,
          "terminating": 0, "uncountedTerminatedPods": {}}
    st = {k: v for k, v in st.items() if v or k in ("ready", "terminating", "uncountedTerminatedPods")}
    if conditions:
        st["conditions"] = list(conditions)
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": spec_, "status": st}


def cronjob(name: str, *, ns=NS, last_schedule=300, suspend=False) -> dict:
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": _meta("CronJob", name, ns, 864000, 1),
            "spec": {"schedule": "*/5 * * * *", "concurrencyPolicy": "Forbid", "suspend": suspend,
                     "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
                     "jobTemplate": {"spec": {"backoffLimit": 2, "template": {"spec": {
                         "containers": [spec()], "restartPolicy": "OnFailure"}}}}},
            "status": {"lastScheduleTime": ts(last_schedule)}}


def job_cond(ctype: str, reason: str, message: str, before: float = 60) -> dict:
    return {"type": ctype, "status": "True", "lastProbeTime": ts(before), "lastTransitionTime": ts(before),
            "reason": reason, "message": message}


_SEQ = [0]


def controller_event(obj: dict, reason: str, message: str, *, type="Warning", count=1, first=600, last=30,
                     component=None, new_api=False) -> dict:
    """An event a controller records about a workload object. Fact: the controllers record
    through client-go's legacy recorder (core/v1: involvedObject, source.component
    "replicaset-controller", "statefulset-controller", "daemonset-controller",
    "job-controller", aggregated count/firstTimestamp/lastTimestamp); the events.k8s.io/v1
    view of the same event has regarding/note and the deprecated* fields."""
    _SEQ[0] += 1
    meta = obj["metadata"]
    kind = obj["kind"]
    component = component or {"ReplicaSet": "replicaset-controller", "StatefulSet": "statefulset-controller",
                              "DaemonSet": "daemonset-controller", "Job": "job-controller",
                              "Deployment": "deployment-controller", "CronJob": "cronjob-controller"}[kind]
    ref = {"kind": kind, "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"],
           "apiVersion": obj["apiVersion"], "resourceVersion": meta["resourceVersion"]}
    name = f"{meta['name']}.{hashlib.sha256(f'{reason}{message}{_SEQ[0]}'.encode()).hexdigest()[:16]}"
    if new_api:
        return {"apiVersion": "events.k8s.io/v1", "kind": "Event",
                "metadata": {"name": name, "namespace": meta["namespace"], "uid": uid(f"wevent{_SEQ[0]}"),
                             "creationTimestamp": ts(first)},
                "eventTime": None, "reportingController": "", "reportingInstance": "", "action": "", "reason": reason,
                "regarding": ref, "note": message, "type": type, "deprecatedSource": {"component": component},
                "deprecatedFirstTimestamp": ts(first), "deprecatedLastTimestamp": ts(last), "deprecatedCount": count}
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": meta["namespace"], "uid": uid(f"wevent{_SEQ[0]}"),
                         "resourceVersion": str(300000 + _SEQ[0]), "creationTimestamp": ts(first)},
            "involvedObject": ref, "reason": reason, "message": message, "source": {"component": component},
            "firstTimestamp": ts(first), "lastTimestamp": ts(last), "count": count, "type": type, "eventTime": None,
            "reportingComponent": component, "reportingInstance": ""}


def failed_create(obj: dict, error: str, **kw) -> dict:
    """FailedCreate as the controller words it. Fact: pkg/controller/controller_utils.go
    `Eventf(object, Warning, FailedCreatePodReason, "Error creating: %v", err)` (ReplicaSet,
    DaemonSet, Job); pkg/controller/statefulset/stateful_pod_control.go
    `"%s Pod %s in StatefulSet %s failed error: %s"` with verb "create"."""
    if obj["kind"] == "StatefulSet":
        pod = f"{obj['metadata']['name']}-0"
        return controller_event(obj, "FailedCreate",
                                f"create Pod {pod} in StatefulSet {obj['metadata']['name']} failed error: "
                                + error.format(pod=pod, sa="web-runner"), **kw)
    # pods created from generateName: the name in the error is the generated one
    pod = f"{obj['metadata']['name']}-x7k2p" if obj["kind"] != "Job" else f"{obj['metadata']['name']}-x7k2p"
    return controller_event(obj, "FailedCreate", "Error creating: " + error.format(pod=pod, sa="web-runner"), **kw)


def replica_failure(error: str, pod="web-7c9d8f6b5-x7k2p") -> dict:
    """Fact: pkg/controller/replicaset/replica_set_utils.go calculateStatus: ReplicaFailure
    True, reason FailedCreate, message = the create error (the Deployment controller copies
    it: deployment/sync.go)."""
    return cond("ReplicaFailure", "True", "FailedCreate", error.format(pod=pod, sa="web-runner"), before=500, updated=500)


def rs_pod(rs: dict, suffix: str, statuses: list[dict], **kw) -> dict:
    """A pod of a ReplicaSet, labelled and owned as the ReplicaSet controller makes them."""
    name = f"{rs['metadata']['name']}-{suffix}"
    return b.pod(name, [spec()], statuses, ns=rs["metadata"]["namespace"],
                 owner=("ReplicaSet", rs["metadata"]["name"]), **kw)


def owned_pod(owner: dict, name: str, statuses: list[dict], labels: dict | None = None, **kw) -> dict:
    p = b.pod(name, [spec()], statuses, ns=owner["metadata"]["namespace"], owner=(None, None), **kw)
    p["metadata"]["ownerReferences"] = _owner(owner["kind"], owner["metadata"]["name"], owner["metadata"]["namespace"])
    p["metadata"]["labels"].update(labels or {})
    if owner["kind"] == "Job":  # the Job's template labels, its selector's among them
        p["metadata"]["labels"].update(owner["spec"]["template"]["metadata"]["labels"])
    return p
