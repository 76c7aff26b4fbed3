"""Where a command's reports go: `-o FORMAT` to stdout, `--output-file PATH`, and any
number of `--report FORMAT=PATH` (PATH `-` for stdout), all from one run.

Every destination is checked before anything is fetched (unknown format, a directory, a
path that cannot be written: one line, exit 2). Files are written atomically: a temporary
file beside the target, renamed into place, so a failed run never leaves half a report.
JSON and YAML items may be streamed while a scan runs: they are spooled (in memory up to
a few MiB, then on disk) and copied out when the run has finished, so standard output
also gets the whole document or nothing.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from probectl.errors import UsageError

STDOUT = "-"
SPOOL_MEMORY = 8 * 1024 * 1024  # streamed items kept in memory up to this, then on disk


@dataclass
class Target:
    fmt: str
    path: str  # STDOUT or a file path
    spool: object | None = field(default=None, repr=False)
    items: int = 0


def plan(output: str | None, output_file: str | None, reports: Iterable[str] | None, formats: Iterable[str],
         *, default: str = "table") -> list[Target]:
    """The destinations of this run, checked. `output` is -o (None when not given)."""
    formats = list(formats)
    targets: list[Target] = []
    for spec in reports or []:
        fmt, sep, path = spec.partition("=")
        fmt, path = fmt.strip().lower(), path.strip()
        if not sep or not fmt or not path:
            raise UsageError(f"--report {spec!r}: use FORMAT=PATH, e.g. --report junit=probectl.xml (PATH - for stdout)")
        if fmt not in formats:
            raise UsageError(f"--report {spec!r}: unknown format {fmt!r} (one of: {', '.join(formats)})")
        targets.append(Target(fmt, path))
    if output_file:
        targets.append(Target(output or default, output_file))
    to_stdout = [t for t in targets if t.path == STDOUT]
    if len(to_stdout) > 1 or (to_stdout and output and not output_file):
        raise UsageError("only one report can go to standard output: give the others a file (--report FORMAT=PATH)")
    if not to_stdout:
        # -o goes to stdout; with --output-file the terminal shows the table
        targets.append(Target(default if output_file else (output or default), STDOUT))
    seen: set[str] = set()
    for t in targets:
        if t.path == STDOUT:
            continue
        real = os.path.realpath(t.path)
        if real in seen:
            raise UsageError(f"{t.path}: named by two reports")
        seen.add(real)
        check_writable(t.path)
    return targets


def check_writable(path: str) -> None:
    """A clear UsageError now rather than a failed write after the whole scan."""
    if os.path.isdir(path):
        raise UsageError(f"{path}: is a directory; --report and --output-file need a file path")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UsageError(f"{path}: the directory {parent} does not exist")
    if os.path.exists(path):
        if not os.access(path, os.W_OK):
            raise UsageError(f"{path}: permission denied")
    elif not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{path}: cannot create a file in {parent} (permission denied)")


@dataclass
class Streamed:
    """How a format streams its items: the text of one item, and the whole document
    around the items once the run is over."""

    item: Callable[[object], str]  # one item's text, ready to go between the separators
    document: Callable[[object, Iterable[str]], Iterable[str]]  # (report, item texts) -> the document's pieces


class Writer:
    """Collects a run's output for every target and writes it when the run is over."""

    def __init__(self, targets: list[Target], streamed: dict[str, Streamed] | None = None, stdout=None):
        self.targets = targets
        self.streamed = streamed or {}
        self.stdout = stdout
        for t in targets:
            if t.fmt in self.streamed:
                t.spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY, mode="w+", encoding="utf-8")

    @property
    def formats(self) -> set[str]:
        return {t.fmt for t in self.targets}

    def item(self, obj) -> None:
        """One item (a Diagnosis) for the streamed formats."""
        texts: dict[str, str] = {}
        for t in self.targets:
            if t.spool is None:
                continue
            if t.fmt not in texts:
                texts[t.fmt] = self.streamed[t.fmt].item(obj)
            t.spool.write(texts[t.fmt])
            t.spool.write("\0")  # item separator inside the spool (never in JSON/YAML text, which escape it)
            t.items += 1

    def _pieces(self, t: Target, report, render: Callable[[str], str]) -> Iterable[str]:
        if t.spool is None:
            yield render(t.fmt)
            return
        t.spool.seek(0)
        yield from self.streamed[t.fmt].document(report, _split_spool(t.spool))

    def finish(self, report, render: Callable[[str], str]) -> None:
        """Write every file (atomically), then standard output."""
        try:
            for t in self.targets:
                if t.path != STDOUT:
                    write_atomic(t.path, self._pieces(t, report, render))
            for t in self.targets:
                if t.path == STDOUT:
                    self._to_stdout(t, report, render)
        finally:
            self.close()

    def _to_stdout(self, t: Target, report, render: Callable[[str], str]) -> None:
        """The whole document is put together before its first byte goes out: never half a
        report. A streamed one (as big as the cluster's findings) is assembled in a spool
        (memory up to SPOOL_MEMORY, then disk) and copied out in blocks."""
        out = self.stdout or sys.stdout
        if t.spool is None:
            out.write(render(t.fmt))
        else:
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY, mode="w+", encoding="utf-8") as doc:
                for piece in self._pieces(t, report, render):
                    doc.write(piece)
                doc.seek(0)
                while True:
                    block = doc.read(1 << 16)
                    if not block:
                        break
                    out.write(block)
        out.flush()

    def close(self) -> None:
        for t in self.targets:
            if t.spool is not None:
                t.spool.close()
                t.spool = None


def _split_spool(spool, chunk: int = 1 << 16) -> Iterable[str]:
    """The items written to a spool, one at a time."""
    rest = ""
    while True:
        block = spool.read(chunk)
        if not block:
            break
        parts = (rest + block).split("\0")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


def write_atomic(path: str, pieces: Iterable[str]) -> None:
    """Write to a temporary file in the target's directory, then rename it into place."""
    from probectl.errors import InputError

    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for piece in pieces:
                f.write(piece)
        mode = 0o644
        try:
            mode = os.stat(path).st_mode & 0o777
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise InputError(f"{path}: cannot write: {e.strerror or e}") from None
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def step_summary(markdown: str, environ=None) -> str | None:
    """Append the Markdown report to GitHub's job summary when running in GitHub Actions;
    returns a warning when it had to be cut (GitHub takes 1 MiB per step) or failed."""
    env = os.environ if environ is None else environ
    path = env.get("GITHUB_STEP_SUMMARY", "")
    if env.get("GITHUB_ACTIONS") != "true" or not path:
        return None
    limit = 1024 * 1024
    try:
        used = os.path.getsize(path) if os.path.exists(path) else 0
    except OSError:
        used = 0
    room = limit - used
    data = markdown.encode("utf-8")
    note = None
    if len(data) > room:
        cut = "\n\n> probectl: the report was cut to fit GitHub's 1 MiB step summary; see the JUnit or JSON report.\n"
        keep = max(0, room - len(cut.encode()) - 16)
        data = data[:keep].decode("utf-8", errors="ignore").rsplit("\n", 1)[0].encode("utf-8") + cut.encode()
        note = "the Markdown report was cut to fit GitHub's 1 MiB step summary"
        if keep <= 0:
            return "GITHUB_STEP_SUMMARY is full (1 MiB): the Markdown report was not added"
    try:
        with open(path, "ab") as f:
            f.write(data)
    except OSError as e:
        return f"GITHUB_STEP_SUMMARY {path}: cannot write: {e.strerror or e}"
    return note
