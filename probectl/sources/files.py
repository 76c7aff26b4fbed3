"""Read what kubectl wrote: JSON or YAML of a Pod, a PodList, an Event, an EventList
(core/v1 or events.k8s.io/v1), a `List` of any of these, concatenated documents, a
directory written by `kubectl cluster-info dump --output-directory`, or standard input.

Produces the same raw dicts the API server returns. Items of typed lists (PodList,
EventList: what `cluster-info dump` and the API write) carry no `kind`; it is inferred.

JSON is read incrementally (sources/jsonstream.py): the items of a List are parsed and
handed over one at a time, so a dump of any size is read in bounded memory. YAML is
read as whole documents, up to MAX_YAML_BYTES.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from probectl.core.objects import compact_pod
from probectl.errors import InputError
from probectl.jsonio import TooDeep, loads
from probectl.sources import jsonstream

MAX_YAML_BYTES = 512 * 1024 * 1024  # YAML (and lint's manifests) are read whole; JSON is streamed
_MISSING = object()
EXTENSIONS = (".json", ".yaml", ".yml")
POD_KINDS = {"Pod"}
EVENT_KINDS = {"Event"}
# what `why KIND/NAME` and scan's workload pass read (cluster-info dump writes
# deployments.json, replicasets.json, daemonsets.json as typed Lists)
WORKLOAD_KINDS = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob"}
_ITEM_KIND = {"PodList": "Pod", "EventList": "Event", **{k + "List": k for k in WORKLOAD_KINDS}}


@dataclass
class Snapshot:
    """Objects read from files: pods, events and workloads as raw dicts."""

    pods: list[dict] = field(default_factory=list)
    workloads: list[dict] = field(default_factory=list)  # compacted (core.workload.compact_workload), kinds filled in
    events: list[dict] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # kind -> count of objects ignored
    on_event: Callable[[dict], None] | None = None  # stream events here instead of keeping them (scan)
    on_pod: Callable[[dict], None] | None = None  # stream (compacted) pods here instead of keeping them (scan)
    event_count: int = 0
    pod_count: int = 0
    empty_lists: int = 0  # empty Lists, PodLists and EventLists: valid input ("no events")

    def add(self, obj: dict, inferred_kind: str = "") -> None:
        kind = obj.get("kind") if isinstance(obj.get("kind"), str) else inferred_kind
        if kind in POD_KINDS:
            self.pod_count += 1
            if self.on_pod is not None:
                self.on_pod(compact_pod(obj))
            else:
                self.pods.append(compact_pod(obj))
        elif kind in WORKLOAD_KINDS:
            from probectl.core.workload import compact_workload

            self.workloads.append(compact_workload(obj, kind))
        elif kind in EVENT_KINDS:
            self.event_count += 1
            if self.on_event is not None:
                self.on_event(obj)
            else:
                self.events.append(obj)
        elif kind.endswith("List") or kind == "List":
            items = obj.get("items")
            if items is None:
                return
            if not isinstance(items, list):
                raise InputError(f"a {kind} whose items is not a list")
            child = _ITEM_KIND.get(kind, "")
            if not items and (child or kind == "List"):
                # `kubectl get events -o json` on a pod without events writes an empty List
                self.empty_lists += 1
            for item in items:
                if isinstance(item, dict):
                    self.add(item, child)
        else:
            self.skipped[kind or "(no kind)"] = self.skipped.get(kind or "(no kind)", 0) + 1


def load(paths: list[str], stdin=None, on_event: Callable[[dict], None] | None = None,
         on_pod: Callable[[dict], None] | None = None) -> Snapshot:
    """Read every path (`-` is standard input). Raises InputError with a one-line message.

    With `on_event` and `on_pod`, events and (compacted) pods are handed over one by one
    as they are parsed and not kept: a scan indexes the events and spools the pods, and
    memory holds one item at a time, not the input."""
    snap = Snapshot(on_event=on_event, on_pod=on_pod)
    for path in paths:
        if path == "-":
            stream = stdin if stdin is not None else sys.stdin
            binary = getattr(stream, "buffer", None)
            if binary is None:  # a text stream (tests, a StringIO)
                data = stream.read()
                binary = io.BytesIO(data.encode("utf-8", errors="surrogatepass") if isinstance(data, str) else data)
            _load_stream(snap, binary, "standard input", explicit=True)
        elif os.path.isdir(path):
            _load_dir(snap, path)
        else:
            _load_file(snap, path, explicit=True)
        snap.sources.append(path)
    return snap


def load_data(data: bytes | str, where: str) -> Snapshot:
    """Objects from text already in memory (bundled data), with the same checks as a file."""
    snap = Snapshot()
    _load_text(snap, data, where, explicit=True)
    snap.sources.append(where)
    return snap


def _load_dir(snap: Snapshot, root: str) -> None:
    found = False
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(EXTENSIONS):
                found = True
                _load_file(snap, os.path.join(dirpath, name), explicit=False)
    if not found:
        raise InputError(f"{root}: no .json or .yaml files in this directory")


def _open(path: str):
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file or directory") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from None


def _load_file(snap: Snapshot, path: str, explicit: bool) -> None:
    with _open(path) as f:
        try:
            _load_stream(snap, f, path, explicit, refuse_binary=True)
        except OSError as e:
            raise InputError(f"{path}: cannot read: {e.strerror or e}") from None


def read_file(path: str) -> bytes:
    """A file's bytes, refusing what is too large or binary (from its head) with a clear line.
    For inputs read whole (lint's manifests); scan and why stream JSON instead."""
    with _open(path) as f:
        try:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_YAML_BYTES:
                raise InputError(f"{path}: {size // 2**20} MiB is larger than probectl reads whole ({MAX_YAML_BYTES // 2**20} MiB)")
            head = f.read(8192)
            if b"\x00" in head:
                raise InputError(f"{path}: binary data, not kubectl JSON or YAML")
            return head + f.read()
        except OSError as e:
            raise InputError(f"{path}: cannot read: {e.strerror or e}") from None


def _load_text(snap: Snapshot, data: str | bytes, where: str, explicit: bool) -> None:
    """Objects from text in memory: the same path as a stream."""
    raw = data.encode("utf-8", errors="surrogatepass") if isinstance(data, str) else data
    _load_stream(snap, io.BytesIO(raw), where, explicit)


def _load_stream(snap: Snapshot, stream, where: str, explicit: bool, refuse_binary: bool = False) -> None:
    """One input: JSON streamed object by object (and item by item), YAML read whole."""
    head = stream.read(8192)
    if refuse_binary and b"\x00" in head:
        raise InputError(f"{where}: binary data, not kubectl JSON or YAML")
    while not head.strip():  # only whitespace so far: the first character decides JSON or YAML
        more = stream.read(1 << 16)
        if not more:
            raise InputError(f"{where}: empty input")
        head = head.strip() + more
    first = head.lstrip()[:1]
    before = (snap.pod_count, snap.event_count, snap.empty_lists, len(snap.workloads))
    if first in (b"{", b"["):
        _load_json(snap, jsonstream.Reader(stream, head), where)
    else:
        data = head + stream.read(max(0, MAX_YAML_BYTES + 1 - len(head)))
        if len(data) > MAX_YAML_BYTES:
            raise InputError(f"{where}: YAML larger than {MAX_YAML_BYTES // 2**20} MiB is not read (YAML is read whole); "
                             "use JSON (kubectl -o json), which is read item by item")
        for doc in _yaml_documents(data.decode("utf-8", errors="replace"), where):
            if doc is None:
                continue
            if not isinstance(doc, dict):
                raise InputError(f"{where}: expected a Kubernetes object, found a {type(doc).__name__}")
            snap.add(doc)
    if explicit and (snap.pod_count, snap.event_count, snap.empty_lists, len(snap.workloads)) == before:
        kinds = ", ".join(sorted(snap.skipped)) or "nothing"
        raise InputError(f"{where}: holds no Pod, Event or workload (found {kinds}); probectl reads Pods, Events, "
                         "Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs and their Lists")


def _load_json(snap: Snapshot, r: jsonstream.Reader, where: str) -> None:
    """JSON objects one after another (one, usually; `cluster-info dump` writes many, with
    log blocks between them), each List's items handed over as they are parsed."""
    try:
        _load_json_objects(snap, r, where)
    except TooDeep as e:
        raise InputError(f"{where}: {e}") from None


def _load_json_objects(snap: Snapshot, r: jsonstream.Reader, where: str) -> None:
    if r.peek() == "[":
        try:
            value = r.value()
            trailing = r.peek()
        except (jsonstream.Syntax, jsonstream.TooLarge):
            raise InputError(f"{where}: not valid JSON") from None
        if trailing:
            raise InputError(f"{where}: not valid JSON")
        raise InputError(f"{where}: expected a Kubernetes object, found a {type(value).__name__}")
    found = 0
    for skipped in jsonstream.documents(r):
        if found == 0 and skipped.strip() and not skipped.lstrip().startswith("===="):
            raise InputError(f"{where}: not valid JSON")
        try:
            _read_object(snap, r)
        except jsonstream.TooLarge as e:
            raise InputError(f"{where}: {e}: not kubectl output (an API object is at most 1.5 MiB)") from None
        except jsonstream.Syntax as e:
            if found == 0:
                raise InputError(f"{where}: not valid JSON ({e})") from None
            r.skip_line()  # a brace inside a log block: on to the next line
            continue
        found += 1


def _read_object(snap: Snapshot, r: jsonstream.Reader) -> None:
    """One top-level object into the snapshot, as Snapshot.add would take it whole. A List's
    items go in as they are parsed; items without a kind wait for the List's kind when it
    comes after them (kubectl's own `get -o json` puts it last, but its items have kinds)."""
    pending: list[dict] = []  # kind-less items before the List's kind is known
    whole: list = []  # items of an object that is no List (its kind came first): kept for add()
    state = {"mode": ""}

    def item(obj, members: dict) -> None:
        if not state["mode"]:
            kind = members.get("kind", _MISSING)
            if kind is _MISSING:
                state["mode"] = "unknown"
            else:
                k = kind if isinstance(kind, str) else ""
                state["mode"] = "list" if (k.endswith("List") or k == "List") else "whole"
                state["child"] = _ITEM_KIND.get(k, "")
        mode = state["mode"]
        if mode == "whole":
            whole.append(obj)
        elif not isinstance(obj, dict):
            return
        elif mode == "list":
            snap.add(obj, state["child"])
        elif isinstance(obj.get("kind"), str):
            snap.add(obj)  # describes itself
        else:
            pending.append(obj)

    rest = jsonstream.read_object(r, item)
    count = rest.pop("\0items", None)
    if count is None:  # no items array: the object as it is
        snap.add(rest)
        return
    if state["mode"] == "whole":
        snap.add({**rest, "items": whole})
        return
    kind = rest.get("kind") if isinstance(rest.get("kind"), str) else ""
    if kind.endswith("List") or kind == "List":
        child = _ITEM_KIND.get(kind, "")
        if count == 0 and (child or kind == "List"):
            snap.empty_lists += 1  # `kubectl get events -o json` on a pod without events writes an empty List
        for obj in pending:
            snap.add(obj, child)
    elif state["mode"] != "list":
        snap.add({**rest, "items": pending})  # not a List after all: counted as what it is


def _documents(data: str | bytes, where: str):
    first = data.lstrip()[:1]
    if first in ("{", "[", b"{", b"["):
        try:
            doc = loads(data)
        except TooDeep as e:
            raise InputError(f"{where}: {e}") from None
        except ValueError:
            text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
            if first in ("{", b"{"):
                yield from _concatenated_json(text, where)
                return
            raise InputError(f"{where}: not valid JSON") from None
        yield doc
        return
    yield from _yaml_documents(data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data, where)


def _concatenated_json(data: str, where: str):
    """Several JSON objects in a row, as `kubectl cluster-info dump` writes to stdout (with
    "==== START logs ..." blocks between them, which are skipped)."""
    decoder = json.JSONDecoder()
    i, n, found = 0, len(data), 0
    while i < n:
        j = data.find("{", i)
        if j < 0:
            break
        if data[i:j].strip() and found == 0 and not data[i:j].lstrip().startswith("===="):
            raise InputError(f"{where}: not valid JSON")
        try:
            obj, end = decoder.raw_decode(data, j)
        except RecursionError:
            raise InputError(f"{where}: {TooDeep()}") from None
        except json.JSONDecodeError as e:
            if found == 0:
                raise InputError(f"{where}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
            # a brace inside a log block: skip to the next line
            nl = data.find("\n", j)
            i = n if nl < 0 else nl + 1
            continue
        found += 1
        yield obj
        i = end


def _yaml_documents(data: str, where: str):
    for doc, _line in yaml_documents(data, where):
        yield doc


def yaml_documents(text: str, where: str):
    """YAML documents with the line each starts on."""
    for doc, node in _yaml_nodes(text, where):
        yield doc, (node.start_mark.line + 1 if node is not None else 1)


def yaml_documents_with_positions(text: str, where: str):
    """YAML documents, each with `positions(node)`: where every key and item starts."""
    for doc, node in _yaml_nodes(text, where):
        yield doc, (positions(node) if node is not None else {})


def _loader_class():
    import yaml

    class _NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise yaml.composer.ComposerError(None, None, "YAML aliases are not accepted", event.start_mark)
            return super().compose_node(parent, index)

    return _NoAliasLoader


def _yaml_nodes(text: str, where: str):
    """(document, composed node) for each YAML document. kubectl never writes aliases:
    refusing them stops alias bombs."""
    import yaml

    loader = None
    try:
        loader = _loader_class()(text)  # the reader already refuses some characters here
        while loader.check_node():
            node = loader.get_node()
            yield loader.construct_document(node), node
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(e, "problem", None) or "invalid"
        raise InputError(f"{where}: neither JSON nor valid YAML{at}: {problem}") from None
    except RecursionError:  # the YAML composer and constructor recurse once per level
        raise InputError(f"{where}: {TooDeep()}") from None
    finally:
        if loader is not None:
            loader.dispose()


# --------------------------------------------------------------------------- positions

Position = tuple[int, int]  # (line, column), both from 1
JSON_POSITIONS_MAX = 1024 * 1024  # larger JSON: findings point at the document start


def positions(node) -> dict[tuple, Position]:
    """Where each part of a composed YAML document starts: a path tuple such as
    ('spec', 'template', 'spec', 'containers', 0, 'livenessProbe', 'failureThreshold')
    -> (line, column) of that key (of the item, for a list index); () is the document.
    A key given twice counts where it was last given, as its value does."""
    import yaml

    def at(n) -> Position:
        return n.start_mark.line + 1, n.start_mark.column + 1

    out: dict[tuple, Position] = {(): at(node)}
    stack = [((), node)]
    while stack:
        path, n = stack.pop()
        if isinstance(n, yaml.MappingNode):
            last = {k.value: (k, v) for k, v in n.value if isinstance(k, yaml.ScalarNode)}
            for key, (k, v) in last.items():
                out[(*path, key)] = at(k)
                if not isinstance(v, yaml.ScalarNode):
                    stack.append(((*path, key), v))
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                out[(*path, i)] = at(v)
                if not isinstance(v, yaml.ScalarNode):
                    stack.append(((*path, i), v))
    return out


def json_positions(text: str) -> dict[tuple, Position]:
    """`positions` for one JSON document, read as the YAML it also is; {} when it is larger
    than JSON_POSITIONS_MAX or does not compose as YAML (the caller keeps the values it
    parsed as JSON either way). Valid JSON holds no aliases, so libyaml may compose it.
    A raw TAB can only be whitespace in valid JSON, which YAML refuses in places: it
    becomes a space (same line and column)."""
    if len(text) > JSON_POSITIONS_MAX:
        return {}
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    try:
        node = yaml.compose(text.replace("\t", " "), Loader=loader_class)
    except (yaml.YAMLError, ValueError, RecursionError):
        return {}
    return positions(node) if node is not None else {}
