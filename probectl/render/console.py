"""One place that decides colour, width and borders, and renders to a string.

Renderers build rich renderables and call `to_text`; the CLI writes the string in one
go, so an error never leaves half a report on the screen.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Style:
    """How output may look: decided once from the stream, flags and environment."""

    color: bool = False
    unicode: bool = False
    width: int = 100
    # the width is the reader's (a terminal's, or COLUMNS): line formats (lint's text, watch)
    # wrap to it; in a pipe or a CI log with no COLUMNS they keep one line per entry for grep
    # and problem matchers
    fits: bool = True

    @classmethod
    def detect(cls, stream, *, no_color: bool = False, environ=None) -> Style:
        env = os.environ if environ is None else environ
        try:
            tty = bool(stream.isatty())
        except (AttributeError, ValueError):
            tty = False
        force = env.get("FORCE_COLOR", "") not in ("", "0")
        color = (tty or force) and not no_color and not env.get("NO_COLOR") and env.get("TERM") != "dumb"
        width = 120  # not a terminal: wide enough for CI logs, COLUMNS overrides
        columns = env.get("COLUMNS", "")
        fits = tty
        if columns.isdigit() and 40 <= int(columns) <= 400:
            width, fits = int(columns), True
        elif tty:
            try:
                width = max(60, min(os.get_terminal_size(stream.fileno()).columns, 400))
            except (OSError, AttributeError, ValueError):
                pass
        return cls(color=color, unicode=tty and env.get("TERM") != "dumb", width=width, fits=fits)

    @property
    def line_width(self) -> int:
        """Where a line format (one entry per finding) wraps: the reader's width, else never."""
        return self.width if self.fits else 1 << 30


def box_for(style: Style):
    from rich import box

    return box.ROUNDED if style.unicode else box.ASCII


def to_text(renderables, style: Style) -> str:
    """Render rich renderables to one string; no markup, emoji or highlighting anywhere."""
    from rich.console import Console

    buf = io.StringIO()
    console = Console(
        file=buf,
        width=style.width,
        force_terminal=style.color,
        color_system="standard" if style.color else None,
        no_color=not style.color,
        markup=False,
        emoji=False,
        highlight=False,
        legacy_windows=False,
        soft_wrap=False,
        force_jupyter=False,
        force_interactive=False,
    )
    for r in renderables:
        console.print(r)
    text = buf.getvalue()
    if not style.color:  # rich pads cells to the column width: drop the trailing blanks
        text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text
