"""JSON in and out, with orjson (a dependency) and the standard library as the fallback.

orjson parses API pages faster than the standard library and writes indented output
without the pure-Python encoder that `json.dumps(indent=...)` falls back to. It ships
wheels for every common platform; where it cannot be installed the standard library
does the same job, more slowly. Both paths give the same data (tests/test_jsonio.py and
tests/test_scan_paths.py force the fallback).
"""

from __future__ import annotations

import json

try:  # a dependency; the fallback keeps probectl working where it cannot be installed
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised by the tests with the fallback forced
    _orjson = None


class TooDeep(ValueError):
    """JSON nested deeper than the parser's recursion allows (orjson stops at 1024 levels, the
    standard library at Python's recursion limit): no Kubernetes object comes close."""

    def __init__(self) -> None:
        super().__init__("nested too deeply to be a Kubernetes object")


def loads(data: bytes | str):
    """Parse JSON; raises ValueError (json.JSONDecodeError, orjson.JSONDecodeError, or TooDeep
    for input nested too deeply to parse) on bad input."""
    if _orjson is not None:
        try:
            return _orjson.loads(data)
        except _orjson.JSONDecodeError:
            pass  # let the standard library say what is wrong (and accept what orjson refuses, e.g. NaN)
    try:
        return json.loads(data)
    except RecursionError:
        raise TooDeep() from None


def dumps_pretty(doc) -> str:
    """Indented JSON (2 spaces) with a trailing newline, non-ASCII kept, control characters escaped."""
    if _orjson is not None:
        try:
            return _orjson.dumps(doc, option=_orjson.OPT_INDENT_2).decode("utf-8") + "\n"
        except TypeError:
            pass  # an int beyond 64 bits or another type orjson refuses
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
