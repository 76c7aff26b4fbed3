"""JSON read incrementally: the items of a List one at a time, whatever the file's size.

kubectl's `get -o json` of a big cluster is one document of hundreds of MB (10,000 pods:
about 180 MB; 50,000: about 900 MB), and `cluster-info dump` without a directory writes
many documents in a row with log text between them. Parsed whole, the bytes, the text
and the tree are all alive at once. Here the text is read in blocks; a top-level object
is taken apart member by member, and the members of its `items` array are each parsed
by the standard library's C decoder (`JSONDecoder.raw_decode`) and handed over at once,
so memory holds one item and one block, not the document. Results are those of
`json.loads`: same types, same acceptance (NaN included), later duplicate keys winning.

What is bounded: one value that is not streamed (an item, or a member of a top-level
object other than `items`) may be at most MAX_OBJECT characters: an API object is at
most 1.5 MiB in etcd, so more is not kubectl output.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterator
from typing import BinaryIO

from probectl.jsonio import TooDeep

BLOCK = 1 << 20  # bytes read at a time
MAX_OBJECT = 64 * 1024 * 1024  # characters of one value parsed whole
_WS = re.compile(r"[ \t\n\r]*")
_decode = json.JSONDecoder().raw_decode


class TooLarge(ValueError):
    """One value is larger than MAX_OBJECT."""


class Syntax(ValueError):
    """Not valid JSON, at (line, column) of the whole input."""

    def __init__(self, msg: str, line: int, column: int):
        super().__init__(f"line {line}, column {column}: {msg}")
        self.msg, self.line, self.column = msg, line, column


class Reader:
    """Text read in blocks from a binary stream (UTF-8, invalid bytes replaced), with a
    cursor; what lies before the cursor is dropped as the window moves on."""

    def __init__(self, stream: BinaryIO, head: bytes = b""):
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.buf = self.decoder.decode(head)
        self.pos = 0
        self.eof = False
        self.line = 1  # line and column of buf[0] in the whole input, for error messages
        self.column = 1

    # ---------------------------------------------------------------- the window

    def more(self) -> bool:
        """Read one more block; False at the end of the input."""
        if self.eof:
            return False
        if self.pos > BLOCK:  # drop what has been read (keeps the window about a block or two)
            self._advance(self.pos)
        data = self.stream.read(BLOCK)
        if not data:
            self.eof = True
            self.buf += self.decoder.decode(b"", final=True)
            return False
        self.buf += self.decoder.decode(data)
        return True

    def _advance(self, n: int) -> None:
        dropped = self.buf[:n]
        lines = dropped.count("\n")
        if lines:
            self.line += lines
            self.column = n - dropped.rfind("\n")
        else:
            self.column += n
        self.buf = self.buf[n:]
        self.pos -= n

    def where(self, pos: int) -> tuple[int, int]:
        nl = self.buf.count("\n", 0, pos)
        if nl:
            return self.line + nl, pos - self.buf.rfind("\n", 0, pos)
        return self.line, self.column + pos

    def error(self, msg: str, pos: int | None = None) -> Syntax:
        return Syntax(msg, *self.where(self.pos if pos is None else pos))

    # ---------------------------------------------------------------- tokens

    def peek(self) -> str:
        """The next character after whitespace ('' at the end of the input)."""
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            found = self.buf[self.pos] if self.pos < len(self.buf) else "the end of the input"
            raise self.error(f"expecting {ch!r}, found {found!r}")
        self.pos += 1

    def value(self):
        """One whole JSON value at the cursor (after whitespace)."""
        if not self.peek():
            raise self.error("expecting a value, found the end of the input")
        start = self.pos
        while True:
            try:
                obj, end = _decode(self.buf, start)
            except json.JSONDecodeError as e:
                if not self.eof and (e.msg.startswith("Unterminated string") or e.pos >= len(self.buf) - 64):
                    self._grow(start)  # cut off by the end of the window: read on
                    start = self.pos
                    continue
                raise self.error(e.msg, e.pos) from None
            except RecursionError:
                raise TooDeep() from None
            if end >= len(self.buf) - 64 and not self.eof:
                self._grow(start)  # a number may go on in the next block: read on and parse again
                start = self.pos
                continue
            self.pos = end
            return obj

    def _grow(self, start: int) -> None:
        self.pos = start
        if len(self.buf) - start > MAX_OBJECT:
            raise TooLarge(f"a single object larger than {MAX_OBJECT // 2**20} MiB")
        self.more()

    def skip_line(self) -> None:
        """Past the next newline (resynchronising after a broken document)."""
        while True:
            nl = self.buf.find("\n", self.pos)
            if nl >= 0:
                self.pos = nl + 1
                return
            self.pos = len(self.buf)
            if not self.more():
                return

    def find(self, ch: str) -> str | None:
        """Move to the next `ch`; returns the text skipped on the way (None at the end),
        at most the first 4 KiB of it."""
        skipped = ""
        while True:
            at = self.buf.find(ch, self.pos)
            if at >= 0:
                if len(skipped) < 4096:
                    skipped += self.buf[self.pos:at][:4096]
                self.pos = at
                return skipped
            if len(skipped) < 4096:
                skipped += self.buf[self.pos:][:4096]
            self.pos = len(self.buf)
            if not self.more():
                return None


def read_object(r: Reader, on_item: Callable[[object, dict], None]) -> dict:
    """A top-level object at the cursor, member by member. The elements of an `items`
    array go to on_item(element, members so far) one at a time as they are parsed (the
    returned dict then has no `items`, and `rest["\\0items"]` counts them); every other
    member is in the dict."""
    rest: dict = {}
    r.expect("{")
    if r.peek() == "}":
        r.pos += 1
        return rest
    while True:
        if r.peek() != '"':
            raise r.error("expecting a property name enclosed in double quotes")
        key = r.value()
        r.expect(":")
        if key == "items" and r.peek() == "[":
            rest.pop("items", None)
            rest["\0items"] = _read_items(r, lambda item: on_item(item, rest))
        else:
            rest[key] = r.value()
        if _closed(r, "}"):
            return rest


def _closed(r: Reader, close: str) -> bool:
    """After a member: True at the closing bracket, False at a comma; anything else is an error."""
    ch = r.peek()
    r.pos += 1
    if ch == close:
        return True
    if ch != ",":
        raise r.error(f"expecting ',' or {close!r}, found {ch or 'the end of the input'!r}", r.pos - 1)
    return False


def _read_items(r: Reader, on_item: Callable[[object], None]) -> int:
    n = 0
    r.expect("[")
    if r.peek() == "]":
        r.pos += 1
        return 0
    while True:
        on_item(r.value())
        n += 1
        if _closed(r, "]"):
            return n


def documents(r: Reader) -> Iterator[str]:
    """Positions the reader at each top-level JSON object in turn (`{`), the way
    `kubectl cluster-info dump` writes them to stdout: objects one after another, with
    "==== START logs ..." blocks between them. Yields the text skipped before each (up
    to 4 KiB). The caller parses the object; a broken one is skipped by skip_line()."""
    while True:
        skipped = r.find("{")
        if skipped is None:
            return
        yield skipped
