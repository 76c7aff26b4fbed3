"""Neutralise untrusted text (cluster data) before it reaches a terminal.

Every string that came from the cluster passes through `clean` where it enters a
renderer meant for a terminal. Rich's `Text` stops markup but lets ESC, CSI/OSC, DEL
and C1 through; this turns them into visible escapes instead.
"""

from __future__ import annotations

import re

# C0 controls except TAB and LF, DEL, C1 controls.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")
# Bidi overrides/isolates and zero-width characters: they make text read other than it is.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _caret(m: re.Match) -> str:
    ch = ord(m.group())
    if ch < 0x20:
        return "^" + chr(ch + 0x40)  # ESC -> ^[, BEL -> ^G, CR -> ^M
    if ch == 0x7F:
        return "^?"
    return f"\\x{ch:02x}"


def clean(text: object, *, oneline: bool = False) -> str:
    """`text` with control, bidi and zero-width characters made visible.

    `oneline` also folds newlines and tabs into spaces (table cells, headings).
    """
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    if oneline:
        s = s.replace("\r\n", "\n").replace("\n", " ").replace("\t", " ")
    s = _CONTROLS.sub(_caret, s)
    return _INVISIBLE.sub(lambda m: f"<U+{ord(m.group()):04X}>", s)


def truncate(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"
