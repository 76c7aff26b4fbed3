"""An evolving 300-pod cluster, and a local API server that serves its history as real watches.

`Cluster` builds the pods (Deployments, a StatefulSet, a CronJob's pod, a bare pod, and
pods already failing before anyone watches) and returns, for each thing that happens to
a real cluster, the changes the API server would publish: an OOM kill, a liveness kill,
an image pull failure in a rollout, an app error, a startup-probe kill, a segfault, a
readiness failure, an eviction, a graceful deletion, and old failures counting up.
Shapes follow ../shared/kubelet-facts.md (sections named at each change).

`EvolvingAPIServer` extends tests/apiserver.FakeAPIServer (subclassed, not edited): every
change gets a resourceVersion; a watch from resourceVersion R streams the changes after R
and then waits for more; `drop_watches()` cuts open watches mid-line, `expire()` compacts
history so that a watch resuming from an older version gets 410 Gone (and must relist).
It records every request method, so a test can check that only GETs were sent.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
import time
from urllib.parse import parse_qs, urlparse

from tests.apiserver import FakeAPIServer, _selected, _strip
from tests.apiserver import status as api_status
from tests.builders import (
    backoff_msg,
    crashloop_wait,
    event,
    http_probe,
    kill_msg,
    liveness_http_500,
    pod,
    running,
    spec,
    status,
    terminated,
    ts,
    waiting,
)

_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def _suffix(i: int) -> str:
    return "".join(_ALPHABET[(i * 7919 + k * 104729) // (k + 1) % len(_ALPHABET)] for k in range(5))


_IDS = [0]


def _cid(tag: str) -> str:
    """A fresh containerID: every instance has its own."""
    _IDS[0] += 1
    return "containerd://" + hashlib.sha256(f"{tag}{_IDS[0]}".encode()).hexdigest()


def _ended(code: int, reason: str, started: float, finished: float, message: str | None = None) -> dict:
    t = terminated(code, reason, started, finished, message=message)
    t["terminated"]["containerID"] = _cid(f"{code}{reason}")
    return t


# (namespace, deployment, pod-template-hash, replicas, probes)
DEPLOYMENTS = [("shop", f"svc{i:02d}", hashlib.sha256(f"svc{i}".encode()).hexdigest()[:9].translate(
    str.maketrans("0123456789abcdef", "5678924bcdfghjkl")), 10, "lr") for i in range(25)]
DEPLOYMENTS += [
    ("shop", "web", "7f9c6d8b5", 10, "lr"),
    ("shop", "cart", "5d8f7c9b6", 10, "lr"),
    ("pay", "checkout", "6c7d8b9f4", 10, "lr"),
    ("pay", "worker", "8d9f6b7c5", 4, ""),
    ("shop", "reports", "9b8c7d6f5", 3, "s"),
    ("shop", "catalog", "4f5d6c7b8", 3, "r"),
]
IMG = "registry.example.com/shop/api:1.4.2"


class Cluster:
    def __init__(self) -> None:
        self.pods: dict[str, dict] = {}
        self.events: list[dict] = []
        for ns, dep, h, n, probes in DEPLOYMENTS:
            for i in range(n):
                self._add(self._replica(ns, dep, h, i, probes))
        # already failing before the watch: a Deployment crash-looping (app error, exit 1)
        for i in range(3):
            p = pod(f"legacy-5c6d7f8b9-{_suffix(100 + i)}", [spec("app")],
                    [status("app", None, _ended(1, "Error", 200, 150 - i, message="Error: connect ECONNREFUSED 10.0.0.5:5432"),
                            restarts=5)], ns="shop")
            p["status"]["containerStatuses"][0]["state"] = crashloop_wait(p, "app")
            self._add(p)
            self.events.append(event(p, "BackOff", backoff_msg(p, "app"), type="Warning", container="app", count=20,
                                     first=1800, last=60))
        # ... and pods whose readiness was failing already (their events keep counting up)
        for i in range(2):
            p = pod(f"search-7a8b9c0d1-{_suffix(110 + i)}", [spec("search", readiness=http_probe("/ready"))],
                    [status("search", running(3600), None, ready=False)], ns="shop")
            self._add(p)
            self.events.append(event(p, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503",
                                     type="Warning", container="search", count=40, first=2400, last=5))
        # a StatefulSet, a CronJob's Job pod that completed, a bare pod
        for i in range(3):
            self._add(pod(f"db-{i}", [spec("postgres", image="postgres:16")],
                          [status("postgres", running(7000), None, ready=True, image="postgres:16")],
                          ns="pay", owner=("StatefulSet", "db")))
        job = pod("nightly-report-29413380-x7k2p", [spec("report")],
                  [status("report", _ended(0, "Completed", 900, 840), None, ready=False)],
                  ns="shop", owner=("Job", "nightly-report-29413380"), restart_policy="Never", phase="Succeeded")
        self._add(job)
        self._add(pod("debug-shell", [spec("shell", image="busybox:1.36")],
                      [status("shell", running(300), None, ready=True, image="busybox:1.36")], ns="shop", owner=("", None)))
        assert len(self.pods) == 300, len(self.pods)

    def _replica(self, ns: str, dep: str, h: str, i: int, probes: str) -> dict:
        kw = {}
        if "l" in probes:
            kw["liveness"] = http_probe()
        if "r" in probes:
            kw["readiness"] = http_probe("/ready")
        if "s" in probes:
            kw["startup"] = http_probe("/started", failures=6, period=5)
        return pod(f"{dep}-{h}-{_suffix(i)}", [spec("api", **kw)],
                   [status("api", running(7000), None, ready=True)], ns=ns)

    def _add(self, p: dict) -> None:
        self.pods[p["metadata"]["name"]] = p

    def name(self, dep: str, i: int = 0) -> str:
        return sorted(n for n in self.pods if n.startswith(dep + "-"))[i]

    def _edit(self, name: str) -> tuple[dict, dict]:
        p = copy.deepcopy(self.pods[name])
        self.pods[name] = p
        return p, p["status"]["containerStatuses"][0]

    @staticmethod
    def _unready(p: dict) -> None:
        for c in p["status"]["conditions"]:
            if c["type"] in ("Ready", "ContainersReady"):
                c["status"] = "False"

    # ------------------------------------------------------------------ what happens

    def oom_kill(self, dep="web") -> list:
        """The kernel OOM-kills the process at its limit: lastState OOMKilled 137, restarted."""
        p, st = self._edit(self.name(dep))
        st["lastState"] = _ended(137, "OOMKilled", 600, 3)
        st["state"] = running(1)
        st["restartCount"] += 1
        return [("pods", "MODIFIED", p)]

    def liveness_kill(self, dep="cart") -> list:
        """kubelet-facts §1-2: Unhealthy x3 (failureThreshold), Killing '... failed liveness probe, will
        be restarted', then the instance ends with SIGTERM (143)."""
        p, st = self._edit(self.name(dep))
        unhealthy = event(p, "Unhealthy", liveness_http_500(), type="Warning", container="api", count=3, first=35, last=15)
        killing = event(p, "Killing", kill_msg("api", "liveness"), container="api", first=14)
        st["lastState"] = _ended(143, "Error", 7000, 12)
        st["state"] = running(10)
        st["restartCount"] += 1
        st["ready"] = False
        self._unready(p)
        return [("events", "ADDED", unhealthy), ("events", "ADDED", killing), ("pods", "MODIFIED", p)]

    def startup_kill(self, dep="reports") -> list:
        """kubelet-facts §1-2: Startup probe failures reach failureThreshold (6), Killing '... failed
        startup probe, will be restarted', exit 143; the new instance is not started yet."""
        p, st = self._edit(self.name(dep))
        unhealthy = event(p, "Unhealthy", "Startup probe failed: HTTP probe failed with statuscode: 503", type="Warning",
                          container="api", count=6, first=40, last=12)
        killing = event(p, "Killing", kill_msg("api", "startup"), container="api", first=11)
        st["lastState"] = _ended(143, "Error", 45, 10)
        st["state"] = running(8)
        st["restartCount"] += 1
        st["ready"], st["started"] = False, False
        self._unready(p)
        return [("events", "ADDED", unhealthy), ("events", "ADDED", killing), ("pods", "MODIFIED", p)]

    def app_error(self, dep="svc03") -> list:
        """The process exits 1 by itself: state.terminated (restartCount unchanged until the next
        instance, kubelet convertToAPIContainerStatuses), then CrashLoopBackOff with it as lastState."""
        p, st = self._edit(self.name(dep))
        ended = _ended(1, "Error", 7000, 4, message="panic: missing DATABASE_URL")
        st["state"], st["ready"] = ended, False
        self._unready(p)
        first = copy.deepcopy(p)
        st["lastState"], st["state"] = ended, crashloop_wait(p, "api", backoff="10s")
        back = event(p, "BackOff", backoff_msg(p, "api"), type="Warning", container="api", first=3)
        return [("pods", "MODIFIED", first), ("pods", "MODIFIED", copy.deepcopy(p)), ("events", "ADDED", back)]

    def segfault(self, dep="worker") -> list:
        """SIGSEGV of its own making: 139, reason Error, restarted."""
        p, st = self._edit(self.name(dep))
        st["lastState"] = _ended(139, "Error", 7000, 5)
        st["state"] = running(3)
        st["restartCount"] += 1
        return [("pods", "MODIFIED", p)]

    def readiness_failure(self, dep="catalog") -> list:
        """Runs, not ready: Unhealthy 'Readiness probe failed' past failureThreshold; no restart."""
        p, st = self._edit(self.name(dep))
        st["ready"] = False
        self._unready(p)
        e = event(p, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", type="Warning",
                  container="api", count=5, first=60, last=2)
        return [("events", "ADDED", e), ("pods", "MODIFIED", p)]

    def eviction(self, dep="web", i=5) -> list:
        """kubelet-facts §5: Evicted event, phase Failed, reason Evicted, the container shown as the
        ContainerStatusUnknown placeholder (137, no ID, no times)."""
        msg = ("The node was low on resource: memory. Threshold quantity: 100Mi, available: 91044Ki. Container api was "
               "using 1843200Ki, request is 256Mi, has larger consumption of memory. ")
        p, st = self._edit(self.name(dep, i))
        st["state"] = terminated(137, "ContainerStatusUnknown", None, None,
                                 message="The container could not be located when the pod was terminated", container_id=False)
        st["ready"] = False
        p["status"].update(phase="Failed", reason="Evicted", message=msg)
        self._unready(p)
        return [("events", "ADDED", event(p, "Evicted", msg, type="Warning", first=6)),
                ("events", "ADDED", event(p, "Killing", "Stopping container api", container="api", first=6)),
                ("pods", "MODIFIED", p)]

    def graceful_delete(self, name: str) -> list:
        """kubectl delete / scale-down / rollout: deletionTimestamp, Killing 'Stopping container',
        SIGTERM -> 143, phase Failed (kubelet-facts §6), then the object goes."""
        p, st = self._edit(name)
        p["metadata"]["deletionTimestamp"] = ts(-30)
        p["metadata"]["deletionGracePeriodSeconds"] = 30
        marked = copy.deepcopy(p)
        st["state"] = _ended(143, "Error", 7000, 1)
        st["ready"] = False
        p["status"]["phase"] = "Failed"
        stopped = copy.deepcopy(p)
        del self.pods[name]
        return [("pods", "MODIFIED", marked),
                ("events", "ADDED", event(p, "Killing", "Stopping container api", container="api", first=2)),
                ("pods", "MODIFIED", stopped), ("pods", "DELETED", stopped)]

    def rollout_bad_image(self, dep="checkout", ns="pay") -> list:
        """A rollout to an image that does not exist: a new ReplicaSet's pod waits in ErrImagePull,
        then ImagePullBackOff (kubelet images/image_manager.go texts); one old pod is deleted."""
        image = "registry.example.com/pay/checkout:9.9.9"
        p = pod(f"{dep}-7d8e9f0b1-{_suffix(200)}", [spec("api", image=image)],
                [status("api", waiting("ErrImagePull", f'failed to pull and unpack image "{image}": failed to resolve '
                                                       f'reference "{image}": {image}: not found'), image=image)],
                ns=ns, created=20)
        self._add(p)
        added = copy.deepcopy(p)
        p["status"]["containerStatuses"][0]["state"] = waiting("ImagePullBackOff", f'Back-off pulling image "{image}"')
        changes = [("pods", "ADDED", added),
                   ("events", "ADDED", event(p, "Failed", f'Failed to pull image "{image}": rpc error: code = NotFound '
                                                          f'desc = failed to pull and unpack image "{image}": failed to '
                                                          f'resolve reference "{image}": {image}: not found',
                                             type="Warning", container="api", first=15)),
                   ("events", "ADDED", event(p, "Failed", "Error: ErrImagePull", type="Warning", container="api", first=15)),
                   ("pods", "MODIFIED", copy.deepcopy(p)),
                   ("events", "ADDED", event(p, "BackOff", f'Back-off pulling image "{image}"', container="api", first=5))]
        return changes + self.graceful_delete(self.name(dep, 9))

    def old_failures_count_up(self) -> list:
        """The pods failing before the watch go on: the crash loops restart and fail again (a new
        instance each), their BackOff and the readiness failures' Unhealthy counts rise."""
        changes = []
        for name in [n for n in self.pods if n.startswith("legacy-")]:
            p, st = self._edit(name)
            st["lastState"] = _ended(1, "Error", 20, 2, message="Error: connect ECONNREFUSED 10.0.0.5:5432")
            st["restartCount"] += 1
            st["state"] = crashloop_wait(p, "app")
            changes.append(("pods", "MODIFIED", copy.deepcopy(p)))
        for e in self.events:
            if e["reason"] in ("BackOff", "Unhealthy") and e["involvedObject"]["name"].startswith(("legacy-", "search-")):
                e["count"] += 3
                e["lastTimestamp"] = ts(1)
                changes.append(("events", "MODIFIED", copy.deepcopy(e)))
        return changes


class EvolvingAPIServer(FakeAPIServer):
    """FakeAPIServer whose lists and watches follow a history of changes."""

    def __init__(self, pods: list[dict], events: list[dict], **kw):
        super().__init__([copy.deepcopy(p) for p in pods], [copy.deepcopy(e) for e in events], **kw)
        self.rv = 1000
        self.history: list[tuple[int, str, str, dict]] = []  # (rv, resource, type, object)
        self.compacted = 0  # watches from an older version get 410 Gone
        self.generation = 0  # bumped to cut the open watches
        self.cond = threading.Condition()
        self.methods: list[str] = []
        self.fail_watches = False  # watches answer 500 (an overloaded API server)
        for o in self.pods + self.events:
            self._stamp(o)

    def _stamp(self, obj: dict) -> int:
        self.rv += 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
        return self.rv

    def apply(self, resource: str, kind: str, obj: dict, *, silent: bool = False) -> None:
        """One change: the stored lists follow it, watches see it (unless `silent`: a change made
        while nobody could watch, e.g. before a compaction)."""
        obj = copy.deepcopy(obj)
        with self.cond:
            rv = self._stamp(obj)
            store = self.pods if resource == "pods" else self.events
            uid = obj["metadata"].get("uid")
            idx = next((i for i, o in enumerate(store) if o["metadata"].get("uid") == uid), None)
            if kind == "DELETED":
                if idx is not None:
                    del store[idx]
            elif idx is None:
                store.append(obj)
            else:
                store[idx] = obj
            if not silent:
                self.history.append((rv, resource, kind, obj))
            self.cond.notify_all()

    def apply_all(self, changes: list, *, silent: bool = False) -> None:
        for resource, kind, obj in changes:
            self.apply(resource, kind, obj, silent=silent)

    def drop_watches(self) -> None:
        with self.cond:
            self.generation += 1
            self.cond.notify_all()

    def expire(self) -> None:
        """etcd compaction: history up to now is gone; open watches end, resuming ones get 410."""
        with self.cond:
            self.compacted = self.rv
            self.history.clear()
            self.generation += 1
            self.cond.notify_all()

    def _page(self, items, q, kind):
        body = super()._page(items, q, kind)
        body["metadata"]["resourceVersion"] = str(self.rv)
        return body

    def _handler(self):
        base = super()._handler()
        server = self

        class Handler(base):
            def do_GET(self):  # noqa: N802
                with server._lock:
                    server.methods.append("GET")
                super().do_GET()

            def _other(self):
                with server._lock:
                    server.methods.append(self.command)
                self.send_response(405)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT = do_PATCH = do_DELETE = _other  # noqa: N815

            def _watch(self, path):
                q = {k: v[-1] for k, v in parse_qs(urlparse(self.path).query).items()}
                m = re.fullmatch(r"/api/v1(?:/namespaces/([^/]+))?/(pods|events)", path)
                if not m:
                    return self._json(404, {"kind": "Status", "code": 404})
                ns, resource = m.group(1), m.group(2)
                if server.fail_watches:
                    return self._json(500, api_status(500, "InternalError", "etcdserver: request timed out"))
                since = int(q.get("resourceVersion") or 0)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()

                def send(obj) -> None:
                    data = json.dumps(obj).encode() + b"\n"
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()

                if since < server.compacted:
                    send({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                                      "message": f"too old resource version: {since} ({server.compacted})",
                                                      "reason": "Expired", "code": 410}})
                    self.wfile.write(b"0\r\n\r\n")
                    self.close_connection = True
                    return
                gen = server.generation
                upto = since
                deadline = time.monotonic() + min(int(q.get("timeoutSeconds") or 30), 30)
                while time.monotonic() < deadline:
                    with server.cond:
                        batch = [(rv, kind, obj) for rv, res, kind, obj in server.history
                                 if rv > since and res == resource and (ns is None or obj["metadata"].get("namespace") == ns)
                                 and _selected(obj, q.get("fieldSelector", ""))]
                        snapshot = server.rv
                        if not batch and server.generation == gen:
                            server.cond.wait(0.2)
                        cut = server.generation != gen
                        upto = max(upto, snapshot)
                    for rv, kind, obj in batch:
                        send({"type": kind, "object": _strip(obj)})
                        since = rv
                    if cut:  # the connection drops in the middle of a line
                        part = b'{"type": "MODIFIED", "object": {"metad'
                        self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                        self.wfile.flush()
                        self.close_connection = True
                        return
                send({"type": "BOOKMARK", "object": {"kind": "Pod" if resource == "pods" else "Event",
                                                     "metadata": {"resourceVersion": str(upto)}}})
                self.wfile.write(b"0\r\n\r\n")
                self.close_connection = True

        return Handler
