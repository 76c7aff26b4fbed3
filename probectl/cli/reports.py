"""Where a command's reports go: `-o FORMAT` to stdout, `--output-file PATH`, and any
number of `--report FORMAT=PATH` (PATH `-` for stdout), all from one run.

Every destination is checked before anything is fetched (unknown format, a directory, a
path that cannot be written: one line, exit 2). Files are written atomically: each report
goes to a temporary file beside its target, and only when every report of the run has been
rendered are they renamed into place, then standard output written; so a failed run never
leaves half a report, and an existing file stays as it was. A symbolic link is followed (the
file it points to is replaced, the link kept); a target that is not a regular file (a FIFO,
/dev/stdout, /dev/null) is written in place, in one piece, once the run is over.
JSON and YAML items may be streamed while a scan runs: they are spooled (in memory up to
a few MiB, then on disk) and copied out when the run has finished, so standard output
also gets the whole document or nothing.
"""

from __future__ import annotations

import os
import shutil
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
    real = os.path.realpath(path)  # a symbolic link: the file it points to
    if os.path.isdir(real):
        raise UsageError(f"{path}: is a directory; --report and --output-file need a file path")
    if os.path.exists(real):
        if not os.access(real, os.W_OK):
            raise UsageError(f"{path}: permission denied")
        if not _regular(real):
            return  # a FIFO or a device: written in place
    parent = os.path.dirname(real)
    if not os.path.isdir(parent):
        raise UsageError(f"{path}: the directory {os.path.dirname(os.path.abspath(path))} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        # the report is written beside its target and renamed: the directory must be writable
        raise UsageError(f"{path}: cannot create a file in {parent} (permission denied)")


def _regular(path: str) -> bool:
    import stat

    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True  # not there yet: it will be a regular file


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

    def finish(self, report, render: Callable[[str, bool], str]) -> None:
        """Render every report, then put the files in place, then write standard output.
        `render(fmt, to_file)` renders a whole-document format (no colour for a file)."""
        staged: list[_Staged] = []
        try:
            outs: list = []
            try:
                for t in self.targets:
                    if t.path != STDOUT:
                        staged.append(_Staged(t.path, self._pieces(t, report, lambda fmt: render(fmt, True))))
                # assembled whole before the first byte goes out: never half a report
                for t in self.targets:
                    if t.path == STDOUT:
                        outs.append(self._assemble(t, report, lambda fmt: render(fmt, False)))
                for s in staged:
                    s.commit()
                out = self.stdout or sys.stdout
                for doc in outs:
                    if isinstance(doc, str):
                        out.write(doc)
                    else:
                        while True:
                            block = doc.read(1 << 16)
                            if not block:
                                break
                            out.write(block)
                    out.flush()
            finally:
                for s in staged:
                    s.discard()
                for doc in outs:
                    if not isinstance(doc, str):
                        doc.close()
        finally:
            self.close()

    def _assemble(self, t: Target, report, render: Callable[[str], str]):
        """The document for standard output, whole: a string, or for a streamed format (as
        big as the cluster's findings) a spool (memory up to SPOOL_MEMORY, then disk)."""
        if t.spool is None:
            return render(t.fmt)
        doc = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY, mode="w+", encoding="utf-8")
        try:
            for piece in self._pieces(t, report, render):
                doc.write(piece)
        except BaseException:
            doc.close()
            raise
        doc.seek(0)
        return doc

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


class _Staged:
    """One report file, rendered whole into a temporary file: `commit()` puts it in place,
    `discard()` removes whatever is left over."""

    def __init__(self, path: str, pieces: Iterable[str]):
        from probectl.errors import InputError

        self.path = path
        self.target = os.path.realpath(path)  # a symbolic link stays, the file it names is replaced
        self.in_place = os.path.exists(self.target) and not _regular(self.target)
        directory = tempfile.gettempdir() if self.in_place else os.path.dirname(self.target)
        self.tmp: str | None = None
        try:
            fd, self.tmp = tempfile.mkstemp(prefix=f".{os.path.basename(self.target)}.", suffix=".tmp", dir=directory)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                for piece in pieces:
                    f.write(piece)
        except OSError as e:
            self.discard()
            raise InputError(f"{path}: cannot write: {e.strerror or e}") from None
        except BaseException:  # a render error, Ctrl-C: no temporary file left behind
            self.discard()
            raise

    def commit(self) -> None:
        from probectl.errors import InputError

        assert self.tmp is not None
        try:
            if self.in_place:  # a FIFO, /dev/stdout: no rename, the whole text at once
                with open(self.tmp, encoding="utf-8") as src, open(self.target, "w", encoding="utf-8") as dst:
                    shutil.copyfileobj(src, dst)
                return
            try:
                mode = os.stat(self.target).st_mode & 0o777  # an existing report keeps its mode
            except OSError:
                umask = os.umask(0)
                os.umask(umask)
                mode = 0o666 & ~umask
            os.chmod(self.tmp, mode)
            os.replace(self.tmp, self.target)
            self.tmp = None
        except OSError as e:
            raise InputError(f"{self.path}: cannot write: {e.strerror or e}") from None

    def discard(self) -> None:
        if self.tmp is not None:
            try:
                os.unlink(self.tmp)
            except OSError:
                pass
            self.tmp = None


def write_atomic(path: str, pieces: Iterable[str]) -> None:
    """Write to a temporary file in the target's directory, then rename it into place."""
    staged = _Staged(path, pieces)
    try:
        staged.commit()
    finally:
        staged.discard()


STEP_SUMMARY_LIMIT = 1024 * 1024  # GitHub takes 1 MiB of Markdown per step


def step_summary(markdown: str, environ=None, *, skip: Iterable[str] = ()) -> str | None:
    """Append the Markdown report to GitHub's job summary when running in GitHub Actions
    (GITHUB_ACTIONS=true and GITHUB_STEP_SUMMARY set); returns a warning when it had to be
    cut to fit the step's 1 MiB (with a note in the summary itself) or could not be written.
    Nothing is appended when a report of this run was written to that very file (`skip`)."""
    env = os.environ if environ is None else environ
    path = env.get("GITHUB_STEP_SUMMARY", "")
    if env.get("GITHUB_ACTIONS") != "true" or not path:
        return None
    if any(p != STDOUT and os.path.realpath(p) == os.path.realpath(path) for p in skip):
        return None
    try:
        used = os.path.getsize(path)
    except OSError:
        used = 0
    room = STEP_SUMMARY_LIMIT - used
    data = markdown.encode("utf-8")
    note = None
    if len(data) > room:
        cut = (b"\n\n> probectl: the report was cut to fit GitHub's 1 MiB step summary; "
               b"the JUnit or JSON report has everything.\n")
        closing = "\n\n</details>"
        keep = room - len(cut) - len(closing)
        if keep <= 0:
            return "GITHUB_STEP_SUMMARY is full (1 MiB): the Markdown report was not added"
        text = data[:keep].decode("utf-8", errors="ignore")
        text = text.rsplit("\n", 1)[0] if "\n" in text else ""  # whole lines only
        if text.count("<details>") > text.count("</details>"):
            text += closing
        data = text.encode("utf-8") + cut
        note = "the Markdown report was cut to fit GitHub's 1 MiB step summary"
    try:
        with open(path, "ab") as f:
            f.write(data)
    except OSError as e:
        return f"GITHUB_STEP_SUMMARY {path}: cannot write: {e.strerror or e}"
    return note
