"""A small stand-in for the Kubernetes API server, on 127.0.0.1 only.

It serves pods, events and logs as the real API does (JSON lists without item kinds,
limit/continue paging, field selectors probectl uses, Status bodies for errors), checks
a bearer token or a client certificate, can speak TLS, answers gzip when asked, and
counts requests. Used by the end-to-end tests and the benchmarks.
"""

from __future__ import annotations

import gzip
import json
import re
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def _strip(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}


def status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


class FakeAPIServer:
    def __init__(self, pods: list[dict], events: list[dict], *, token: str | None = "t0ken", tls=None,
                 client_ca: bytes | None = None, logs: dict | None = None, latency: float = 0.0, page_size_cap: int = 500,
                 workloads: list[dict] | None = None):
        self.pods = pods
        self.events = events
        self.workloads = workloads or []  # apps/v1 and batch/v1 objects, each with its kind
        self.token = token
        self.logs = logs or {}
        self.latency = latency
        self.page_size_cap = page_size_cap
        self.requests: list[tuple[str, dict, dict]] = []  # (path, query, headers)
        self._lock = threading.Lock()
        self.forbidden: set[str] = set()  # "events", "pods/log", "pods", "deployments", "replicasets", ...
        self.slow: dict[str, float] = {}  # "path?continue=token" or "path" -> seconds to wait before answering
        self.truncate: set[str] = set()  # paths whose answers are cut short (connection closed mid-body)
        self.watch_script: dict[str, list] = {}  # path -> list of watch-event dicts or ("sleep", seconds)
        self.cache_responses = False  # benchmarks: serialise each answer once, so the server's own cost drops out
        self.cache: dict = {}
        handler = self._handler()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # a client that hangs up is not news
        self.scheme = "http"
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.configure_cert(ctx)
            if client_ca:
                ctx.verify_mode = ssl.CERT_REQUIRED
                ctx.load_verify_locations(cadata=client_ca.decode())
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    # ------------------------------------------------------------------ routing

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stalls

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # noqa: N802
                url = urlparse(self.path)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                with server._lock:
                    server.requests.append((url.path, query, dict(self.headers)))
                if server.latency:
                    time.sleep(server.latency)
                delay = server.slow.get(url.path + ("?continue=" + query["continue"] if "continue" in query else ""))
                if delay:
                    time.sleep(delay)
                if url.path in server.truncate:
                    body = json.dumps({"kind": "PodList", "items": [{"metadata": {"name": "x" * 500}}]}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body) + 4096))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if server.token is not None and self.headers.get("Authorization") != f"Bearer {server.token}":
                    return self._json(401, status(401, "Unauthorized", "Unauthorized"))
                if query.get("watch") in ("1", "true"):
                    return self._watch(url.path)
                gz = "gzip" in (self.headers.get("Accept-Encoding") or "")
                key = (url.path, tuple(sorted(query.items())), gz)
                cached = server.cache.get(key) if server.cache_responses else None
                if cached is None:
                    code, body, ctype = server.route(url.path, query)
                    data = json.dumps(body).encode() if ctype == "json" else body.encode()
                    ctype = "application/json" if ctype == "json" else "text/plain"
                    zipped = gz and len(data) > 1024
                    if zipped:
                        data = gzip.compress(data, compresslevel=1)
                    cached = (code, data, ctype, zipped)
                    if server.cache_responses:
                        server.cache[key] = cached
                self._send(*cached)

            def _watch(self, path):
                """Scripted watch events, one JSON object a line, then the server ends the watch."""
                script = server.watch_script.get(path) or [("sleep", 0.5)]
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for step in list(script):
                    if isinstance(step, tuple):
                        time.sleep(step[1])
                        continue
                    data = json.dumps(step).encode() + b"\n"
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.close_connection = True

            def _json(self, code, body):
                self._send(code, json.dumps(body).encode(), "application/json", False)

            def _send(self, code, data: bytes, ctype: str, zipped: bool):
                if zipped:
                    self.send_response(code)
                    self.send_header("Content-Encoding", "gzip")
                else:
                    self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def route(self, path: str, q: dict):
        if path in _DISCOVERY:
            return 200, _DISCOVERY[path], "json"
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/pods/([^/]+)/log", path)
        if m:
            if "pods/log" in self.forbidden:
                return 403, status(403, "Forbidden", f'pods "{m.group(2)}" is forbidden: cannot get resource "pods/log"'), "json"
            key = (m.group(1), m.group(2), q.get("container", ""), q.get("previous") == "true")
            lines = self.logs.get(key)
            if lines is None:
                return 400, status(400, "BadRequest", f'previous terminated container "{key[2]}" in pod "{key[1]}" not found'), "json"
            tail = int(q.get("tailLines", "0") or 0)
            return 200, "\n".join(lines[-tail:] if tail else lines) + "\n", "text"
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/pods/([^/]+)", path)
        if m:
            for p in self.pods:
                md = p.get("metadata", {})
                if md.get("namespace") == m.group(1) and md.get("name") == m.group(2):
                    return 200, p, "json"
            return 404, status(404, "NotFound", f'pods "{m.group(2)}" not found'), "json"
        m = re.fullmatch(r"/apis/(apps|batch)/v1(?:/namespaces/([^/]+))?/([a-z]+)(?:/([^/]+))?", path)
        if m and _WORKLOAD_KINDS.get(m.group(3), ("", ""))[0] == m.group(1):
            group, ns, plural, name = m.groups()
            kind = _WORKLOAD_KINDS[plural][1]
            if plural in self.forbidden:
                verb = "get" if name else "list"
                return 403, status(403, "Forbidden", f'{plural}.{group} is forbidden: User "system:serviceaccount:ci:probectl" '
                                                     f'cannot {verb} resource "{plural}" in API group "{group}" in the namespace "{ns}"'), "json"
            items = [o for o in self.workloads if o.get("kind") == kind
                     and (ns is None or o.get("metadata", {}).get("namespace") == ns)]
            if name:
                found = [o for o in items if o.get("metadata", {}).get("name") == name]
                if not found:
                    return 404, status(404, "NotFound", f'{plural}.{group} "{name}" not found'), "json"
                return 200, found[0], "json"
            items = [o for o in items if _labelled(o, q.get("labelSelector", ""))]
            return 200, self._page(items, q, f"{kind}List"), "json"
        m = re.fullmatch(r"/api/v1(?:/namespaces/([^/]+))?/(pods|events)", path)
        if m:
            ns, kind = m.group(1), m.group(2)
            if kind in self.forbidden:
                return 403, status(403, "Forbidden", f'{kind} is forbidden: User "system:serviceaccount:ci:probectl" '
                                                     f'cannot list resource "{kind}" in API group "" in the namespace "{ns}"'), "json"
            source = self.pods if kind == "pods" else self.events
            items = [o for o in source if ns is None or o.get("metadata", {}).get("namespace") == ns]
            items = [o for o in items if _selected(o, q.get("fieldSelector", ""))]
            if kind == "pods" and q.get("labelSelector"):
                items = [o for o in items if _labelled(o, q["labelSelector"])]
            return 200, self._page(items, q, "PodList" if kind == "pods" else "EventList"), "json"
        return 404, status(404, "NotFound", "the server could not find the requested resource"), "json"

    def _page(self, items: list[dict], q: dict, kind: str) -> dict:
        start = int(q.get("continue") or 0)
        limit = min(int(q.get("limit") or 0) or len(items) or 1, self.page_size_cap)
        page = items[start:start + limit]
        nxt = start + limit
        meta = {"resourceVersion": "4242"}
        if nxt < len(items):
            meta["continue"] = str(nxt)
            meta["remainingItemCount"] = len(items) - nxt
        return {"kind": kind, "apiVersion": "v1", "metadata": meta, "items": [_strip(i) for i in page]}


_WORKLOAD_KINDS = {"deployments": ("apps", "Deployment"), "replicasets": ("apps", "ReplicaSet"),
                   "statefulsets": ("apps", "StatefulSet"), "daemonsets": ("apps", "DaemonSet"),
                   "jobs": ("batch", "Job"), "cronjobs": ("batch", "CronJob")}


def _labelled(obj: dict, selector: str) -> bool:
    from probectl.core.scan import label_matcher

    return label_matcher(selector)(obj)


def _selected(obj: dict, selector: str) -> bool:
    for term in filter(None, selector.split(",")):
        key, _, want = term.partition("=")
        cur = obj
        for part in key.split("."):
            cur = cur.get(part) if isinstance(cur, dict) else None
        if (cur or "") != want:
            return False
    return True


# Enough discovery for kubectl (the benchmarks compare with it).
_RESOURCES = [
    {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod", "shortNames": ["po"],
     "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"], "categories": ["all"]},
    {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]},
    {"name": "events", "singularName": "event", "namespaced": True, "kind": "Event", "shortNames": ["ev"],
     "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]},
]
_DISCOVERY = {
    "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []},
    "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": _RESOURCES},
    "/version": {"major": "1", "minor": "32", "gitVersion": "v1.32.0", "platform": "linux/amd64"},
}
