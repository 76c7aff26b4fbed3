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


def test_liveness_kill_is_explained_by_the_events_seen():
    t = Tracker()
    t.baseline(HEALTHY.pod)
    p = HEALTHY.pod
    unhealthy = event(p, "Unhealthy", liveness_http_500(), type="Warning", container="api", count=3, first=60, last=40)
    kill = event(p, "Killing", kill_msg("api", "liveness"), container="api", first=35)
    f1 = t.event_update(unhealthy, NOW)
    assert [(f.kind, f.cause) for f in f1] == [("probe-failure", "liveness-probe-failed")]
    f2 = t.event_update(kill, NOW)
    assert [(f.kind, f.cause) for f in f2] == [("kill", "liveness-probe-failed")]
    assert t.event_update(kill, NOW) == []  # seen
    after = restarted(p, 143, "Error")
    assert [(f.kind, f.cause) for f in t.pod_update(after, NOW)] == [("termination", "liveness-probe-failed")]


def test_probe_streak_reported_when_it_doubles():
    t = Tracker()
    p = HEALTHY.pod
    base = event(p, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", type="Warning",
                 container="api", count=1, first=100)
    reported = []
    for count in range(1, 20):
        e = copy.deepcopy(base)
        e["count"] = count
        e["lastTimestamp"] = ts(100 - count)
        reported += [count for _ in t.event_update(e, NOW)]
    assert reported == [1, 2, 4, 8, 16]


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
    assert found[0]["kind"] == "Finding" and found[0]["pod"] == pod["metadata"]["name"]
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
