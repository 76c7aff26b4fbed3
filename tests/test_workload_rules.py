"""The workload verdict's rules (D01-D11): authority order pinned, every rule decides some
rollout of tests/rollouts.py, and each rollout is decided by the rule it illustrates."""

from __future__ import annotations

import pytest

from probectl.core import rules as pod_rules
from probectl.core.workload import WORKLOAD, diagnose_workload
from probectl.core.workload_rules import WorkloadVerdict
from tests import rollouts
from tests.builders import NOW

# which rule decides each rollout (a reviewed change when a rule or a fixture moves)
DECIDED_BY = {
    "deploy_quota": "D02", "deploy_quota_old_wording_events_only": "D02", "deploy_pod_security_new_events_api": "D02",
    "deploy_webhook_first_install": "D02", "sts_webhook": "D02", "ds_missing_service_account": "D02",
    "job_quota": "D02", "deploy_new_revision_oom": "D03", "deploy_unschedulable": "D03", "sts_readiness": "D03",
    "job_backoff_limit": "D03", "job_deadline": "D01", "job_pod_failure_policy": "D03", "deploy_paused": "D05",
    "deploy_complete_after_old_refusal": "D08", "cronjob_latest_failed": "D01", "job_failed_pods_gone": "D04",
    "job_suspended": "D06", "deploy_scaled_to_zero": "D07", "deploy_stuck_deployment_only": "D09",
    "sts_pod_restarting": "D10", "deploy_rolling_within_deadline": "D11",
}


def _rule_of(r: rollouts.Rollout) -> str:
    d = diagnose_workload(r.workload, replicasets=r.replicasets, pods=r.pods, events=r.events, jobs=r.jobs, now=NOW)
    return d.rule


def test_authority_order_pinned():
    """Changing the order of authority is a reviewed one-line change here and in the table."""
    assert [r.id for r in WORKLOAD] == [f"D{i:02}" for i in range(1, 12)]
    assert [r.name for r in WORKLOAD] == [
        "job-deadline-exceeded", "create-refused", "pods-fail", "job-failed-pods-gone", "paused", "suspended",
        "scaled-to-zero", "complete", "stuck-unexplained", "degraded", "in-progress"]


def test_the_workload_rules_read_failed_create_events_only():
    """What a scan keeps for its workload pass is derived from the rules' declared reads."""
    from probectl.core.workload import EVENT_REASONS

    assert EVENT_REASONS == {"FailedCreate"}


def test_ids_are_their_own_and_documented():
    ids = [r.id for r in WORKLOAD]
    assert len(set(ids)) == len(ids) and not set(ids) & {r.id for r in pod_rules.ALL}
    for r in WORKLOAD:
        assert r.doc and r.reads, r.id


@pytest.mark.parametrize("make", rollouts.ALL, ids=lambda f: f.__name__)
def test_each_rollout_is_decided_by_its_rule(make):
    r = make()
    assert _rule_of(r) == DECIDED_BY[r.name]


@pytest.mark.parametrize("rule", WORKLOAD, ids=lambda r: r.id)
def test_every_rule_decides_some_rollout(rule):
    assert rule.id in {_rule_of(m()) for m in rollouts.ALL}, f"no rollout of tests/rollouts.py reaches {rule.id}"


def test_the_last_rule_always_decides_and_rules_return_records():
    """D11 is the fallback: whatever the facts, the table gives a verdict."""
    from probectl.core.workload_rules import build_facts
    from probectl.core.workload_shape import Shape
    from tests import workloads as w

    s = Shape(w.statefulset("db", replicas=3, ready=0, current=0, created=10), "StatefulSet", [], [], NOW)
    f = build_facts(s, [], [], NOW, None)
    v = WORKLOAD[-1].decide(f)
    assert isinstance(v, WorkloadVerdict) and v.cause.value == "healthy"
    assert [r.id for r in WORKLOAD if r.decide(f) is not None] == ["D11"]
