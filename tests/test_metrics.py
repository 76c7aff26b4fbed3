"""probectl.core.metrics: restarts counted once by cause, problem pods as scan sees them (pure)."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import timedelta

from probectl.core import metrics as m
from probectl.core.scan import EventIndex, scan
from tests.builders import NOW, pod, running, spec, status, terminated
from tests.evolving import Cluster

LATER = NOW + timedelta(seconds=10)


def feed(state: m.MetricsState, changes: list, now=NOW) -> None:
    for resource, kind, obj in changes:
        if resource == "pods":
            if kind == "DELETED":
                state.pod_deleted(obj, now)
            else:
                state.pod_update(obj, now)
        elif kind == "DELETED":
            state.event_deleted(obj, now)
        else:
            state.event_update(obj, now)


def started(cluster: Cluster, **kw) -> m.MetricsState:
    state = m.MetricsState(**kw)
    for p in cluster.pods.values():
        state.baseline_pod(p)
    for e in cluster.events:
        state.baseline_event(e)
    state.finish_baseline(NOW)
    return state


def by_cause(samples: dict, at: int) -> Counter:
    out: Counter = Counter()
    for labels, n in samples.items():
        out[labels[at]] += n
    return out


def scan_causes(cluster: Cluster, events: list[dict], now) -> Counter:
    index = EventIndex()
    for e in events:
        index.add(e)
    report = scan(list(cluster.pods.values()), index, now)
    return Counter(report.by_cause)


def test_the_baseline_counts_nothing_and_problems_are_what_scan_reports():
    c = Cluster()
    state = started(c)
    state.settle(LATER)
    assert state.restart_samples() == {}
    assert by_cause(state.problem_samples(), 3) == scan_causes(c, c.events, NOW) == Counter(
        {"app-error": 3, "readiness-probe-failed": 2})
    # workload labels: the Deployment of a ReplicaSet's pods, never a pod's name
    assert ("shop", "Deployment", "legacy", "app-error", "critical") in state.problem_samples()


def test_every_cause_counted_once_under_churn():
    c = Cluster()
    state = started(c)
    events = list(c.events)
    steps = [c.oom_kill(), c.liveness_kill(), c.rollout_bad_image(), c.app_error(), c.startup_kill(), c.segfault(),
             c.readiness_failure(), c.eviction(), c.graceful_delete(c.name("cart", 9)), c.old_failures_count_up()]
    for changes in steps:
        feed(state, changes)
        feed(state, changes)  # a reconnect hands the same objects out again: nothing new
        events += [o for r, k, o in changes if r == "events"]
    assert state.settle(NOW + timedelta(seconds=1)) == 0  # not settled yet: their events may still come
    state.settle(LATER)
    restarts = by_cause(state.restart_samples(), 4)
    assert restarts == Counter({"oom-killed": 1, "liveness-probe-failed": 1, "startup-probe-failed": 1,
                                "app-error": 1 + 3, "crashed-signal": 1, "evicted": 1})
    assert sum(restarts.values()) == state.terminations_counted
    # a relist (after 410 Gone) of the same cluster changes nothing
    state.relist_pods(list(c.pods.values()), LATER)
    state.settle(LATER + timedelta(seconds=10))
    assert by_cause(state.restart_samples(), 4) == restarts
    # the problem pods are the set scan reports, by cause
    seen = {}
    for e in events:
        seen[e["metadata"]["uid"]] = e
    assert by_cause(state.problem_samples(), 3) == scan_causes(c, list(seen.values()), LATER)
    names = set(c.pods) | {o["metadata"]["name"] for ch in steps for r, k, o in ch if r == "pods"}
    for labels in list(state.restart_samples()) + list(state.problem_samples()):
        assert not set(labels) & names, labels
    assert ("shop", "Deployment", "web", "api", "oom-killed") in state.restart_samples()


def test_a_restart_while_the_watch_was_down_is_counted_once_by_the_relist():
    c = Cluster()
    state = started(c)
    changes = c.segfault()  # never seen as a watch event
    state.relist_pods(list(c.pods.values()), NOW)
    state.settle(LATER)
    assert by_cause(state.restart_samples(), 4) == Counter({"crashed-signal": 1})
    feed(state, changes, LATER)  # the watch catches up with the same object later
    state.relist_pods(list(c.pods.values()), LATER)
    state.settle(LATER + timedelta(seconds=10))
    assert by_cause(state.restart_samples(), 4) == Counter({"crashed-signal": 1})


def test_restarts_the_status_no_longer_shows_are_counted_from_restart_count():
    """Three restarts while the watch was down: only the newest instance is still shown, but
    restartCount says there were three (counted with the newest one's cause)."""
    p = pod("web-7f9c6d8b5-abcde", [spec("api")], [status("api", running(600), None, ready=True)])
    state = m.MetricsState()
    state.baseline_pod(p)
    state.finish_baseline(NOW)
    later = copy.deepcopy(p)
    st = later["status"]["containerStatuses"][0]
    st["lastState"], st["restartCount"], st["state"] = terminated(137, "OOMKilled", 60, 5), 3, running(4)
    state.relist_pods([later], NOW)
    state.settle(LATER)
    assert state.restart_samples() == {("shop", "Deployment", "web", "api", "oom-killed"): 3}


def test_state_is_dropped_with_deleted_pods_and_the_relist_drops_the_missing():
    c = Cluster()
    state = started(c)
    assert state.stats()["pods"] == 300
    for name in [n for n in c.pods if n.startswith("svc0")][:50]:
        feed(state, c.graceful_delete(name))
    assert state.stats()["pods"] == 250 and state.restart_samples() == {}
    gone = [n for n in c.pods if n.startswith("svc1")][:40]
    for name in gone:
        del c.pods[name]
    state.relist_pods(list(c.pods.values()), NOW)
    assert state.stats()["pods"] == 210
    state.settle(LATER)
    assert state.restart_samples() == {}


def test_max_series_caps_new_series_and_counts_each_dropped_once():
    c = Cluster()
    state = started(c, max_series=2)  # the two problem series of the baseline
    feed(state, c.oom_kill())
    feed(state, c.segfault())
    state.settle(LATER)
    assert state.restart_samples() == {}
    assert state.problem_samples() and len(state.admitted) == 2
    assert state.dropped_series == 4  # two restart series, two new problem series
    state.problem_samples()
    assert state.dropped_series == 4  # asked again: the same series, not counted twice


def test_cronjob_pods_count_under_the_cronjob_and_bare_pods_have_no_owner():
    job = pod("nightly-report-29413380-x7k2p", [spec("r")], [status("r", running(5))], owner=("Job", "nightly-report-29413380"))
    assert m.workload(job) == ("shop", "CronJob", "nightly-report")
    manual = pod("migrate-x7k2p", [spec("r")], [status("r", running(5))], owner=("Job", "migrate"))
    assert m.workload(manual) == ("shop", "Job", "migrate")
    bare = pod("debug-shell", [spec("r")], [status("r", running(5))], owner=("", None))
    assert m.workload(bare) == ("shop", "", "")


def test_an_init_container_that_completes_and_a_job_that_succeeds_are_not_restarts():
    p = pod("batch-x7k2p", [spec("main")], [status("main", running(30), None, ready=True)], owner=("Job", "batch"),
            restart_policy="Never")
    state = m.MetricsState()
    state.baseline_pod(p)
    state.finish_baseline(NOW)
    done = copy.deepcopy(p)
    done["status"]["phase"] = "Succeeded"
    st = done["status"]["containerStatuses"][0]
    st["state"], st["ready"] = terminated(0, "Completed", 30, 1), False
    state.pod_update(done, NOW)
    state.settle(LATER)
    assert state.restart_samples() == {}
    failed = copy.deepcopy(p)
    failed["metadata"]["uid"] = "another"
    state.pod_update(failed, NOW)
    failed = copy.deepcopy(failed)
    failed["status"]["phase"] = "Failed"
    failed["status"]["containerStatuses"][0]["state"] = terminated(2, "Error", 30, 1)
    state.pod_update(failed, NOW)
    state.settle(LATER)
    assert state.restart_samples() == {("shop", "Job", "batch", "main", "app-error"): 1}
