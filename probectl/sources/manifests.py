"""Manifests for `probectl lint`: every object of JSON or YAML files, directories,
multi-document YAML and rendered Helm output on stdin, with the file it came from and
where each of its fields is (line and column, for findings, SARIF and GitHub annotations).

Positions come from the YAML node tree the reader composes anyway. JSON is read as JSON;
its positions come from composing it as the YAML it also is, up to
files.JSON_POSITIONS_MAX (beyond that, or for concatenated JSON, findings point at the
document's first line).
"""

from __future__ import annotations

import os
import sys

from probectl.core.lint import Located, Position
from probectl.errors import InputError
from probectl.sources import files as f


def load(paths: list[str], stdin=None) -> list[Located]:
    out: list[Located] = []
    for path in paths:
        if path == "-":
            stream = stdin if stdin is not None else sys.stdin
            data = stream.read()
            _add(out, data.encode() if isinstance(data, str) else data, "<stdin>")
        elif os.path.isdir(path):
            found = False
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames.sort()
                for name in sorted(filenames):
                    if name.endswith(f.EXTENSIONS):
                        found = True
                        _add(out, f.read_file(os.path.join(dirpath, name)), os.path.join(dirpath, name), explicit=False)
            if not found:
                raise InputError(f"{path}: no .json or .yaml files in this directory")
        else:
            _add(out, f.read_file(path), path)
    return out


def load_text(text: str, where: str = "<manifest>") -> list[Located]:
    """The objects of JSON or YAML text (one or more documents), as load() reads a file."""
    out: list[Located] = []
    _add(out, text.encode(), where)
    return out


def _add(out: list[Located], data: bytes, where: str, explicit: bool = True) -> None:
    if not data.strip():
        if explicit:
            raise InputError(f"{where}: empty input")
        return
    first = data.lstrip()[:1]
    before = len(out)
    if first in (b"{", b"["):
        docs = list(f._documents(data, where))
        positions = f.json_positions(data.decode("utf-8", errors="replace")) if len(docs) == 1 else {}
        for doc in docs:
            _expand(out, doc, where, positions or {(): (1, 1)})
    else:
        for doc, positions in f.yaml_documents_with_positions(data.decode("utf-8", errors="replace"), where):
            _expand(out, doc, where, positions)
    if explicit and len(out) == before:
        raise InputError(f"{where}: holds no Kubernetes objects")


def _expand(out: list[Located], doc, where: str, positions: dict[tuple, Position]) -> None:
    if doc is None:
        return
    if not isinstance(doc, dict):
        raise InputError(f"{where}: expected a Kubernetes object, found a {type(doc).__name__}")
    kind = doc.get("kind")
    start = positions.get((), (1, 1))
    if isinstance(kind, str) and (kind == "List" or kind.endswith("List")) and isinstance(doc.get("items"), list):
        child = kind[:-4] if kind.endswith("List") and kind != "List" else ""
        by_item = _items(positions)
        for i, item in enumerate(doc["items"]):
            if isinstance(item, dict):
                if child and "kind" not in item:
                    item = dict(item, kind=child)
                # an item without positions (not composed): its List's start
                _expand(out, item, where, by_item.get(i) or {(): start})
        return
    out.append(Located(doc, where, start[0], positions))


def _items(positions: dict[tuple, Position]) -> dict[int, dict[tuple, Position]]:
    """A List's positions split by item, each relative to its item (one pass, not one per item)."""
    out: dict[int, dict[tuple, Position]] = {}
    for path, at in positions.items():
        if len(path) >= 2 and path[0] == "items" and isinstance(path[1], int):
            out.setdefault(path[1], {})[path[2:]] = at
    return out
