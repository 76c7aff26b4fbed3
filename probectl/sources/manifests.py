"""Manifests for `probectl lint`: every object of JSON or YAML files, directories,
multi-document YAML and rendered Helm output on stdin, with the file and line it came
from (for SARIF and GitHub annotations)."""

from __future__ import annotations

import os
import sys

from probectl.errors import InputError
from probectl.sources import files as f

Located = tuple[dict, str, int]  # (object, file, line)


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


def _add(out: list[Located], data: bytes, where: str, explicit: bool = True) -> None:
    if not data.strip():
        if explicit:
            raise InputError(f"{where}: empty input")
        return
    first = data.lstrip()[:1]
    before = len(out)
    if first in (b"{", b"["):
        for doc in f._documents(data, where):
            _expand(out, doc, where, 1)
    else:
        for doc, line in f.yaml_documents(data.decode("utf-8", errors="replace"), where):
            _expand(out, doc, where, line)
    if explicit and len(out) == before:
        raise InputError(f"{where}: holds no Kubernetes objects")


def _expand(out: list[Located], doc, where: str, line: int) -> None:
    if doc is None:
        return
    if not isinstance(doc, dict):
        raise InputError(f"{where}: expected a Kubernetes object, found a {type(doc).__name__}")
    kind = doc.get("kind")
    if isinstance(kind, str) and (kind == "List" or kind.endswith("List")) and isinstance(doc.get("items"), list):
        child = kind[:-4] if kind.endswith("List") and kind != "List" else ""
        for item in doc["items"]:
            if isinstance(item, dict):
                if child and "kind" not in item:
                    item = dict(item, kind=child)
                _expand(out, item, where, line)
        return
    out.append((doc, where, line))
