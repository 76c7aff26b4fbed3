"""Issue 27: one verdict for a rollout, from the workload, its ReplicaSets, events and pods."""

from __future__ import annotations

import pytest

from probectl.core.model import Cause, Severity
from probectl.core.workload import diagnose_workload, is_finding, parse_ref, refusal_kind
from tests import rollouts
from tests import workloads as w
from tests.builders import NOW


def run(r: rollouts.Rollout):
    return diagnose_workload(r.workload, replicasets=r.replicasets, pods=r.pods, events=r.events, jobs=r.jobs, now=NOW)


@pytest.mark.parametrize("make", rollouts.ALL, ids=lambda f: f.__name__)
def test_every_rollout_gets_its_verdict(make):
    r = make()
    d = run(r)
    assert (d.cause.value, d.severity.value, d.rollout) == (r.cause, r.severity, r.rollout), d.summary
    assert d.refusal == r.refusal
    for s in r.summary_has:
        assert s in d.summary, d.summary
    for s in r.evidence_has:
        assert any(s in e for e in d.evidence), d.evidence
    doc = d.to_dict()
    assert doc["apiVersion"] == "probectl/v1" and doc["kind"] == "WorkloadDiagnosis"
    assert {"workload", "cause", "confidence", "severity", "summary", "evidence", "nextSteps", "revision",
            "replicas", "pods"} <= set(doc)
    assert doc["nextSteps"]


def test_create_refused_quotes_the_controllers_message_and_what_to_run():
    d = run(rollouts.deploy_quota())
    assert d.cause is Cause.CREATE_REFUSED and d.confidence.value == "high"
    assert d.refused.startswith('pods "web-7c9d8f6b5-x7k2p" is forbidden: exceeded quota: compute-quota')
    assert "kubectl describe resourcequota compute-quota -n shop" in d.next_steps
    assert d.revision["current"]["name"] == "web-7c9d8f6b5" and d.revision["current"]["revision"] == 2
    assert d.revision["previous"][0]["name"] == "web-5d4f8b7c9"
    assert any("ProgressDeadlineExceeded" in e and "has timed out progressing" in e for e in d.evidence)
    assert d.to_dict()["createRefused"]["refusal"] == "quota"
    assert is_finding(d)


def test_statefulset_wrapper_is_taken_off_the_admission_message():
    d = run(rollouts.sts_webhook())
    assert d.refused.startswith('admission webhook "validate.kyverno.svc-fail" denied the request')
    assert any(e.startswith("Warning event FailedCreate on StatefulSet db (9x, last 40s ago) from "
                            "statefulset-controller") for e in d.evidence)


def test_new_revision_pods_fail_embeds_the_representative_and_counts():
    d = run(rollouts.deploy_new_revision_oom())
    assert d.cause is Cause.OOM_KILLED
    assert [g.count for g in d.groups] == [1]
    doc = d.to_dict()
    assert doc["pods"][0]["kind"] == "Diagnosis" and doc["pods"][0]["pod"]["name"].startswith("web-7c9d8f6b5-")
    assert doc["podGroups"][0] == {"cause": "oom-killed", "severity": "critical", "count": 1,
                                   "representative": doc["pods"][0]["pod"]["name"], "pods": [doc["pods"][0]["pod"]["name"]]}
    # the old revision's healthy pods are not judged as the rollout's
    assert "3 pods of the previous revision (ReplicaSet web-5d4f8b7c9, revision 1) still serve" in d.summary
    assert any("rollout undo" in s for s in d.next_steps)


def test_pod_groups_from_a_scan_replace_the_pods():
    r = rollouts.deploy_new_revision_oom()
    full = run(r)
    again = diagnose_workload(r.workload, replicasets=r.replicasets, events=r.events, now=NOW, pod_groups=list(full.groups))
    assert (again.cause, again.summary) == (full.cause, full.summary)


def test_a_paused_rollout_and_a_complete_one_are_fine():
    assert run(rollouts.deploy_paused()).severity is Severity.OK
    d = run(rollouts.deploy_complete_after_old_refusal())
    assert d.cause is Cause.HEALTHY and not is_finding(d)


def test_refusal_while_a_pod_of_the_new_revision_crashes_names_the_pods():
    r = rollouts.deploy_new_revision_oom()
    new = r.replicasets[1]
    r.events.append(w.failed_create(new, w.QUOTA, count=3, first=300, last=30))
    d = run(r)
    assert d.cause is Cause.OOM_KILLED
    assert any("pod creations are also refused" in e for e in d.evidence)


def test_job_failed_with_its_pods_gone_says_so():
    r = rollouts.job_backoff_limit()
    d = diagnose_workload(r.workload, pods=[], now=NOW)
    assert d.cause is Cause.UNKNOWN and d.severity is Severity.CRITICAL and d.confidence.value == "low"
    assert "BackoffLimitExceeded" in d.summary


def test_cronjob_without_jobs_is_not_a_failure():
    d = diagnose_workload(w.cronjob("nightly"), jobs=[], now=NOW)
    assert d.severity is Severity.OK and d.rollout == "no-job"


def test_progressing_rollout_within_its_deadline_is_not_a_finding():
    d = w.deployment("web", replicas=3, revision=2, ready=2, updated=1, current=4, conditions=[
        w.cond("Progressing", "True", "ReplicaSetUpdated", w.RS_UPDATED.format(rs="web-7c9d8f6b5"), before=20)])
    out = diagnose_workload(d, now=NOW)
    assert out.rollout == "progressing" and out.severity is Severity.OK and not is_finding(out)


@pytest.mark.parametrize("ref,want", [
    ("deploy/web", ("Deployment", "web")), ("deployment.apps/web", ("Deployment", "web")),
    ("Deployments/web", ("Deployment", "web")), ("sts/db", ("StatefulSet", "db")), ("ds/agent", ("DaemonSet", "agent")),
    ("job/x", ("Job", "x")), ("jobs.batch/x", ("Job", "x")), ("cj/n", ("CronJob", "n")), ("rs/web-1", ("ReplicaSet", "web-1")),
    ("pod/web-1", None), ("web", None), ("deploy/", None),
])
def test_kubectl_spellings(ref, want):
    assert parse_ref(ref) == want


@pytest.mark.parametrize("message,kind", [
    (w.QUOTA.format(pod="x"), "quota"), (w.QUOTA_OLD.format(pod="x"), "quota"), (w.PSA.format(pod="x"), "pod-security"),
    ('pods "x" is forbidden: pod violates PodSecurity "baseline:v1.22": host namespaces (hostNetwork=true)', "pod-security"),
    (w.WEBHOOK.format(pod="x"), "webhook"), (w.MISSING_SA.format(pod="x", sa="r"), "service-account"),
    ('pods "x" is forbidden: maximum cpu usage per Container is 2, but limit is 4', "limit-range"),
    ("Internal error occurred: failed calling webhook", "other"),
])
def test_refusal_kinds(message, kind):
    assert refusal_kind(message)[0] == kind


def test_statefulset_claim_refused_by_a_storage_quota():
    """Fact: stateful_pod_control.go recordClaimEvent: "create Claim %s for Pod %s in
    StatefulSet %s failed error: %s" (reason FailedCreate); the quota names the storage."""
    s = w.statefulset("db", replicas=1, ready=0, current=0, created=300)
    msg = ('create Claim data-db-0 for Pod db-0 in StatefulSet db failed error: persistentvolumeclaims "data-db-0" '
           "is forbidden: exceeded quota: storage-quota, requested: requests.storage=50Gi, used: "
           "requests.storage=90Gi, limited: requests.storage=100Gi")
    d = diagnose_workload(s, events=[w.controller_event(s, "FailedCreate", msg, count=3, first=300, last=10)], now=NOW)
    assert d.cause is Cause.CREATE_REFUSED and d.refusal == "quota"
    assert d.refused.startswith('persistentvolumeclaims "data-db-0" is forbidden: exceeded quota: storage-quota')
