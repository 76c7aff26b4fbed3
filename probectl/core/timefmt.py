"""How long, in kubectl's words: the one home of the age and duration helpers.

Every surface (the rules' evidence, why's and scan's tables, lint) formats a duration
with these, so the same span reads the same everywhere. Pure, stdlib only.
"""

from __future__ import annotations

from datetime import datetime


def human_duration(seconds: float | None) -> str:
    """kubectl's compact ages: 45s, 3m12s, 2h5m, 3d4h, 400d."""
    if seconds is None:
        return "?"
    s = int(max(0, seconds))
    if s < 120:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 10:
        return f"{m}m{s}s" if s else f"{m}m"
    if m < 60:
        return f"{m}m"
    h, m = divmod(m, 60)
    if h < 8:
        return f"{h}h{m}m" if m else f"{h}h"
    if h < 48:
        return f"{h}h"
    d, h = divmod(h, 24)
    if d < 8:
        return f"{d}d{h}h" if h else f"{d}d"
    return f"{d}d"


def elapsed(now: datetime | None, t: datetime | None, unknown: str = "") -> str:
    """The time from `t` to `now` ("5m"); `unknown` when either moment is unknown."""
    if not now or not t:
        return unknown
    return human_duration((now - t).total_seconds())


def ago(now: datetime | None, t: datetime | None, unknown: str = "") -> str:
    """ "5m ago"; `unknown` when either moment is unknown."""
    if not now or not t:
        return unknown
    return f"{human_duration((now - t).total_seconds())} ago"
