"""Reading the log that says why a container died: one bounded request per container (why)
or per failing group (scan, and why over a workload's pods). The rule for which containers
are worth it is the core's (diagnose.wants_crash_log); this module only reads."""

from __future__ import annotations

CRASH_TAIL_LINES = 200  # the previous instance's last lines: where the traceback or panic is
CRASH_TAIL_BYTES = 64 * 1024  # what the crash-line finder reads of them
GROUP_LIMIT = 20  # logs read at most per run when explaining groups


def read(client, d, c, lines: int = CRASH_TAIL_LINES) -> tuple[list[str], str, bool]:
    """The last `lines` of container `c`'s log: its previous instance when it has restarted
    since, else the current (ended) one. Returns (lines, source, previous); raises the
    source's ClusterError (Forbidden, a missing previous log) for the caller to report."""
    from probectl.sources import cluster as cl

    previous = c.restart_count > 0 and not (c.last_termination and c.last_termination.current)
    got = cl.previous_logs(client, d.pod.namespace, d.pod.name, c.name, lines, previous)
    return got, "previous-logs" if previous else "logs", previous


def for_engine(lines: list[str], source: str) -> tuple[str, str]:
    """What diagnose(logs=...) takes for one container: the tail's text and its source."""
    return "\n".join(lines)[-CRASH_TAIL_BYTES:], source


class GroupLogs:
    """Explain failing groups from logs: at most one log request per group (namespace +
    owner + container + cause), `limit` in all. A group whose termination messages already
    hold a crash line needs none. Called with each finding; returns it judged again with
    the crash line when a log was read."""

    def __init__(self, client, limit: int = GROUP_LIMIT, recent=None):
        self.client, self.limit, self.recent = client, limit, recent
        self.done: set[tuple] = set()
        self.requests = self.skipped = 0
        self.notes: list[str] = []

    def __call__(self, d, pod, events, earliest, **diagnose_options):
        from probectl.core.diagnose import diagnose, wants_crash_log
        from probectl.core.scan import group_key
        from probectl.sources import cluster as cl

        key = group_key(d)
        c = next((c for c in d.containers if c.name == d.culprit), None)
        if key in self.done or c is None:
            return d
        if c.crash is not None:
            self.done.add(key)
            return d
        if not wants_crash_log(d, c):
            return d
        self.done.add(key)
        if self.requests >= self.limit:
            self.skipped += 1
            return d
        self.requests += 1
        try:
            lines, source, _ = read(self.client, d, c)
        except cl.ClusterError as e:
            self.notes.append(f"the log of {d.pod.namespace}/{d.pod.name} container {c.name} could not be read ({e.message})")
            return d
        return diagnose(pod, events, d.as_of, earliest_event=earliest, recent=self.recent,
                        logs={c.name: for_engine(lines, source)}, **diagnose_options)

    def warnings(self) -> list[str]:
        out = []
        if self.notes:
            out.append(f"{len(self.notes)} log(s) could not be read: {self.notes[0]}" + (" (and more)" if len(self.notes) > 1 else ""))
        if self.skipped:
            out.append(f"{self.skipped} more failing group(s) not explained from logs: at most {self.limit} log reads")
        return out
