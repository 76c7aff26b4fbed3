"""List, then watch: the one loop behind `probectl watch` and `probectl exporter`.

A resource is listed once (paged) and then watched from the list's resourceVersion, with
bookmarks. The loop resumes from the newest resourceVersion after a timeout or a dropped
connection, relists after 410 Gone (handing the whole new list to the consumer, who
reconciles it), and backs off on errors. Each stream runs in its own thread and puts
`(name, type, object)` on a queue: type is ADDED / MODIFIED / DELETED, "RELIST" (the
object is the new list of items) or "FATAL" (the object is the error that made it give up).

Only GET requests: lists and watches, never one request per object.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable

RECONNECT_LIMIT = 6  # consecutive failed reconnects before giving up (None: never give up)
MAX_BACKOFF = 30  # seconds between reconnects, at most


def error_code(e: Exception) -> str:
    """The HTTP status of an API error as a short label ("410", "403", "500"), or
    "transport" when no answer came (refused, reset, timed out, TLS)."""
    from probectl.sources import cluster as cl

    for cls, code in ((cl.Gone, "410"), (cl.Forbidden, "403"), (cl.NotFound, "404")):
        if isinstance(e, cls):
            return code
    m = re.search(r"\banswered (\d{3})\b", str(e))
    if m:
        return m.group(1)
    if "401 Unauthorized" in str(e):
        return "401"
    return "transport"


def stream(client, path: str, params: dict, version: str, out: queue.Queue, name: str, stop: threading.Event,
           sleep: Callable[[float], None] | None = None, *, give_up: int | None = RECONNECT_LIMIT,
           on: Callable[[str, str], None] | None = None) -> None:
    """One watched resource: reconnect after timeouts and drops, relist on 410 Gone.

    `on(what, detail)` is told what happens, for the exporter's own health metrics:
    ("watch", "") when a watch connection opens, ("event", "") per watch event read,
    ("reconnect", ""), ("relist", ""), ("listed", "") after a successful relist, and
    ("error", code) per failed request. With give_up=None it retries forever."""
    sleep = sleep or (lambda s: time.sleep(s))
    tell = on or (lambda what, detail: None)
    from probectl.sources import cluster as cl

    failures = 0
    def _failed(e, failures: int) -> bool:
        """A failed list or watch: counted, then give up (True) or back off and go on."""
        tell("error", error_code(e))
        if give_up is not None and failures >= give_up:
            out.put((name, "FATAL", e))
            return True
        sleep(min(2 ** failures, MAX_BACKOFF))
        return False

    first = True
    while not stop.is_set():
        if not first:
            tell("reconnect", "")
        first = False
        opened = time.monotonic()
        got = 0
        try:
            tell("watch", "")
            for event in client.watch(path, params, version):
                failures = 0
                got += 1
                tell("event", "")
                obj = event.get("object") or {}
                version = (obj.get("metadata") or {}).get("resourceVersion") or version
                if event.get("type") != "BOOKMARK":
                    out.put((name, event.get("type"), obj))
                if stop.is_set():
                    return
            if not got and time.monotonic() - opened < 1:
                sleep(1)  # a server or proxy that ends watches at once must not make us spin
        except cl.Gone as gone:
            tell("error", error_code(gone))
            tell("relist", "")
            try:
                items = list(client.list(path, params))
                version = client.list_version
                out.put((name, "RELIST", items))
                tell("listed", "")
                failures = 0
            except cl.ClusterError as e:
                failures += 1
                if _failed(e, failures):
                    return
        except cl.ClusterError as e:
            failures += 1
            if _failed(e, failures):
                return


def start(streams: list[tuple], out: queue.Queue, stop: threading.Event, **options) -> list[threading.Thread]:
    """One daemon thread per (client, path, params, version, name); options go to stream()."""
    threads = [threading.Thread(target=stream, args=(client, path, params, version, out, name, stop), kwargs=options,
                                daemon=True, name=f"watch-{name}")
               for client, path, params, version, name in streams]
    for t in threads:
        t.start()
    return threads
