"""`probectl exporter`: restart causes as Prometheus metrics, served from inside the cluster."""

from __future__ import annotations

import queue
import sys
import threading
import time

import typer

from probectl.cli import options
from probectl.errors import ProbectlError, UsageError

DEFAULT_PORT = 9847
DEFAULT_LISTEN = f":{DEFAULT_PORT}"
REFRESH_EVERY = 30.0  # seconds between re-judging the pods in trouble (a restart becomes history)

HELP = f"""Serve restart causes as Prometheus metrics: watch pods and events (all namespaces by
default), explain each container termination with the same engine as 'why' and 'scan',
and count it once under its cause. /metrics, /healthz (alive) and /readyz (first list done,
watches open) on --listen (default {DEFAULT_LISTEN}). Labels name workloads, never pods.

\b
  probectl exporter                          # all namespaces, port {DEFAULT_PORT}
  probectl exporter -n shop --listen 127.0.0.1:9847
  probectl exporter --namespaces shop,pay --max-series 5000

In a cluster: deploy/exporter.yaml (read-only RBAC: get/list/watch pods and events).
Metrics: probectl_container_restarts_total, probectl_problem_pods, probectl_exporter_*.
Exit status: 0 on SIGTERM, 2 for bad flags or a busy port, 3 when the first list fails,
130 on Ctrl-C.
"""


def parse_listen(text: str) -> tuple[str, int]:
    """HOST:PORT, :PORT (every interface) or [IPv6]:PORT."""
    import re

    m = re.fullmatch(r"\s*(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]*)):([0-9]{1,5})\s*", text or "")
    if not m or int(m.group(3)) > 65535:
        raise UsageError(f"--listen {text!r}: use HOST:PORT, e.g. 0.0.0.0:{DEFAULT_PORT}, 127.0.0.1:{DEFAULT_PORT} or "
                         f":{DEFAULT_PORT}")
    host = m.group(1) or m.group(2) or "0.0.0.0"
    return host, int(m.group(3))


class Health:
    """The exporter's own counters, fed by the watch loops (several threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reconnects: dict[str, int] = {}
        self.relists: dict[str, int] = {}
        self.watch_events: dict[str, int] = {}
        self.api_errors: dict[str, int] = {}
        self.last_list: dict[str, float] = {}
        self.failing: dict[str, int] = {}  # consecutive errors per stream
        self.ready = False

    def listener(self, resource: str):
        def on(what: str, detail: str) -> None:
            with self.lock:
                if what == "event":
                    self.watch_events[resource] = self.watch_events.get(resource, 0) + 1
                    self.failing[resource] = 0
                elif what == "reconnect":
                    self.reconnects[resource] = self.reconnects.get(resource, 0) + 1
                elif what == "relist":
                    self.relists[resource] = self.relists.get(resource, 0) + 1
                elif what == "listed":
                    self.last_list[resource] = time.time()
                    self.failing[resource] = 0
                elif what == "error":
                    self.api_errors[detail] = self.api_errors.get(detail, 0) + 1
                    if detail != "410":
                        self.failing[resource] = self.failing.get(resource, 0) + 1
        return on

    def healthy_watches(self) -> bool:
        """Ready: every watch is open or recovering (fewer than 3 errors in a row)."""
        with self.lock:
            return self.ready and all(n < 3 for n in self.failing.values())


class Exporter:
    """The shell: lists, watches, feeds probectl.core.metrics, serves HTTP."""

    def __init__(self, conn, *, namespaces: list[str] | None, selector: str | None, listen: tuple[str, int],
                 max_series: int, recent, request_timeout: float | None, settle: float | None = None,
                 clock=None, debug=None, log=None) -> None:
        from datetime import datetime, timedelta, timezone

        from probectl.core import metrics

        self.conn = conn
        self.scopes: list[str | None] = list(namespaces) if namespaces else [None]
        self.selector = selector
        self.listen = listen
        self.request_timeout = request_timeout
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.debug = debug
        self.log = log or sys.stderr
        self.state = metrics.MetricsState(recent=recent, max_series=max_series)
        if settle is not None:
            self.settle_after = timedelta(seconds=settle)
        else:
            self.settle_after = metrics.SETTLE
        self.health = Health()
        self.lock = threading.Lock()  # the state: the main loop writes, scrapes read
        self.httpd = None
        self.events_ok = True
        self._refreshed = 0.0

    # ------------------------------------------------------------------ HTTP

    def start_http(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from prometheus_client import (
            CONTENT_TYPE_LATEST,
            CollectorRegistry,
            ProcessCollector,
            generate_latest,
        )

        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Collector(self))
        ProcessCollector(registry=registry)
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # scrapes every 15 s are not news
                pass

            def do_GET(self):  # noqa: N802
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    try:
                        body, code, ctype = generate_latest(registry), 200, CONTENT_TYPE_LATEST
                    except Exception as e:  # noqa: BLE001 - a scrape must get an answer, never a dead socket
                        body, code, ctype = f"collecting failed: {type(e).__name__}: {e}\n".encode(), 500, "text/plain"
                elif path == "/healthz":
                    body, code, ctype = b"ok\n", 200, "text/plain; charset=utf-8"
                elif path == "/readyz":
                    ok = exporter.health.healthy_watches()
                    body, code = (b"ok\n", 200) if ok else (b"not ready: first list not done or watches failing\n", 503)
                    ctype = "text/plain; charset=utf-8"
                elif path == "/":
                    body, code, ctype = b"probectl exporter: /metrics /healthz /readyz\n", 200, "text/plain; charset=utf-8"
                else:
                    body, code, ctype = b"not found\n", 404, "text/plain; charset=utf-8"
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        host, port = self.listen
        ThreadingHTTPServer.daemon_threads = True
        try:
            if ":" in host:
                import socket

                class Server6(ThreadingHTTPServer):
                    address_family = socket.AF_INET6

                self.httpd = Server6((host, port), Handler)
            else:
                self.httpd = ThreadingHTTPServer((host, port), Handler)
        except OSError as e:
            raise UsageError(f"--listen {host}:{port}: {e.strerror or e}") from None
        threading.Thread(target=self.httpd.serve_forever, daemon=True, name="http").start()

    @property
    def address(self) -> str:
        host, port = self.httpd.server_address[:2] if self.httpd else self.listen
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"

    # ------------------------------------------------------------------ lists and watches

    def _paths(self, scope: str | None) -> tuple[str, str]:
        from probectl.sources import cluster as cl

        return (cl.pod_path(scope) if scope else "/api/v1/pods", cl.events_path(scope) if scope else "/api/v1/events")

    def run(self, stop: threading.Event) -> int:

        self.start_http()
        try:
            return self._serve(stop)
        finally:
            if self.httpd is not None:
                self.httpd.shutdown()
                self.httpd.server_close()

    def _serve(self, stop: threading.Event) -> int:
        from probectl.errors import ExitStatus
        from probectl.sources import cluster as cl
        from probectl.sources import watching

        pod_params = {"labelSelector": self.selector} if self.selector else {}
        event_params = {"fieldSelector": "involvedObject.kind=Pod"}
        streams = []
        for scope in self.scopes:
            pods_path, events_path = self._paths(scope)
            pod_client = cl.Client(self.conn, self.request_timeout, debug=self.debug)
            for pod in pod_client.list(pods_path, pod_params):
                self.state.baseline_pod(pod)
            self.health.last_list[_name("pods", scope)] = time.time()
            streams.append((pod_client, pods_path, pod_params, pod_client.list_version, _name("pods", scope)))
            event_client = cl.Client(self.conn, self.request_timeout, debug=self.debug)
            try:
                for event in event_client.list(events_path, event_params):
                    self.state.baseline_event(event)
                self.health.last_list[_name("events", scope)] = time.time()
                streams.append((event_client, events_path, event_params, event_client.list_version, _name("events", scope)))
            except cl.Forbidden as e:
                self.events_ok = False
                self.log.write(f"probectl: warning: events cannot be read ({e.message}): probe kills will be counted "
                               "by exit code and reason only\n")
        with self.lock:
            self.state.finish_baseline(self.clock())
        q: queue.Queue = queue.Queue(maxsize=10000)
        watch_stop = threading.Event()
        for client, path, params, version, name in streams:
            threading.Thread(target=watching.stream, args=(client, path, params, version, q, name, watch_stop),
                             kwargs={"give_up": None, "on": self.health.listener(name)}, daemon=True,
                             name=f"watch-{name}").start()
        self.health.ready = True
        where = "all namespaces" if self.scopes == [None] else "namespaces " + ",".join(s for s in self.scopes if s)
        self.log.write(f"probectl exporter: serving http://{self.address}/metrics for {where} "
                       f"({len(self.state.pods)} pods, {self.conn.target.where()})\n")
        self.log.flush()
        try:
            while not stop.is_set():
                try:
                    item = q.get(timeout=0.25)
                except queue.Empty:
                    item = None
                with self.lock:
                    if item is not None:
                        self._apply(*item)
                    self._tick()
            return ExitStatus.OK
        finally:
            watch_stop.set()

    def _apply(self, name: str, kind: str, obj) -> None:
        now = self.clock()
        resource, _, scope = name.partition(":")
        if kind == "FATAL":  # not with give_up=None; kept for safety
            raise obj
        if resource == "pods":
            if kind == "DELETED":
                self.state.pod_deleted(obj, now)
            elif kind == "RELIST":
                self.state.relist_pods(obj, now, namespace=scope or None)
                self.health.last_list[name] = time.time()
            else:
                self.state.pod_update(obj, now)
        else:
            if kind == "DELETED":
                self.state.event_deleted(obj, now)
            elif kind == "RELIST":
                self.state.relist_events(obj, now, namespace=scope or None)
                self.health.last_list[name] = time.time()
            else:
                self.state.event_update(obj, now)

    def _tick(self) -> None:
        now = self.clock()
        self.state.settle(now, after=self.settle_after)
        if time.monotonic() - self._refreshed >= REFRESH_EVERY:
            self._refreshed = time.monotonic()
            self.state.refresh(now)


def _name(resource: str, scope: str | None) -> str:
    return f"{resource}:{scope}" if scope else resource


class _Collector:
    """Reads the state at scrape time (under the exporter's lock)."""

    def __init__(self, exporter: Exporter) -> None:
        self.exporter = exporter

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        from probectl import __version__
        from probectl.core import metrics as m

        ex = self.exporter
        with ex.lock:
            restarts = ex.state.restart_samples()
            problems = ex.state.problem_samples()
            stats = ex.state.stats()
            counted = ex.state.terminations_counted
        h = ex.health
        with h.lock:
            reconnects, relists = dict(h.reconnects), dict(h.relists)
            watch_events, api_errors, last_list = dict(h.watch_events), dict(h.api_errors), dict(h.last_list)

        c = CounterMetricFamily(m.RESTARTS.removesuffix("_total"),
                                "Container terminations seen while the exporter ran, each counted once, by the cause "
                                "probectl's engine gives it.", labels=m.RESTART_LABELS)
        for labels, n in restarts.items():
            c.add_metric(list(labels), n)
        yield c
        g = GaugeMetricFamily(m.PROBLEM_PODS, "Pods whose current verdict is a finding (the set 'probectl scan' "
                                              "reports), by workload, cause and severity.", labels=m.PROBLEM_LABELS)
        for labels, n in problems.items():
            g.add_metric(list(labels), n)
        yield g
        info = GaugeMetricFamily("probectl_exporter_build_info", "The running probectl version (always 1).",
                                 labels=["version", "python"])
        info.add_metric([__version__, ".".join(map(str, sys.version_info[:3]))], 1)
        yield info
        yield GaugeMetricFamily("probectl_exporter_ready", "1 once the first lists are done and the watches are open.",
                                value=1 if h.healthy_watches() else 0)
        for name, doc, values in (
                ("probectl_exporter_watch_reconnects", "Watch connections opened again (server timeout, dropped "
                                                       "connection).", reconnects),
                ("probectl_exporter_relists", "Lists taken again after 410 Gone (the watch fell too far behind).", relists),
                ("probectl_exporter_watch_events", "Watch events read (pods and Kubernetes events).", watch_events)):
            fam = CounterMetricFamily(name, doc, labels=["resource"])
            for resource, n in sorted(values.items()):
                fam.add_metric([resource], n)
            yield fam
        fam = CounterMetricFamily("probectl_exporter_api_errors", "Failed API requests by HTTP status ('transport' when "
                                                                  "no answer came).", labels=["code"])
        for code, n in sorted(api_errors.items()):
            fam.add_metric([code], n)
        yield fam
        fam = GaugeMetricFamily("probectl_exporter_last_list_timestamp_seconds", "When each resource was last listed "
                                                                               "successfully (Unix time).", labels=["resource"])
        for resource, t in sorted(last_list.items()):
            fam.add_metric([resource], t)
        yield fam
        yield GaugeMetricFamily("probectl_exporter_pods", "Pods tracked (state is dropped with deleted pods).",
                                value=stats["pods"])
        yield GaugeMetricFamily("probectl_exporter_series", "Series of the two probectl_ families exposed (bounded by "
                                                            "--max-series).", value=stats["series"])
        yield CounterMetricFamily("probectl_exporter_dropped_series", "Series not exposed because --max-series was "
                                                                      "reached (each counted once).",
                                  value=stats["dropped_series"])
        yield CounterMetricFamily("probectl_exporter_terminations", "Container terminations counted (before the "
                                                                    "--max-series cap).", value=counted)


def exporter(
    namespace: str | None = typer.Option(None, "-n", "--namespace", help="Watch one namespace (default: all)."),
    namespaces: str | None = typer.Option(None, "--namespaces", help="Watch these namespaces: shop,pay."),
    all_namespaces: bool = typer.Option(False, "-A", "--all-namespaces", help="Watch every namespace (the default)."),
    selector: str | None = typer.Option(None, "-l", "--selector", help="Label selector for the pods."),
    listen: str = typer.Option(DEFAULT_LISTEN, "--listen", help="HOST:PORT to serve on (':PORT': every interface)."),
    max_series: int = typer.Option(10_000, "--max-series", min=1,
                                   help="At most this many probectl_ series; new ones beyond are dropped and counted."),
    recent: str = options.RECENT,
    context: str | None = options.CONTEXT,
    kubeconfig: str | None = options.KUBECONFIG,
    request_timeout: str | None = options.REQUEST_TIMEOUT,
    debug: bool = options.DEBUG,
) -> int:
    import signal

    from probectl.sources import cluster as cl

    address = parse_listen(listen)
    recent_window = options.parse_duration(recent, "--recent")
    chosen = [n.strip() for n in (namespaces or "").split(",") if n.strip()]
    if sum(bool(x) for x in (namespace, chosen, all_namespaces)) > 1:
        raise UsageError("choose one of -n, --namespaces and -A")
    scopes = [namespace] if namespace else chosen or None
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        raise ProbectlError("the exporter needs the prometheus-client package: pip install prometheus-client") from None
    conn = cl.connect(kubeconfig, context, namespace)
    ex = Exporter(conn, namespaces=scopes, selector=selector, listen=address, max_series=max_series,
                  recent=recent_window, request_timeout=cl.parse_timeout(request_timeout),
                  debug=sys.stderr if debug else None)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())  # the kubelet stops the pod: end cleanly, exit 0
    return ex.run(stop)


def register(app: typer.Typer) -> None:
    app.command("exporter", help=HELP)(exporter)
