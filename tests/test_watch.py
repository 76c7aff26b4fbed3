"""`probectl watch`: the tracker (pure), streamed watch bodies (responses), and the
installed command against the local server."""

from __future__ import annotations

import copy
import json
import subprocess

import pytest
import responses

from probectl.core.watch import Tracker
from tests.apiserver import FakeAPIServer
from tests.builders import NOW, event, kill_msg, liveness_http_500, running, terminated, ts
from tests.conftest import probectl_exe
from tests.kube import SERVER, isolate_env, kubeconfig
from tests.scenarios import BY_NAME

HEALTHY = BY_NAME["healthy_running"]


def restarted(pod: dict, code: int, reason: str, restarts: int = 1, rv: str = "200") -> dict:
    """The same pod after its container ended with `code` and was restarted."""
    p = copy.deepcopy(pod)
    st = p["status"]["containerStatuses"][0]
    st["lastState"] = terminated(code, reason, 600, 20)
    st["state"] = running(15)
    st["restartCount"] = restarts
    p["metadata"]["resourceVersion"] = rv
    return p


def test_baseline_then_one_finding_per_termination():
    t = Tracker()
    t.baseline(HEALTHY.pod)
    assert t.pod_update(HEALTHY.pod, NOW) == []
    oom = restarted(HEALTHY.pod, 137, "OOMKilled")
    found = t.pod_update(oom, NOW)
    assert [(f.kind, f.cause, f.exit_code, f.signal, f.container) for f in found] == [
        ("termination", "oom-killed", 137, "SIGKILL", "api")]
    assert "OOM-killed at its 256Mi memory limit" in found[0].summary
    assert t.pod_update(oom, NOW) == []  # the same status again (a reconnect): nothing new
    assert t.resync([oom], NOW) == []  # a relist: nothing new either


def test_liveness_kill_is_one_line_with_its_failures_counted_in():
    t = Tracker()
    t.baseline(HEALTHY.pod)
    p = HEALTHY.pod
    unhealthy = event(p, "Unhealthy", liveness_http_500(), type="Warning", container="api", count=3, first=60, last=40)
    kill = event(p, "Killing", kill_msg("api", "liveness"), container="api", first=35)
    assert t.event_update(unhealthy, NOW) == []  # failures alone change nothing yet: counted into the kill
    f2 = t.event_update(kill, NOW)
    assert [(f.kind, f.cause) for f in f2] == [("kill", "liveness-probe-failed")]
    assert "after 3 liveness probe failures" in f2[0].summary and f2[0].incident
    assert t.event_update(kill, NOW) == []  # seen
    after = restarted(p, 143, "Error")
    assert t.pod_update(after, NOW) == []  # the restart the kill announced: not a second line


def test_readiness_streak_reported_once_at_the_threshold():
    t = Tracker()
    p = HEALTHY.pod
    t.baseline(p)
    unready = copy.deepcopy(p)
    unready["status"]["containerStatuses"][0]["ready"] = False
    assert t.pod_update(unready, NOW) == []  # unready, but no failure in the events yet
    base = event(p, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", type="Warning",
                 container="api", count=1, first=100)
    reported = []
    for count in range(1, 20):
        e = copy.deepcopy(base)
        e["count"] = count
        e["lastTimestamp"] = ts(100 - count)
        reported += [count for _ in t.event_update(e, NOW)]
    assert reported == [3]  # failureThreshold 3: unready from then on; the repeats are not news


def test_readiness_failures_while_ready_are_not_news_and_an_unready_flip_is():
    """An event's count adds failures up over its life: three single failures over 40
    minutes of a container that stays ready are not an outage. Becoming unready with them is."""
    t = Tracker()
    p = HEALTHY.pod
    t.baseline(p)
    e = event(p, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", type="Warning",
              container="api", count=3, first=2400, last=10)
    assert t.event_update(e, NOW) == []
    unready = copy.deepcopy(p)
    unready["status"]["containerStatuses"][0]["ready"] = False
    found = t.pod_update(unready, NOW)
    assert [(f.kind, f.cause) for f in found] == [("probe-failure", "readiness-probe-failed")]


def test_an_incident_ends_after_the_container_ran_fine_and_the_next_failure_is_new():
    t = Tracker()
    p = copy.deepcopy(HEALTHY.pod)
    t.baseline(p)
    first = t.pod_update(restarted(p, 137, "OOMKilled", restarts=1), NOW)
    # three hours later, the instance that started after the first line dies too: a new incident
    from datetime import timedelta

    again = restarted(p, 137, "OOMKilled", restarts=2)
    again["status"]["containerStatuses"][0]["lastState"] = terminated(137, "OOMKilled", -5, -3 * 3600)
    second = t.pod_update(again, NOW + timedelta(hours=3))
    assert len(first) == 1 and len(second) == 1 and first[0].incident != second[0].incident


def test_liveness_kill_under_restart_policy_never_is_not_a_restart():
    t = Tracker()
    p = copy.deepcopy(HEALTHY.pod)
    p["spec"]["restartPolicy"] = "Never"
    t.baseline(p)
    kill = event(p, "Killing", "Container api failed liveness probe", container="api", first=5)
    found = t.event_update(kill, NOW)
    assert "will not be restarted" in found[0].summary


def test_one_oom_kill_is_one_line_and_a_loop_escalates_once():
    """Status updates of one OOM kill: terminated, then waiting CrashLoopBackOff (back-off
    10s), then running again. Then it dies twice more: a crash loop, said once."""
    t = Tracker()
    p = copy.deepcopy(HEALTHY.pod)
    t.baseline(p)
    lines = []
    term = copy.deepcopy(p)
    st = term["status"]["containerStatuses"][0]
    st.update(state=terminated(137, "OOMKilled", 600, 20), ready=False)
    lines += t.pod_update(term, NOW)
    back = copy.deepcopy(term)
    st = back["status"]["containerStatuses"][0]
    st.update(lastState=st["state"], state={"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s restarting failed container=api"}},
              restartCount=1)
    lines += t.pod_update(back, NOW)
    lines += t.pod_update(restarted(p, 137, "OOMKilled", restarts=1), NOW)
    assert [(f.kind, f.cause) for f in lines] == [("termination", "oom-killed")]
    first = lines[0].incident
    # it dies again, and again: the second termination makes it a loop
    for n, finished in ((2, 10), (3, 5)):
        again = restarted(p, 137, "OOMKilled", restarts=n)
        again["status"]["containerStatuses"][0]["lastState"] = terminated(137, "OOMKilled", 60, finished)
        again["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 20s"}}
        lines += t.pod_update(again, NOW)
        running_again = copy.deepcopy(again)
        running_again["status"]["containerStatuses"][0]["state"] = running(1)
        lines += t.pod_update(running_again, NOW)
    assert [(f.kind, f.cause) for f in lines] == [("termination", "oom-killed"), ("crashloop", "oom-killed")]
    assert lines[1].incident == first  # one incident, followed by its id
    assert "Crash-looping after 2 restarts" in lines[1].summary
    assert t.incidents[(t._key(p), "api", "restart")].repeats == 1  # the third kill: counted, not printed


def test_a_rollout_reports_nothing_for_the_deleted_pods():
    """Graceful deletion: deletionTimestamp first, readiness fails while it shuts down,
    the container exits 0 (SIGTERM handled), 143 or 137 after the grace period."""
    for code, reason in ((0, "Completed"), (143, "Error"), (137, "Error")):
        t = Tracker()
        p = copy.deepcopy(HEALTHY.pod)
        t.baseline(p)
        deleting = copy.deepcopy(p)
        deleting["metadata"]["deletionTimestamp"] = ts(-30)
        deleting["metadata"]["deletionGracePeriodSeconds"] = 30
        assert t.pod_update(deleting, NOW) == []
        stop = event(p, "Killing", "Stopping container api", container="api", first=1)
        unready = event(p, "Unhealthy", "Readiness probe failed: Get \"http://10.244.1.5:8080/ready\": dial tcp 10.244.1.5:8080: "
                        "connect: connection refused", type="Warning", container="api", count=5, first=1)
        assert t.event_update(stop, NOW) == [] and t.event_update(unready, NOW) == []
        gone = copy.deepcopy(deleting)
        gone["status"]["containerStatuses"][0].update(state=terminated(code, reason, 7000, 0), ready=False)
        assert t.pod_update(gone, NOW) == [], code


def test_crashloop_image_pull_eviction_unschedulable():
    t = Tracker()
    for name in ("app_error_exit_1", "image_pull_backoff", "evicted_memory_pressure", "unschedulable_insufficient_memory"):
        sc = BY_NAME[name]
        before = copy.deepcopy(sc.pod)
        before["status"] = {"phase": "Pending"}
        t.baseline(before)
        kinds = {(f.kind, f.cause) for f in t.pod_update(sc.pod, NOW)}
        expected = {
            "app_error_exit_1": ("crashloop", "app-error"),
            "image_pull_backoff": ("image-pull", "image-pull-failed"),
            "evicted_memory_pressure": ("eviction", "evicted"),
            "unschedulable_insufficient_memory": ("unschedulable", "unschedulable"),
        }[name]
        assert expected in kinds, (name, kinds)


def test_memory_is_bounded(monkeypatch):
    import probectl.core.watch as w

    monkeypatch.setattr(w, "MAX_PODS", 100)
    t = Tracker()
    t.seen.limit = 100
    for i in range(3000):
        p = copy.deepcopy(HEALTHY.pod)
        p["metadata"]["uid"] = f"uid-{i}"
        t.baseline(p)
        t.pod_update(restarted(p, 1, "Error"), NOW)
        e = event(p, "BackOff", "Back-off restarting failed container api", type="Warning", container="api")
        e["metadata"]["uid"] = f"ev-{i}"
        t.event_update(e, NOW)
        t.forget(p) if i % 2 else None
    assert len(t.pods) == 1500  # live pods are tracked; deleted ones are forgotten
    assert len(t.events) <= 100 and len(t.seen.keys) <= 100


# ------------------------------------------------------------------ streamed bodies (responses)


def lines(*events) -> str:
    return "".join(json.dumps(e) + "\n" for e in events)


@pytest.fixture
def kcfg(tmp_path, monkeypatch):
    isolate_env(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "home" / "config")))
    monkeypatch.setattr("probectl.cli.watch.time.sleep", lambda s: None, raising=False)


def _list(kind, items, rv):
    strip = [{k: v for k, v in i.items() if k not in ("kind", "apiVersion")} for i in items]
    return {"kind": kind, "apiVersion": "v1", "metadata": {"resourceVersion": rv}, "items": strip}


@responses.activate
def test_watch_reconnects_bookmarks_relists_and_exits_on_cause(cli, kcfg):
    pods_url, events_url = f"{SERVER}/api/v1/namespaces/shop/pods", f"{SERVER}/api/v1/namespaces/shop/events"
    m = responses.matchers
    pod = HEALTHY.pod
    responses.get(pods_url, json=_list("PodList", [pod], "100"), match=[m.query_param_matcher({"limit": "500"})])
    responses.get(events_url, json=_list("EventList", [], "100"),
                  match=[m.query_param_matcher({"limit": "500", "fieldSelector": "involvedObject.kind=Pod"})])
    # 1st pod watch: an unrelated change and a bookmark, then the server ends the watch
    touched = copy.deepcopy(pod)
    touched["metadata"]["resourceVersion"] = "150"
    # ... and the connection drops in the middle of a line
    responses.get(pods_url, body=lines({"type": "MODIFIED", "object": touched},
                                       {"type": "BOOKMARK", "object": {"kind": "Pod", "metadata": {"resourceVersion": "180"}}})
                  + '{"type": "MODIFIED", "object": {"kind": "Pod", "metad',
                  match=[m.query_param_matcher({"watch": "1", "resourceVersion": "100"}, strict_match=False)])
    # 2nd: resumes from the bookmark; the resource version is too old: 410 -> relist
    responses.get(pods_url, body=lines({"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired",
                                                                    "message": "too old resource version: 180 (190)"}}),
                  match=[m.query_param_matcher({"watch": "1", "resourceVersion": "180"}, strict_match=False)])
    oom = restarted(pod, 137, "OOMKilled", rv="300")
    responses.get(pods_url, json=_list("PodList", [oom], "300"), match=[m.query_param_matcher({"limit": "500"})])
    responses.get(pods_url, body="", match=[m.query_param_matcher({"watch": "1", "resourceVersion": "300"}, strict_match=False)])
    responses.get(events_url, body="", match=[m.query_param_matcher({"watch": "1"}, strict_match=False)])
    status, out, err = cli("watch", "-o", "json", "--exit-on", "oom-killed", "--timeout", "20s")
    assert status == 1, err
    found = [json.loads(line) for line in out.splitlines()]
    assert [(f["event"], f["cause"], f["exitCode"]) for f in found] == [("termination", "oom-killed", 137)]
    assert found[0]["kind"] == "Finding" and found[0]["pod"] == pod["metadata"]["name"] and found[0]["incident"]
    watch_calls = [c.request.url for c in responses.calls if "watch=1" in c.request.url and "/pods" in c.request.url]
    assert "resourceVersion=100" in watch_calls[0] and "resourceVersion=180" in watch_calls[1]
    assert "allowWatchBookmarks=true" in watch_calls[0]


def test_bad_flags(cli):
    assert cli("watch", "--exit-on", "explode")[0] == 2
    assert cli("watch", "-o", "yaml")[0] == 2
    assert cli("watch", "--timeout", "soon")[0] == 2


# ------------------------------------------------------------------ the installed command, local server


def test_watch_against_the_local_server(tmp_path, clean_env):
    pod = HEALTHY.pod
    oom = restarted(pod, 137, "OOMKilled", rv="300")
    with FakeAPIServer([pod], [], token="t0ken") as api:
        api.watch_script["/api/v1/namespaces/shop/pods"] = [("sleep", 0.3), {"type": "MODIFIED", "object": oom}, ("sleep", 5)]
        env = {k: v for k, v in clean_env.items() if "proxy" not in k.lower()}
        env["HOME"] = str(tmp_path)
        env["KUBECONFIG"] = str(kubeconfig(tmp_path / "kubeconfig", server=api.url, token="t0ken"))
        r = subprocess.run([probectl_exe(), "watch", "--exit-on", "oom-killed", "--timeout", "30s"], capture_output=True,
                           text=True, env=env, timeout=60)
    assert r.returncode == 1, r.stderr
    assert "termination  oom-killed [137 (SIGKILL) OOMKilled]" in r.stdout
    assert "shop/" + pod["metadata"]["name"] + " api" in r.stdout


def test_timeout_ends_with_0(tmp_path, clean_env):
    with FakeAPIServer([HEALTHY.pod], [], token="t0ken") as api:
        env = {k: v for k, v in clean_env.items() if "proxy" not in k.lower()}
        env["HOME"] = str(tmp_path)
        env["KUBECONFIG"] = str(kubeconfig(tmp_path / "kubeconfig", server=api.url, token="t0ken"))
        r = subprocess.run([probectl_exe(), "watch", "--timeout", "2s"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0 and r.stdout == ""


def test_a_new_pod_not_ready_yet_is_quiet_then_a_second_outage_is_a_new_incident():
    from datetime import timedelta

    t = Tracker()
    p = copy.deepcopy(HEALTHY.pod)
    st = p["status"]["containerStatuses"][0]
    st.update(ready=False, state=running(20))  # a new instance of a rollout, started 20 s ago
    t.baseline(p)
    start = event(p, "Unhealthy", "Readiness probe failed: Get \"http://10.244.2.14:8080/ready\": dial tcp "
                  "10.244.2.14:8080: connect: connection refused", type="Warning", container="api", count=3, first=15, last=2)
    assert t.event_update(start, NOW) == []  # readiness starts as Failure: not news while it warms up
    ready = copy.deepcopy(p)
    ready["status"]["containerStatuses"][0]["ready"] = True
    t.pod_update(ready, NOW)
    # two days later it stops being ready, with failures: a line; a day after it recovered, again
    later = NOW + timedelta(days=2)
    outage = event(p, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", type="Warning",
                   container="api", count=3, first=-2 * 86400 + 30, last=-2 * 86400)
    t.event_update(outage, later)
    down = copy.deepcopy(ready)
    down["status"]["containerStatuses"][0]["ready"] = False
    first = t.pod_update(down, later)
    t.pod_update(ready, later + timedelta(minutes=1))
    again = copy.deepcopy(outage)
    again["metadata"]["uid"] = "another-event"
    again["lastTimestamp"] = ts(-3 * 86400)
    t.event_update(again, later + timedelta(days=1))
    second = t.pod_update(down, later + timedelta(days=1))
    assert len(first) == 1 and len(second) == 1 and first[0].incident != second[0].incident


def test_events_without_a_uid_are_joined_to_their_pod_by_name():
    t = Tracker()
    p = copy.deepcopy(HEALTHY.pod)
    t.baseline(p)
    down = copy.deepcopy(p)
    down["status"]["containerStatuses"][0]["ready"] = False
    t.pod_update(down, NOW)
    e = event(p, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", type="Warning",
              container="api", count=5, first=60, last=5)
    del e["involvedObject"]["uid"]  # older recorders and pasted events carry none
    found = t.event_update(e, NOW)
    assert [(f.kind, f.cause) for f in found] == [("probe-failure", "readiness-probe-failed")]
    assert list(t.events) == [t._key(p)]  # kept under the pod's own key


# ------------------------------------------------------------------ the baseline (issue 22): pre-existing trouble


def _readiness_failing():
    from tests.builders import http_probe, pod, spec, status

    p = pod("cart-7b8c9d0e1-h7i8j", [spec("cart", readiness=http_probe("/ready"), liveness=http_probe())],
            [status("cart", running(3600), None, ready=False)])
    e = event(p, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", type="Warning",
              container="cart", count=240, first=2400, last=4)
    return p, e


def test_readiness_failing_before_the_watch_is_reported_once_as_pre_existing_and_not_again_as_its_events_count_up():
    from datetime import timedelta

    p, e = _readiness_failing()
    t = Tracker()
    t.baseline(p)
    t.baseline_event(e)
    already = t.baseline_done(NOW)
    assert [(f.kind, f.cause, f.container, f.new) for f in already] == [
        ("probe-failure", "readiness-probe-failed", "cart", False)]
    assert already[0].to_dict()["new"] is False
    for n in range(1, 6):  # the kubelet keeps counting the same failures up
        more = copy.deepcopy(e)
        more["count"] = 240 + 3 * n
        more["lastTimestamp"] = ts(-10 * n)
        assert t.event_update(more, NOW + timedelta(seconds=10 * n)) == []
        assert t.pod_update(p, NOW + timedelta(seconds=10 * n)) == []
    # it recovers, runs ready past the quiet period, then fails again: that is new
    ok = copy.deepcopy(p)
    ok["status"]["containerStatuses"][0]["ready"] = True
    t.pod_update(ok, NOW + timedelta(minutes=1))
    t.pod_update(ok, NOW + timedelta(minutes=15))
    again = copy.deepcopy(e)
    again["metadata"]["uid"] = "a-new-event"
    again.update(count=3, firstTimestamp=ts(-16 * 60), lastTimestamp=ts(-16 * 60 - 20))
    t.event_update(again, NOW + timedelta(minutes=16))
    found = t.pod_update(p, NOW + timedelta(minutes=16))
    assert [(f.kind, f.new) for f in found] == [("probe-failure", True)]


def test_a_crash_loop_before_the_watch_is_said_once_and_its_next_restarts_stay_quiet():
    oom = BY_NAME["oom_killed_crashloop"]
    t = Tracker()
    t.baseline(oom.pod)
    for e in oom.events:
        t.baseline_event(e)
    healthy = copy.deepcopy(HEALTHY.pod)
    healthy["metadata"].update(name="web-7f9c6d8b5-aaaaa", uid="healthy-one")
    t.baseline(healthy)
    already = t.baseline_done(NOW)
    assert [(f.kind, f.cause, f.exit_code, f.new) for f in already] == [("crashloop", "oom-killed", 137, False)]
    again = copy.deepcopy(oom.pod)
    st = again["status"]["containerStatuses"][0]
    st["lastState"] = terminated(137, "OOMKilled", 30, 2)
    st["restartCount"] += 1
    assert t.pod_update(again, NOW) == []  # the same loop going on: not news
    # a pod that was fine at the start and fails now: new
    assert [(f.cause, f.new) for f in t.pod_update(restarted(healthy, 139, "Error"), NOW)] == [("crashed-signal", True)]


def _serve(api, tmp_path, clean_env):
    env = {k: v for k, v in clean_env.items() if "proxy" not in k.lower()}
    env["HOME"] = str(tmp_path)
    env["KUBECONFIG"] = str(kubeconfig(tmp_path / "kubeconfig", server=api.url, token="t0ken"))
    return env


def test_watch_lists_pre_existing_trouble_first_then_only_new(tmp_path, clean_env, live_now):
    p, e = _readiness_failing()
    more = copy.deepcopy(e)
    more["count"], more["lastTimestamp"] = 250, ts(0)
    with FakeAPIServer([p], [e], token="t0ken") as api:
        api.watch_script["/api/v1/namespaces/shop/events"] = [("sleep", 0.3), {"type": "MODIFIED", "object": more},
                                                               ("sleep", 5)]
        env = _serve(api, tmp_path, clean_env)
        r = subprocess.run([probectl_exe(), "watch", "-o", "json", "--timeout", "3s", "--exit-on", "readiness-probe-failed"],
                           capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode == 0, r.stderr  # pre-existing trouble is never a reason to --exit-on
        found = [json.loads(line) for line in r.stdout.splitlines()]
        assert [(f["event"], f["cause"], f["new"]) for f in found] == [("probe-failure", "readiness-probe-failed", False)]
        piped = {k: v for k, v in env.items() if k != "COLUMNS"}  # as in a CI log: one line per finding
        r = subprocess.run([probectl_exe(), "watch", "--timeout", "2s"], capture_output=True, text=True, env=piped,
                           timeout=60)
        lines = r.stdout.splitlines()
        assert lines[0] == "Already failing when the watch began (1):" and lines[2].startswith("New since ")
        assert "shop/cart-7b8c9d0e1-h7i8j cart  probe-failure  readiness-probe-failed" in lines[1]
        assert len(lines) == 3
        r = subprocess.run([probectl_exe(), "watch", "--only-new", "--timeout", "2s"], capture_output=True, text=True,
                           env=env, timeout=60)
        assert r.returncode == 0 and r.stdout == ""
