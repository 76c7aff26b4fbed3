"""The scenario corpus: realistic pods and events, each with the verdict it must get.

Every scenario is a (pod, events) pair as `kubectl get pod -o json` and `kubectl get
events -o json` return them, with the kubelet's and the scheduler's exact messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.builders import (
    backoff_msg,
    crashloop_wait,
    event,
    exec_probe,
    grpc_probe,
    http_probe,
    kill_msg,
    lifecycle_events,
    liveness_http_500,
    new_event,
    pod,
    refused,
    running,
    spec,
    start_error,
    status,
    tcp_probe,
    terminated,
    timeout_msg,
    ts,
    waiting,
)

IMG = "registry.example.com/shop/api:1.4.2"


@dataclass
class Scenario:
    name: str
    pod: dict
    events: list[dict]
    cause: str
    confidence: str | None = None
    containers: dict[str, str] = field(default_factory=dict)  # container -> expected cause
    severity: str | None = None
    culprit: str | None = None
    summary_has: tuple[str, ...] = ()
    evidence_has: tuple[str, ...] = ()
    last_restart: dict[str, str] = field(default_factory=dict)  # container -> expected lastRestart.cause


SCENARIOS: list[Scenario] = []


def scenario(fn):
    SCENARIOS.append(fn())
    return fn


# ----------------------------------------------------------------- OOM


@scenario
def oom_killed_crashloop():
    p = pod("web-7f9c6d8b5-x2lqz",
            [spec("api", liveness=http_probe(), readiness=http_probe("/ready"))],
            [status("api", None, terminated(137, "OOMKilled", 95, 40), restarts=7)])
    p["status"]["containerStatuses"][0]["state"] = crashloop_wait(p, "api")
    ev = lifecycle_events(p, "api", IMG, count=8, first=7190, last=95) + [
        event(p, "BackOff", backoff_msg(p, "api"), type="Warning", container="api", count=31, first=3000, last=30),
    ]
    return Scenario("oom_killed_crashloop", p, ev, "oom-killed", "high", {"api": "oom-killed"},
                    summary_has=("256Mi memory limit", "restarted 7 times"), evidence_has=("OOMKilled",))


@scenario
def oom_killed_exit_1():
    p = pod("worker-6d5b8c7f4-k9m2p", [spec("worker", memory="512Mi")],
            [status("worker", running(20), terminated(1, "OOMKilled", 900, 21), restarts=2, ready=True)])
    ev = lifecycle_events(p, "worker", IMG, count=3, first=7100, last=21)
    return Scenario("oom_killed_exit_1", p, ev, "oom-killed", "high", evidence_has=("not 137",))


@scenario
def oom_killed_no_limit():
    p = pod("cache-5f6d7c8b9-w7x8y", [spec("redis", image="redis:7.2", memory=None)],
            [status("redis", running(100), terminated(137, "OOMKilled", 5000, 101), restarts=1, ready=True, image="redis:7.2")])
    return Scenario("oom_killed_no_limit", p, lifecycle_events(p, "redis", "redis:7.2", count=2, first=7100, last=101),
                    "oom-killed", "high", summary_has=("no memory limit",))


# ----------------------------------------------------------------- liveness


def _liveness_pod(name, code, reason="Error", restarts=4):
    p = pod(name, [spec("api", liveness=http_probe(), readiness=http_probe("/ready"))],
            [status("api", running(25), terminated(code, reason, 300, 26), restarts=restarts, ready=False)])
    ev = lifecycle_events(p, "api", IMG, count=restarts + 1, first=1500, last=25) + [
        event(p, "Unhealthy", liveness_http_500(), type="Warning", container="api", count=3 * restarts, first=1260, last=55),
        event(p, "Killing", kill_msg("api", "liveness"), container="api", count=restarts, first=1240, last=35),
    ]
    return p, ev


@scenario
def liveness_exit_143():
    p, ev = _liveness_pod("checkout-5d8f7c9b6-q4tnm", 143)
    return Scenario("liveness_exit_143", p, ev, "liveness-probe-failed", "high",
                    summary_has=("liveness probe", "http-get http://:8080/healthz"), evidence_has=("exit 143",))


@scenario
def liveness_exit_137_grace():
    p, ev = _liveness_pod("checkout-5d8f7c9b6-a1b2c", 137)
    return Scenario("liveness_exit_137_grace", p, ev, "liveness-probe-failed", "high", evidence_has=("SIGKILLed",))


@scenario
def liveness_exit_0():
    p, ev = _liveness_pod("checkout-5d8f7c9b6-z0z0z", 0, reason="Completed")
    return Scenario("liveness_exit_0", p, ev, "liveness-probe-failed", "high", evidence_has=("handled the kubelet's SIGTERM",))


@scenario
def liveness_exit_2():
    p, ev = _liveness_pod("checkout-5d8f7c9b6-t2t2t", 2)
    return Scenario("liveness_exit_2", p, ev, "liveness-probe-failed", "high")


@scenario
def liveness_failures_kill_event_missing():
    p = pod("api-7c9d8e6f5-m3n4p", [spec("api", liveness=http_probe(timeout=1))],
            [status("api", running(10), terminated(137, "Error", 400, 11), restarts=1, ready=True)])
    ev = [event(p, "Unhealthy", timeout_msg("Liveness"), type="Warning", container="api", count=3, first=70, last=50)]
    return Scenario("liveness_failures_kill_event_missing", p, ev, "liveness-probe-failed", "medium")


@scenario
def liveness_kill_earlier_instance():
    # The liveness kill belongs to the first instance; the last one exited 1 on its own.
    p = pod("api-7c9d8e6f5-q5r6s", [spec("api", liveness=http_probe())],
            [status("api", waiting("CrashLoopBackOff"), terminated(1, "Error", 200, 180), restarts=2)])
    p["status"]["containerStatuses"][0]["state"] = crashloop_wait(p, "api", "20s")
    ev = lifecycle_events(p, "api", IMG, count=3, first=3000, last=200) + [
        event(p, "Unhealthy", liveness_http_500(), type="Warning", container="api", count=3, first=2700, last=2680),
        event(p, "Killing", kill_msg("api", "liveness"), container="api", first=2680),
    ]
    return Scenario("liveness_kill_earlier_instance", p, ev, "app-error", "high")


@scenario
def liveness_kill_other_container():
    p = pod("api-7c9d8e6f5-u7v8w",
            [spec("api"), spec("metrics", image="registry.example.com/shop/metrics:0.3", ports=(9102,),
                                liveness=http_probe("/metrics", 9102))],
            [status("api", running(100), terminated(137, "Error", 3000, 101), restarts=1, ready=True),
             status("metrics", running(98), terminated(143, "Error", 3000, 99), restarts=1, ready=True,
                    image="registry.example.com/shop/metrics:0.3")])
    ev = [
        event(p, "Unhealthy", refused("Liveness", 9102, "/metrics"), type="Warning", container="metrics", count=3, first=140, last=120),
        event(p, "Killing", kill_msg("metrics", "liveness"), container="metrics", first=120),
        event(p, "Pulled", f'Container image "{IMG}" already present on machine', container="api", count=2, first=3001, last=100),
    ]
    return Scenario("liveness_kill_other_container", p, ev, "liveness-probe-failed",
                    containers={"api": "killed", "metrics": "liveness-probe-failed"})


@scenario
def liveness_new_events_api():
    p = pod("gateway-8b7c6d5e4-f1g2h", [spec("gateway", liveness=grpc_probe(), ports=(9090,))],
            [status("gateway", running(30), terminated(143, "Error", 600, 31), restarts=3, ready=True)])
    ev = [
        new_event(p, "Unhealthy", 'Liveness probe failed: service unhealthy (responded with "NOT_SERVING")', type="Warning",
                  container="gateway", count=9, first=1800, last=61),
        new_event(p, "Killing", kill_msg("gateway", "liveness"), container="gateway", count=3, first=1780, last=41),
    ]
    return Scenario("liveness_new_events_api", p, ev, "liveness-probe-failed", "high", summary_has=("grpc",))


@scenario
def liveness_exec_probe():
    p = pod("liveness-exec", [spec("liveness", image="registry.k8s.io/busybox", memory=None,
                                    command=["/bin/sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"],
                                    liveness=exec_probe(["cat", "/tmp/healthy"], delay=5, period=5), ports=())],
            [status("liveness", running(2), terminated(137, "Error", 77, 3), restarts=2, ready=True,
                    image="registry.k8s.io/busybox")], owner=(None, None))
    ev = [
        event(p, "Unhealthy", "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory",
              type="Warning", container="liveness", count=6, first=120, last=13),
        event(p, "Killing", kill_msg("liveness", "liveness"), container="liveness", count=2, first=110, last=3),
    ]
    return Scenario("liveness_exec_probe", p, ev, "liveness-probe-failed", "high", summary_has=("exec [cat /tmp/healthy]",))


# ----------------------------------------------------------------- startup


@scenario
def startup_probe_kill():
    p = pod("legacy-6f7e8d9c0-b3c4d", [spec("app", startup=http_probe("/started", failures=6, period=5),
                                             liveness=http_probe())],
            [status("app", running(5), terminated(143, "Error", 40, 6), restarts=5, ready=False, started=False)])
    ev = [
        event(p, "Unhealthy", "Startup probe failed: HTTP probe failed with statuscode: 503", type="Warning",
              container="app", count=30, first=300, last=10),
        event(p, "Killing", kill_msg("app", "startup"), container="app", count=5, first=270, last=7),
    ]
    return Scenario("startup_probe_kill", p, ev, "startup-probe-failed", "high", summary_has=("30s budget",))


@scenario
def startup_failing_not_yet_killed():
    p = pod("legacy-6f7e8d9c0-e5f6g", [spec("app", startup=http_probe("/started", failures=30, period=10))],
            [status("app", running(100), None, restarts=0, ready=False, started=False)])
    ev = [event(p, "Unhealthy", refused("Startup", path="/started"), type="Warning", container="app", count=9, first=90, last=5)]
    # 100 s into a 300 s budget: failing startup probes are how a slow start looks (kubelet-facts
    # §2: only failureThreshold consecutive failures act). Not a finding yet.
    return Scenario("startup_failing_not_yet_killed", p, ev, "startup-probe-failed", "low", severity="ok",
                    summary_has=("still starting",))


# ----------------------------------------------------------------- readiness


@scenario
def readiness_failing():
    p = pod("cart-7b8c9d0e1-h7i8j", [spec("cart", readiness=http_probe("/ready"), liveness=http_probe())],
            [status("cart", running(3600), None, ready=False)])
    ev = [event(p, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", type="Warning",
                container="cart", count=240, first=2400, last=4)]
    return Scenario("readiness_failing", p, ev, "readiness-probe-failed", "high", severity="warning",
                    summary_has=("no traffic",))


@scenario
def readiness_tcp_db():
    p = pod("db-proxy-5c6d7e8f9-k1l2m", [spec("proxy", image="registry.example.com/pgbouncer:1.22", ports=(5432,),
                                               readiness=tcp_probe(5432))],
            [status("proxy", running(900), None, ready=False, image="registry.example.com/pgbouncer:1.22")])
    ev = [event(p, "Unhealthy", "Readiness probe failed: dial tcp 10.244.1.7:5432: connect: connection refused",
                type="Warning", container="proxy", count=88, first=880, last=2)]
    return Scenario("readiness_tcp_db", p, ev, "readiness-probe-failed", "high")


@scenario
def readiness_and_crashloop():
    p = pod("cart-7b8c9d0e1-n3o4p", [spec("cart", readiness=http_probe("/ready"))],
            [status("cart", None, terminated(1, "Error", 60, 45), restarts=6)])
    p["status"]["containerStatuses"][0]["state"] = crashloop_wait(p, "cart", "2m40s")
    ev = lifecycle_events(p, "cart", IMG, count=7, first=1200, last=60) + [
        event(p, "Unhealthy", refused("Readiness", path="/ready"), type="Warning", container="cart", count=20, first=1190, last=50),
        event(p, "BackOff", backoff_msg(p, "cart"), type="Warning", container="cart", count=25, first=1100, last=20),
    ]
    return Scenario("readiness_and_crashloop", p, ev, "app-error", "high", evidence_has=("CrashLoopBackOff",))


@scenario
def readiness_no_events():
    p = pod("cart-7b8c9d0e1-q5r6s", [spec("cart", readiness=http_probe("/ready"))],
            [status("cart", running(86400), None, ready=False)], created=90000)
    return Scenario("readiness_no_events", p, [], "readiness-probe-failed", "low")


@scenario
def readiness_within_initial_delay():
    p = pod("cart-7b8c9d0e1-t7u8v", [spec("cart", readiness=http_probe("/ready", delay=10))],
            [status("cart", running(5), None, ready=False)], created=8)
    # not ready and no events: readiness-probe-failed at low confidence, but it started within the
    # probe's first checks (delay 10 + 10 x 3 = 40 s), so it may still be starting: not a finding
    return Scenario("readiness_within_initial_delay", p, [], "readiness-probe-failed", "low", severity="ok")


# ----------------------------------------------------------------- app errors and crashes


@scenario
def app_error_exit_1():
    p = pod("orders-9a8b7c6d5-w9x0y", [spec("orders")],
            [status("orders", None, terminated(1, "Error", 12, 9, message="panic: missing DATABASE_URL"), restarts=12)])
    p["status"]["containerStatuses"][0]["state"] = crashloop_wait(p, "orders")
    ev = lifecycle_events(p, "orders", IMG, count=13, first=3600, last=12) + [
        event(p, "BackOff", backoff_msg(p, "orders"), type="Warning", container="orders", count=60, first=3500, last=8)]
    return Scenario("app_error_exit_1", p, ev, "app-error", "high", evidence_has=("missing DATABASE_URL",))


@scenario
def app_error_exit_255():
    p = pod("migrate-4d5e6f7a8-z1a2b", [spec("migrate")],
            [status("migrate", running(3), terminated(255, "Error", 10, 4), restarts=3, ready=True)])
    return Scenario("app_error_exit_255", p, lifecycle_events(p, "migrate", IMG, count=4, first=300, last=3),
                    "app-error", "high")


@scenario
def crashed_sigsegv():
    p = pod("imgproc-3c4d5e6f7-c3d4e", [spec("imgproc")],
            [status("imgproc", running(15), terminated(139, "Error", 120, 16), restarts=4, ready=True)])
    return Scenario("crashed_sigsegv", p, lifecycle_events(p, "imgproc", IMG, count=5, first=900, last=15),
                    "crashed-signal", "high", summary_has=("SIGSEGV",))


@scenario
def crashed_sigabrt():
    p = pod("imgproc-3c4d5e6f7-f5g6h", [spec("imgproc")],
            [status("imgproc", running(15), terminated(134, "Error", 120, 16), restarts=1, ready=True)])
    return Scenario("crashed_sigabrt", p, lifecycle_events(p, "imgproc", IMG, count=2, first=900, last=15),
                    "crashed-signal", "high", summary_has=("SIGABRT",))


@scenario
def crashed_sigbus_shm():
    p = pod("trainer-2b3c4d5e6-i7j8k", [spec("trainer", memory="8Gi")],
            [status("trainer", running(15), terminated(135, "Error", 1200, 16), restarts=1, ready=True)])
    return Scenario("crashed_sigbus_shm", p, lifecycle_events(p, "trainer", IMG, count=2, first=1300, last=15),
                    "crashed-signal", "high")


@scenario
def windows_access_violation():
    p = pod("iis-app-6a7b8c9d0-l9m0n", [spec("iis", image="mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022")],
            [status("iis", running(60), terminated(-1073741819, "Error", 600, 61), restarts=2, ready=True,
                    image="mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022")])
    return Scenario("windows_access_violation", p, lifecycle_events(
        p, "iis", "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022", count=3, first=1800, last=60),
        "crashed-signal", "high", summary_has=("STATUS_ACCESS_VIOLATION",))


# ----------------------------------------------------------------- killed / terminated


@scenario
def killed_137_no_evidence():
    p = pod("search-8c9d0e1f2-o1p2q", [spec("search", memory="2Gi")],
            [status("search", running(300), terminated(137, "Error", 3000, 301), restarts=1, ready=True)])
    return Scenario("killed_137_no_evidence", p, lifecycle_events(p, "search", IMG, count=2, first=3300, last=300),
                    "killed", "medium")


@scenario
def killed_137_events_expired():
    p = pod("search-8c9d0e1f2-r3s4t", [spec("search", memory="2Gi")],
            [status("search", running(3 * 3600), terminated(137, "Error", 30000, 3 * 3600 + 1), restarts=1, ready=True)],
            created=40000)
    # running and ready for 3 h since the kill: history. lastRestart keeps the (low-confidence) explanation.
    return Scenario("killed_137_events_expired", p, [], "healthy", "high", severity="ok", last_restart={"search": "killed"},
                    summary_has=("last restart 3h ago", "SIGKILL"))


@scenario
def killed_grace_period_exceeded():
    p = pod("queue-consumer-7d8e9f0a1-u5v6w", [spec("consumer")],
            [status("consumer", terminated(137, "Error", 7000, 5))], deleting=40)
    ev = [event(p, "Killing", "Stopping container consumer", container="consumer", first=35)]
    return Scenario("killed_grace_period_exceeded", p, ev, "killed", "high", summary_has=("30s grace period",))


@scenario
def container_status_unknown():
    p = pod("batch-runner-5e6f7a8b9-x7y8z", [spec("runner")],
            [status("runner", terminated(137, "ContainerStatusUnknown", None, None,
                                         message="The container could not be located when the pod was terminated",
                                         container_id=False))], phase="Failed")
    return Scenario("container_status_unknown", p, [], "killed", "medium")


@scenario
def terminated_143_deletion():
    p = pod("web-7f9c6d8b5-d1e2f", [spec("api")],
            [status("api", terminated(143, "Error", 7000, 8))], deleting=20)
    ev = [event(p, "Killing", "Stopping container api", container="api", first=18)]
    # the pod is being deleted: terminating, not a finding
    return Scenario("terminated_143_deletion", p, ev, "terminated", "high", severity="ok")


@scenario
def terminated_143_no_evidence():
    p = pod("web-7f9c6d8b5-g3h4i", [spec("api")],
            [status("api", running(100), terminated(143, "Error", 3000, 101), restarts=1, ready=True)])
    return Scenario("terminated_143_no_evidence", p, lifecycle_events(p, "api", IMG, count=2, first=3100, last=100),
                    "terminated", "medium")


@scenario
def sigint_stop_signal():
    p = pod("nginx-6b7c8d9e0-j5k6l", [spec("nginx", image="nginx:1.27")],
            [status("nginx", terminated(130, "Error", 5000, 3), image="nginx:1.27")], deleting=10)
    ev = [event(p, "Killing", "Stopping container nginx", container="nginx", first=9)]
    return Scenario("sigint_stop_signal", p, ev, "terminated", "high")


# ----------------------------------------------------------------- cannot start


@scenario
def command_not_found_start_error():
    msg = start_error('exec: "gunicorn": executable file not found in $PATH')
    p = pod("py-api-4f5a6b7c8-m7n8o", [spec("api", command=["gunicorn", "app:app"])],
            [status("api", None, terminated(128, "StartError", None, 20, message=msg), restarts=5)])
    p["status"]["containerStatuses"][0]["state"] = crashloop_wait(p, "api")
    ev = [event(p, "Failed", f"Error: {msg}", type="Warning", container="api", count=6, first=600, last=20)]
    return Scenario("command_not_found_start_error", p, ev, "command-not-found", "high")


@scenario
def command_not_found_127():
    p = pod("py-api-4f5a6b7c8-p9q0r", [spec("api", command=["/bin/sh", "-c", "start-server --port 8080"])],
            [status("api", running(5), terminated(127, "Error", 6, 5), restarts=3, ready=True)])
    return Scenario("command_not_found_127", p, lifecycle_events(p, "api", IMG, count=4, first=100, last=5),
                    "command-not-found", "high")


@scenario
def permission_denied_start_error():
    msg = start_error('exec: "/app/entrypoint.sh": permission denied')
    p = pod("py-api-4f5a6b7c8-s1t2u", [spec("api", command=["/app/entrypoint.sh"])],
            [status("api", None, terminated(128, "StartError", None, 30, message=msg), restarts=2)])
    p["status"]["containerStatuses"][0]["state"] = crashloop_wait(p, "api", "20s")
    return Scenario("permission_denied_start_error", p, [], "permission-denied", "high")


@scenario
def permission_denied_126():
    p = pod("py-api-4f5a6b7c8-v3w4x", [spec("api", command=["/bin/sh", "-c", "/app/run.sh"])],
            [status("api", running(5), terminated(126, "Error", 6, 5), restarts=3, ready=True)])
    return Scenario("permission_denied_126", p, lifecycle_events(p, "api", IMG, count=4, first=100, last=5),
                    "permission-denied", "high")


@scenario
def start_error_mount():
    msg = start_error('error during container init: error mounting "/var/lib/kubelet/pods/8d6f/volume-subpaths/config/api/0" '
                      'to rootfs at "/etc/app/config.yaml": mount src=/var/lib/kubelet/pods/8d6f/volume-subpaths/config/api/0, '
                      "dst=/etc/app/config.yaml, dstFd=/proc/thread-self/fd/8, flags=MS_BIND|MS_REC: not a directory")
    p = pod("web-7f9c6d8b5-y5z6a", [spec("api")],
            [status("api", None, terminated(128, "StartError", None, 15, message=msg), restarts=4)])
    p["status"]["containerStatuses"][0]["state"] = crashloop_wait(p, "api", "40s")
    return Scenario("start_error_mount", p, [], "start-error", "high")


@scenario
def run_container_error_waiting():
    msg = ('failed to start container "4c5d": Error response from daemon: OCI runtime create failed: '
           "container_linux.go:380: starting container process caused: process_linux.go:545: container init caused: "
           "rootfs_linux.go:76: mounting \"/etc/app\" to rootfs caused: read-only file system: unknown")
    p = pod("web-7f9c6d8b5-b7c8d", [spec("api")], [status("api", waiting("RunContainerError", msg), restarts=1)])
    return Scenario("run_container_error_waiting", p, [], "start-error", "high")


# ----------------------------------------------------------------- image and config


@scenario
def image_pull_backoff():
    image = "registry.example.com/shop/search:2.0.0"
    p = pod("search-7a8b9c0d1-e9f0g", [spec("search", image=image)],
            [status("search", waiting("ImagePullBackOff", f'Back-off pulling image "{image}"'), image=image)], created=600)
    ev = [
        event(p, "Pulling", f'Pulling image "{image}"', container="search", count=4, first=590, last=100),
        event(p, "Failed", f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and unpack image '
                           f'"{image}": failed to resolve reference "{image}": {image}: not found',
              type="Warning", container="search", count=4, first=589, last=99),
        event(p, "Failed", "Error: ErrImagePull", type="Warning", container="search", count=4, first=589, last=99),
        event(p, "BackOff", f'Back-off pulling image "{image}"', container="search", count=9, first=580, last=10),
        event(p, "Failed", "Error: ImagePullBackOff", type="Warning", container="search", count=9, first=580, last=10),
    ]
    return Scenario("image_pull_backoff", p, ev, "image-pull-failed", "high", summary_has=("not found",))


@scenario
def err_image_pull_unauthorized():
    image = "private.example.com/team/app:3.1"
    msg = (f'failed to pull and unpack image "{image}": failed to resolve reference "{image}": '
           "pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials")
    p = pod("private-5b6c7d8e9-h1i2j", [spec("app", image=image)], [status("app", waiting("ErrImagePull", msg), image=image)], created=60)
    return Scenario("err_image_pull_unauthorized", p, [], "image-pull-failed", "high")


@scenario
def invalid_image_name():
    image = "Registry.example.com/Shop:latest"
    msg = (f'Failed to apply default image tag "{image}": couldn\'t parse image name "{image}": '
           "invalid reference format: repository name must be lowercase")
    p = pod("bad-img-6c7d8e9f0-k3l4m", [spec("app", image=image)], [status("app", waiting("InvalidImageName", msg), image=image)])
    return Scenario("invalid_image_name", p, [], "image-pull-failed", "high")


@scenario
def config_error_configmap():
    p = pod("web-7f9c6d8b5-n5o6p", [spec("api")],
            [status("api", waiting("CreateContainerConfigError", 'configmap "app-config" not found'))], created=300)
    ev = [event(p, "Failed", 'Error: configmap "app-config" not found', type="Warning", container="api", count=14, first=290, last=5)]
    return Scenario("config_error_configmap", p, ev, "config-error", "high")


@scenario
def config_error_secret_key():
    p = pod("web-7f9c6d8b5-q7r8s", [spec("api", env=[{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-creds", "key": "DB_PASSWORD"}}}])],
            [status("api", waiting("CreateContainerConfigError", "couldn't find key DB_PASSWORD in Secret shop/db-creds"))])
    return Scenario("config_error_secret_key", p, [], "config-error", "high")


# ----------------------------------------------------------------- pod level


@scenario
def evicted_memory_pressure():
    msg = ("The node was low on resource: memory. Threshold quantity: 100Mi, available: 91044Ki. Container api was using "
           "1843200Ki, request is 256Mi, has larger consumption of memory. ")
    p = pod("web-7f9c6d8b5-t9u0v", [spec("api")],
            [status("api", terminated(137, "ContainerStatusUnknown", None, None,
                                      message="The container could not be located when the pod was terminated", container_id=False))],
            phase="Failed", reason="Evicted", message=msg)
    ev = [event(p, "Evicted", msg, type="Warning", first=400), event(p, "Killing", "Stopping container api", container="api", first=399)]
    return Scenario("evicted_memory_pressure", p, ev, "evicted", "high", summary_has=("memory",))


@scenario
def deadline_exceeded():
    p = pod("report-28791230-abcde", [spec("report")], [status("report", terminated(143, "Error", 3700, 90))],
            phase="Failed", restart_policy="Never", owner=("Job", "report-28791230"), reason="DeadlineExceeded",
            message="Pod was active on the node longer than the specified deadline", extra_spec={"activeDeadlineSeconds": 3600})
    ev = [event(p, "DeadlineExceeded", "Pod was active on the node longer than the specified deadline", type="Normal", first=95)]
    return Scenario("deadline_exceeded", p, ev, "deadline-exceeded", "high", summary_has=("3600s",))


@scenario
def unschedulable_insufficient_memory():
    msg = ("0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: "
           "3 No preemption victims found for incoming pod.")
    p = pod("ml-train-6d7e8f9a0-w1x2y", [spec("train", memory="64Gi")], [], phase="Pending", node=None,
            conditions=[{"type": "PodScheduled", "status": "False", "lastProbeTime": None, "lastTransitionTime": "2026-11-20T09:50:00Z",
                         "reason": "Unschedulable", "message": msg}], created=600)
    ev = [event(p, "FailedScheduling", msg, type="Warning", component="default-scheduler", count=12, first=600, last=30)]
    return Scenario("unschedulable_insufficient_memory", p, ev, "unschedulable", "high", summary_has=("Insufficient memory",))


@scenario
def unschedulable_taint():
    msg = ("0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
           "2 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")
    p = pod("gpu-job-7e8f9a0b1-z3a4b", [spec("cuda")], [], phase="Pending", node=None, owner=("Job", "gpu-job"),
            conditions=[{"type": "PodScheduled", "status": "False", "lastProbeTime": None, "lastTransitionTime": "2026-11-20T09:55:00Z",
                         "reason": "Unschedulable", "message": msg}], created=300)
    return Scenario("unschedulable_taint", p, [], "unschedulable", "high")


# ----------------------------------------------------------------- completions


@scenario
def completed_job():
    p = pod("report-28791300-fghij", [spec("report")], [status("report", terminated(0, "Completed", 400, 100))],
            phase="Succeeded", restart_policy="OnFailure", owner=("Job", "report-28791300"), ready=False,
            conditions=[])
    return Scenario("completed_job", p, [], "completed", severity="ok")


@scenario
def completed_under_always():
    p = pod("hello-5f6a7b8c9-c5d6e", [spec("hello", image="busybox:1.36", command=["echo", "hello"])],
            [status("hello", None, terminated(0, "Completed", 31, 30), restarts=9, image="busybox:1.36")])
    p["status"]["containerStatuses"][0]["state"] = crashloop_wait(p, "hello")
    ev = lifecycle_events(p, "hello", "busybox:1.36", count=10, first=1500, last=31)
    return Scenario("completed_under_always", p, ev, "completed", "high", severity="warning", summary_has=("one-shot",))


# ----------------------------------------------------------------- init containers and sidecars


@scenario
def init_container_failing():
    p = pod("web-7f9c6d8b5-f7g8h", [spec("api")], [status("api", waiting("PodInitializing"))],
            init=[spec("migrate", image="registry.example.com/shop/migrate:1.4.2", ports=())],
            init_statuses=[status("migrate", None, terminated(1, "Error", 40, 25, message="relation \"orders\" does not exist"),
                                  restarts=5, image="registry.example.com/shop/migrate:1.4.2")],
            phase="Pending", conditions=None)
    p["status"]["initContainerStatuses"][0]["state"] = crashloop_wait(p, "migrate", "2m40s")
    p["status"]["conditions"][1] = {"type": "Initialized", "status": "False", "lastProbeTime": None,
                                    "lastTransitionTime": "2026-11-20T08:00:00Z", "reason": "ContainersNotInitialized",
                                    "message": "containers with incomplete status: [migrate]"}
    ev = lifecycle_events(p, "migrate", "registry.example.com/shop/migrate:1.4.2", count=6, first=1800, last=40)
    for e in ev:
        e["involvedObject"]["fieldPath"] = "spec.initContainers{migrate}"
    return Scenario("init_container_failing", p, ev, "app-error", "high", culprit="migrate",
                    containers={"migrate": "app-error", "api": "healthy"})


@scenario
def init_completed_main_healthy():
    p = pod("web-7f9c6d8b5-i9j0k", [spec("api", readiness=http_probe("/ready"))], [status("api", running(7000), ready=True)],
            init=[spec("migrate", image="registry.example.com/shop/migrate:1.4.2", ports=())],
            init_statuses=[status("migrate", terminated(0, "Completed", 7100, 7050), image="registry.example.com/shop/migrate:1.4.2")])
    return Scenario("init_completed_main_healthy", p, [], "healthy", severity="ok",
                    containers={"migrate": "completed", "api": "healthy"})


@scenario
def sidecar_crashloop():
    sidecar = spec("log-shipper", image="fluent/fluent-bit:3.1", memory="64Mi", ports=(), restart_policy="Always")
    p = pod("web-7f9c6d8b5-l1m2n", [spec("api")], [status("api", running(7000), ready=True)],
            init=[sidecar],
            init_statuses=[status("log-shipper", None, terminated(1, "Error", 70, 50,
                                                                   message="[error] [config] section 'outputs' unknown key 'Hostt'"),
                                  restarts=8, image="fluent/fluent-bit:3.1")])
    p["status"]["initContainerStatuses"][0]["state"] = crashloop_wait(p, "log-shipper")
    return Scenario("sidecar_crashloop", p, [], "app-error", culprit="log-shipper",
                    containers={"log-shipper": "app-error", "api": "healthy"})


@scenario
def several_containers_different_causes():
    p = pod("web-7f9c6d8b5-o3p4q", [spec("api"), spec("worker", memory="1Gi")],
            [status("api", None, terminated(137, "OOMKilled", 80, 40), restarts=9),
             status("worker", running(500), terminated(2, "Error", 2000, 501), restarts=1, ready=True)])
    p["status"]["containerStatuses"][0]["state"] = crashloop_wait(p, "api")
    ev = lifecycle_events(p, "api", IMG, count=10, first=7000, last=80) + lifecycle_events(p, "worker", IMG, count=2, first=7000, last=500)
    return Scenario("several_containers_different_causes", p, ev, "oom-killed", culprit="api",
                    containers={"api": "oom-killed", "worker": "app-error"})


# ----------------------------------------------------------------- healthy and history


@scenario
def healthy_running():
    p = pod("web-7f9c6d8b5-r5s6t", [spec("api", liveness=http_probe(), readiness=http_probe("/ready"))],
            [status("api", running(7100), ready=True)])
    return Scenario("healthy_running", p, lifecycle_events(p, "api", IMG, first=7100), "healthy", "high", severity="ok")


@scenario
def recovered_old_oom():
    p = pod("web-7f9c6d8b5-u7v8w", [spec("api")],
            [status("api", running(2 * 86400), terminated(137, "OOMKilled", 5 * 86400, 2 * 86400 + 1), restarts=1, ready=True)],
            created=6 * 86400)
    return Scenario("recovered_old_oom", p, [], "healthy", "high", severity="ok", last_restart={"api": "oom-killed"},
                    summary_has=("healthy now", "OOM-killed at its 256Mi limit"))


@scenario
def statefulset_recreated_other_uid():
    # db-0 was deleted and re-created: the liveness kill belongs to the old pod (another uid).
    p = pod("db-0", [spec("postgres", image="postgres:16", liveness=tcp_probe(5432), ports=(5432,))],
            [status("postgres", running(30), terminated(137, "Error", 1000, 31), restarts=1, ready=True, image="postgres:16")],
            owner=("StatefulSet", "db"), created=2000)
    ev = [
        event(p, "Killing", kill_msg("postgres", "liveness"), container="postgres", first=40, involved_uid="0b5f4a3e-old-uid"),
        event(p, "Unhealthy", "Liveness probe failed: dial tcp 10.244.1.7:5432: connect: connection refused", type="Warning",
              container="postgres", count=3, first=70, last=50, involved_uid="0b5f4a3e-old-uid"),
        event(p, "Started", "Started container postgres", container="postgres", count=2, first=1000, last=30),
    ]
    return Scenario("statefulset_recreated_other_uid", p, ev, "killed", "medium")


@scenario
def ephemeral_debugger_done():
    p = pod("web-7f9c6d8b5-x9y0z", [spec("api")], [status("api", running(7000), ready=True)],
            ephemeral=[{"name": "debugger-7xk2q", "image": "busybox:1.36", "stdin": True, "tty": True,
                        "targetContainerName": "api", "terminationMessagePolicy": "File",
                        "terminationMessagePath": "/dev/termination-log", "imagePullPolicy": "IfNotPresent"}],
            ephemeral_statuses=[status("debugger-7xk2q", terminated(0, "Completed", 600, 300), image="busybox:1.36")])
    return Scenario("ephemeral_debugger_done", p, [], "healthy", severity="ok", containers={"debugger-7xk2q": "completed"})


@scenario
def never_policy_app_error():
    p = pod("db-backup-28791200-p1q2r", [spec("backup")], [status("backup", terminated(1, "Error", 500, 200, message="pg_dump: error: connection to server failed"))],
            phase="Failed", restart_policy="Never", owner=("Job", "db-backup-28791200"))
    return Scenario("never_policy_app_error", p, [], "app-error", containers={"backup": "app-error"})


@scenario
def pending_failed_mount():
    p = pod("web-7f9c6d8b5-a2b3c", [spec("api")], [status("api", waiting("ContainerCreating"))], created=400)
    ev = [event(p, "FailedMount", 'MountVolume.SetUp failed for volume "config" : configmap "app-config" not found',
                type="Warning", count=9, first=390, last=20)]
    # a volume names a ConfigMap that does not exist: the pod cannot start until it does (config-error)
    return Scenario("pending_failed_mount", p, ev, "config-error", "high", summary_has=('configmap "app-config" not found',))


@scenario
def startup_kill_inferred_from_timing():
    # No events (expired): the instance ran 305 s, its startup probe's budget (0 + 10 x 30 = 300 s),
    # then died of SIGTERM (143): the kubelet's kill (kuberuntime_manager computePodActions) is
    # the likely end, at low confidence.
    p = pod("search-6f7a8b9c0-t1m1n", [spec("search", startup=http_probe("/started", failures=30),
                                            liveness=http_probe())],
            [status("search", None, terminated(143, "Error", 700, 395), restarts=6)], created=9000)
    p["status"]["containerStatuses"][0]["state"] = crashloop_wait(p, "search")
    return Scenario("startup_kill_inferred_from_timing", p, [], "startup-probe-failed", "low",
                    evidence_has=("inferred from timing alone",))


@scenario
def liveness_kill_137_inferred_from_timing():
    # 30 s of liveness budget (0 + 10 x 3) plus the 30 s grace period, then SIGKILL (137):
    # a process that ignores SIGTERM, killed by its probe; no events, no OOMKilled reason.
    p = pod("ingest-5e6f7a8b9-t2m2n", [spec("ingest", liveness=http_probe())],
            [status("ingest", None, terminated(137, "Error", 200, 139), restarts=3)], created=9000)
    p["status"]["containerStatuses"][0]["state"] = crashloop_wait(p, "ingest")
    return Scenario("liveness_kill_137_inferred_from_timing", p, [], "liveness-probe-failed", "low")


@scenario
def node_lost():
    # NodeController (1.1x): "Node %v which was running pod %v is unresponsive", phase Unknown.
    p = pod("web-7f9c6d8b5-n0d3l", [spec("api")], [status("api", running(5000), ready=True)],
            phase="Unknown", reason="NodeLost",
            message="Node node-3 which was running pod web-7f9c6d8b5-n0d3l is unresponsive")
    return Scenario("node_lost", p, [], "unknown", "medium", summary_has=("stopped reporting",))


# ----------------------------------------------------------------- from the independent review


@scenario
def job_with_native_sidecar_succeeded():
    # kubelet-facts §7: sidecars are stopped after the main containers finish
    # (terminationOrdering); their SIGTERM exit is the normal end, and the pod Succeeded.
    shipper = spec("log-shipper", image="fluent/fluent-bit:3.1", restart_policy="Always", ports=())
    p = pod("report-28800000-7xk2q", [spec("report")],
            [status("report", terminated(0, "Completed", 600, 12))], phase="Succeeded", restart_policy="Never",
            owner=("Job", "report-28800000"), init=[shipper],
            init_statuses=[status("log-shipper", terminated(143, "Error", 610, 10), image="fluent/fluent-bit:3.1")])
    ev = [event(p, "Killing", "Stopping container log-shipper", container="log-shipper", kind="initContainers", first=11)]
    return Scenario("job_with_native_sidecar_succeeded", p, ev, "completed", severity="ok",
                    containers={"log-shipper": "terminated", "report": "completed"})


@scenario
def liveness_failures_below_threshold_are_noise():
    # kubelet-facts §2: a Failure acts only after failureThreshold consecutive ones: one
    # liveness failure and no Killing does not explain a SIGKILL eight minutes later.
    p = pod("search-8c9d0e1f2-b3l0w", [spec("search", memory="2Gi", liveness=http_probe())],
            [status("search", running(30), terminated(137, "Error", 520, 31), restarts=1, ready=True)])
    ev = [event(p, "Unhealthy", liveness_http_500(), type="Warning", container="search", count=1, first=300)]
    return Scenario("liveness_failures_below_threshold_are_noise", p, ev, "killed", "medium")


@scenario
def liveness_kill_event_dropped_go_exit_2():
    # Killing lost to the kubelet's event spam filter (kubelet-facts §9); 21 failures ending 2 s
    # before the exit; a Go PID 1 dies of SIGTERM with exit 2 (kubelet-facts §1).
    p = pod("gateway-5b4c3d2e1-k2x9p", [spec("gateway", liveness=http_probe(delay=10))],
            [status("gateway", running(5), terminated(2, "Error", 50, 8), restarts=9, ready=False)])
    ev = [event(p, "Unhealthy", timeout_msg("Liveness"), type="Warning", container="gateway", count=21, first=600, last=10)]
    return Scenario("liveness_kill_event_dropped_go_exit_2", p, ev, "liveness-probe-failed", "medium")


@scenario
def post_start_hook_failed():
    # kuberuntime_container.go: FailedPostStartHook "PostStartHook failed", Killing
    # "FailedPostStartHook"; the details only in the waiting message (lifecycle/handlers.go).
    msg = ('Exec lifecycle hook ([/bin/sh -c /opt/app/warmup.sh]) for Container "api" in Pod '
           '"web-7f9c6d8b5-h00k1_shop(4f1c)" failed - error: command \'/bin/sh -c /opt/app/warmup.sh\' exited with 7: '
           "curl: (7) Failed to connect to localhost port 8080: Connection refused, message: \"\"")
    p = pod("web-7f9c6d8b5-h00k1", [spec("api")],
            [status("api", waiting("PostStartHookError", msg), terminated(143, "Error", 60, 30), restarts=2)])
    ev = [event(p, "FailedPostStartHook", "PostStartHook failed", type="Warning", container="api", count=3, first=400, last=32),
          event(p, "Killing", "FailedPostStartHook", container="api", count=3, first=399, last=31)]
    return Scenario("post_start_hook_failed", p, ev, "start-error", "high", summary_has=("postStart hook failed",))


@scenario
def containerd_unknown_exit_255():
    # containerd CRI: unknownExitCode 255, reason "Unknown" after a runtime/node restart.
    p = pod("web-7f9c6d8b5-u255x", [spec("api")],
            [status("api", running(100), terminated(255, "Unknown", 90000, 120), restarts=1, ready=True)])
    ev = [event(p, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.", container=None, first=110)]
    return Scenario("containerd_unknown_exit_255", p, ev, "unknown", "medium")


@scenario
def spec_change_restart():
    # computePodActions: "Container api definition changed, will be restarted" (an in-place image update)
    p = pod("web-7f9c6d8b5-sp3c1", [spec("api")],
            [status("api", running(20), terminated(143, "Error", 4000, 22), restarts=1, ready=True)])
    ev = [event(p, "Killing", "Container api definition changed, will be restarted", container="api", first=25)]
    return Scenario("spec_change_restart", p, ev, "terminated", "high", severity="ok")


@scenario
def stuck_terminating_with_finalizer():
    p = pod("db-migrate-6c7d8e9f0-f1n4l", [spec("migrate")], [status("migrate", running(20000), ready=True)],
            deleting=3 * 3600)
    p["metadata"]["finalizers"] = ["example.com/backup-guard"]
    return Scenario("stuck_terminating_with_finalizer", p, [], "unknown", "medium", severity="warning",
                    summary_has=("terminating for 3h", "example.com/backup-guard"))


@scenario
def node_not_ready_marks_pod_unready():
    # node lifecycle controller MarkPodsNotReady: pod Ready=False, containers still report ready
    p = pod("web-7f9c6d8b5-n0rdy", [spec("api")], [status("api", running(9000), ready=True)],
            conditions=[{"type": "Ready", "status": "False", "lastProbeTime": None, "lastTransitionTime": ts(60)},
                        {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": ts(9100)}])
    ev = [event(p, "NodeNotReady", "Node is not ready", type="Warning", component="node-controller", first=62)]
    return Scenario("node_not_ready_marks_pod_unready", p, ev, "unknown", "medium", summary_has=("node",))


@scenario
def scheduling_gated():
    p = pod("train-4f5a6b7c8-g4t3d", [spec("trainer")], [], phase="Pending", node="", created=30,
            conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated",
                         "message": "Scheduling is blocked due to non-empty scheduling gates", "lastProbeTime": None,
                         "lastTransitionTime": ts(30)}],
            extra_spec={"schedulingGates": [{"name": "kueue.x-k8s.io/admission"}]})
    return Scenario("scheduling_gated", p, [], "unknown", "medium", severity="ok", summary_has=("kueue.x-k8s.io/admission",))


@scenario
def restarts_without_last_state_running_for_days():
    # restartCount 2, lastState {} (a pasted status, or one the kubelet rebuilt), running and
    # ready for three days: whatever ended those instances is history.
    p = pod("web-7f9c6d8b5-n0l4s", [spec("api")], [status("api", running(3 * 86400), None, restarts=2, ready=True)],
            created=4 * 86400)
    ev = [event(p, "Started", "Started container api", container="api", first=30)]  # the input reaches to now
    return Scenario("restarts_without_last_state_running_for_days", p, ev, "healthy", "high", severity="ok",
                    summary_has=("why is not recorded",))


@scenario
def liveness_exec_probe_command_missing_two_containers():
    # Pasted events carry no fieldPath; only one of the two containers has a liveness probe.
    # The exec probe's own command is missing from the image: runc's text through the CRI
    # (kubelet-facts §2: exec output is the probe failure's message).
    probe = exec_probe(["curl", "-fsS", "http://localhost:8080/healthz"])
    p = pod("report-6b7c8d9e0-cur1x", [spec("app", liveness=probe), spec("proxy", image="envoyproxy/envoy:v1.31.0", ports=(9901,))],
            [status("app", running(20), terminated(137, "Error", 100, 21), restarts=3, ready=True),
             status("proxy", running(3000), ready=True, image="envoyproxy/envoy:v1.31.0")])
    missing = ('Liveness probe failed: OCI runtime exec failed: exec failed: unable to start container process: exec: '
               '"curl": executable file not found in $PATH: unknown')
    ev = [event(p, "Unhealthy", missing, type="Warning", count=9, first=400, last=55),
          event(p, "Killing", kill_msg("app", "liveness"), count=3, first=390, last=52)]
    return Scenario("liveness_exec_probe_command_missing_two_containers", p, ev, "liveness-probe-failed", "high",
                    containers={"app": "liveness-probe-failed", "proxy": "healthy"},
                    evidence_has=("own command does not exist in the image",))


BY_NAME = {s.name: s for s in SCENARIOS}
