"""End to end, issue "only what is wrong now is a finding": a generated cluster served by the
local API server, with pods really failing now and pods that restarted days ago and have run
ready since; then a watch through a rollout. The installed command, wall-clock times."""

from __future__ import annotations

import copy
import json
import subprocess

from tests import builders as b
from tests.apiserver import FakeAPIServer
from tests.conftest import probectl_exe
from tests.kube import kubeconfig

DAY = 86400



def _cluster():
    """(pods, events, expected findings {pod: cause}, history pods {pod: last restart cause})."""
    pods, events, failing, history = [], [], {}, {}
    # really failing now
    for i in range(6):
        p = b.pod(f"web-7f9c6d8b5-oom{i:02d}", [b.spec("api", memory="256Mi", liveness=b.http_probe())],
                  [b.status("api", None, b.terminated(137, "OOMKilled", 95, 40), restarts=7)])
        p["status"]["containerStatuses"][0]["state"] = b.crashloop_wait(p, "api")
        pods.append(p)
        events.append(b.event(p, "BackOff", b.backoff_msg(p, "api"), type="Warning", container="api", count=20, first=1800, last=30))
        failing[p["metadata"]["name"]] = "oom-killed"
    for i in range(3):
        p = b.pod(f"checkout-5d8f7c9b6-live{i}", [b.spec("api", liveness=b.http_probe())],
                  [b.status("api", b.running(20), b.terminated(143, "Error", 400, 21), restarts=4, ready=True)])
        pods.append(p)
        events += [b.event(p, "Unhealthy", b.liveness_http_500(), type="Warning", container="api", count=12, first=1500, last=35),
                   b.event(p, "Killing", b.kill_msg("api", "liveness"), container="api", count=4, first=1480, last=30)]
        failing[p["metadata"]["name"]] = "liveness-probe-failed"
    # flapping: restarted 60 times in a day, fine for the last 2 hours: still current
    flap = b.pod("worker-6d5b8c7f4-flap1", [b.spec("worker", memory="512Mi")],
                 [b.status("worker", b.running(7200), b.terminated(1, "Error", 7300, 7201), restarts=60, ready=True)],
                 created=DAY)
    pods.append(flap)
    failing[flap["metadata"]["name"]] = "app-error"
    # restarted once to four times between a day and a year ago, running ready since
    olds = [(137, "OOMKilled", "oom-killed", 2 * DAY), (1, "Error", "app-error", 30 * DAY),
            (143, "Error", "terminated", 300 * DAY), (137, "Error", "killed", DAY + 600)]
    for i, (code, reason, cause, ago) in enumerate(olds * 3):
        p = b.pod(f"cache-5f6d7c8b9-old{i:02d}", [b.spec("api", memory="256Mi")],
                  [b.status("api", b.running(ago - 5), b.terminated(code, reason, ago + 3600, ago), restarts=1 + i % 4, ready=True)],
                  created=ago + 7200)
        pods.append(p)
        history[p["metadata"]["name"]] = cause
    for i in range(20):
        pods.append(b.pod(f"api-6b7c8d9e0-ok{i:03d}", [b.spec("api", readiness=b.http_probe("/ready"))],
                          [b.status("api", b.running(50000), ready=True)], created=60000))
    return pods, events, failing, history


def _env(tmp_path, clean_env, api):
    env = {k: v for k, v in clean_env.items() if "proxy" not in k.lower()}
    env["HOME"] = str(tmp_path)
    env["NO_COLOR"] = "1"
    env["KUBECONFIG"] = str(kubeconfig(tmp_path / "kubeconfig", server=api.url, token="t0ken"))
    return env


def _run(env, *args):
    return subprocess.run([probectl_exe(), *args], capture_output=True, text=True, env=env, timeout=90)


def test_history_is_not_a_finding_and_why_names_the_old_restart(tmp_path, clean_env, live_now):
    pods, events, failing, history = _cluster()
    with FakeAPIServer(pods, events, token="t0ken") as api:
        env = _env(tmp_path, clean_env, api)
        r = _run(env, "scan", "-n", "shop", "-o", "json")
        assert r.returncode == 1, r.stderr
        doc = json.loads(r.stdout)
        findings = {i["pod"]["name"]: i["cause"] for i in doc["items"] if i["severity"] != "ok"}
        assert findings == failing  # every failing pod with its cause, and nothing else
        listed = {i["pod"]["name"]: i for i in doc["items"] if i["severity"] == "ok"}
        assert set(listed) == set(history)  # history pods stay in -o json ...
        for name, cause in history.items():
            item = listed[name]
            assert item["cause"] == "healthy"  # ... as healthy, with the old restart explained
            assert item["containers"][0]["lastRestart"]["cause"] == cause, name
        assert doc["summary"]["podsRestartedEarlier"] == len(history)
        assert doc["summary"]["podsWithFindings"] == len(failing)

        table = _run(env, "scan", "-n", "shop")
        assert f"{len(history)} pods restarted earlier and are fine now" in table.stdout
        assert "cache-5f6d7c8b9-old" not in table.stdout
        md = _run(env, "scan", "-n", "shop", "-o", "markdown")
        assert "cache-5f6d7c8b9-old" not in md.stdout and "restarted earlier" in md.stdout
        gh = _run(env, "scan", "-n", "shop", "-o", "github", "--fail-on", "warning")
        assert "cache-5f6d7c8b9-old" not in gh.stdout and gh.returncode == 1  # --fail-on fails on the real findings
        junit = _run(env, "scan", "-n", "shop", "-o", "junit")
        assert "cache-5f6d7c8b9-old" not in junit.stdout
        listed_too = _run(env, "scan", "-n", "shop", "--include-history")
        assert "cache-5f6d7c8b9-old" in listed_too.stdout and "Restarted earlier, fine now" in listed_too.stdout

        why = _run(env, "why", "cache-5f6d7c8b9-old00", "-n", "shop", "-o", "json")
        assert why.returncode == 0, why.stderr  # healthy now: exit 0
        d = json.loads(why.stdout)
        assert d["cause"] == "healthy" and d["containers"][0]["lastRestart"]["cause"] == "oom-killed"
        assert "healthy now" in d["summary"] and "OOM-killed at its 256Mi limit" in d["summary"]
        text = _run(env, "why", "cache-5f6d7c8b9-old00", "-n", "shop")
        assert "Last restart (history: fine since)" in text.stdout


def test_recent_window_decides(tmp_path, clean_env, live_now):
    p = b.pod("checkout-5d8f7c9b6-live0", [b.spec("api")],
              [b.status("api", b.running(600), b.terminated(1, "Error", 3000, 601), restarts=1, ready=True)])
    with FakeAPIServer([p], [], token="t0ken") as api:
        env = _env(tmp_path, clean_env, api)
        current = json.loads(_run(env, "why", p["metadata"]["name"], "-n", "shop", "-o", "json").stdout)
        assert current["cause"] == "app-error"  # 10 minutes ago: within the default 1h
        past = json.loads(_run(env, "why", p["metadata"]["name"], "-n", "shop", "--recent", "5m", "-o", "json").stdout)
        assert past["cause"] == "healthy" and past["containers"][0]["lastRestart"]["cause"] == "app-error"


def test_watch_through_a_rollout_reports_each_real_failure_once(tmp_path, clean_env, live_now):
    """Three old pods of a Deployment are deleted gracefully (deletionTimestamp, readiness
    fails while they drain, exit 0 / 143 / 137 after the grace period, then DELETED) while
    a pod of another workload is OOM-killed once: one line, for the OOM kill only."""
    olds = [b.pod(f"web-6c5d4b3a2-old{i}", [b.spec("api", readiness=b.http_probe("/ready"))],
                  [b.status("api", b.running(9000), ready=True)], created=9100) for i in range(3)]
    victim = b.pod("worker-6d5b8c7f4-k9m2p", [b.spec("worker", memory="512Mi")],
                   [b.status("worker", b.running(9000), ready=True)], created=9100)
    script = []
    for p, (code, reason) in zip(olds, ((0, "Completed"), (143, "Error"), (137, "Error")), strict=True):
        deleting = copy.deepcopy(p)
        deleting["metadata"]["deletionTimestamp"] = b.ts(-30)
        deleting["metadata"]["deletionGracePeriodSeconds"] = 30
        stopped = copy.deepcopy(deleting)
        st = stopped["status"]["containerStatuses"][0]
        st.update(state=b.terminated(code, reason, 9000, 0), ready=False)
        stopped["status"]["phase"] = "Succeeded" if code == 0 else "Failed"
        script += [{"type": "MODIFIED", "object": deleting}, ("sleep", 0.05),
                   {"type": "MODIFIED", "object": stopped}, {"type": "DELETED", "object": stopped}]
    oom = copy.deepcopy(victim)
    st = oom["status"]["containerStatuses"][0]
    st.update(state=b.terminated(137, "OOMKilled", 9000, 1), ready=False)
    back = copy.deepcopy(oom)
    st = back["status"]["containerStatuses"][0]
    st.update(lastState=st["state"], restartCount=1,
              state={"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s restarting failed container=worker"}})
    again = copy.deepcopy(back)
    again["status"]["containerStatuses"][0].update(state=b.running(0), ready=True)
    script += [{"type": "MODIFIED", "object": oom}, {"type": "MODIFIED", "object": back},
               {"type": "MODIFIED", "object": again}, ("sleep", 5)]
    drain = [b.event(p, "Unhealthy", 'Readiness probe failed: Get "http://10.244.1.5:8080/ready": dial tcp 10.244.1.5:8080: '
                     "connect: connection refused", type="Warning", container="api", count=4, first=2, last=0)
             for p in olds]
    drain += [b.event(p, "Killing", "Stopping container api", container="api", first=3) for p in olds]
    with FakeAPIServer(olds + [victim], [], token="t0ken") as api:
        api.watch_script["/api/v1/namespaces/shop/pods"] = [("sleep", 0.3)] + script
        api.watch_script["/api/v1/namespaces/shop/events"] = [("sleep", 0.8)] + [
            {"type": "ADDED", "object": e} for e in drain] + [("sleep", 5)]
        env = _env(tmp_path, clean_env, api)
        r = _run(env, "watch", "-o", "json", "--timeout", "4s")
    assert r.returncode == 0, r.stderr
    found = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(f["pod"], f["event"], f["cause"]) for f in found] == [("worker-6d5b8c7f4-k9m2p", "termination", "oom-killed")]
    assert found[0]["incident"]
