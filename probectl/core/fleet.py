"""Many contexts -> one fleet report: each context's own ScanReport (or the error that kept
it from being read), side by side, and the counts summed over the contexts that were read.

Pure: the scans themselves are made elsewhere (cli/fleet.py runs one single-cluster scan
per context); this only puts their results together, in the order the contexts were asked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from probectl.core.model import Severity, iso
from probectl.core.scan import FAIL_ON, ScanReport


@dataclass
class ContextResult:
    """One context of the fleet: its scan, or why it could not be read."""

    name: str
    report: ScanReport | None = None
    error: str | None = None
    seconds: float = 0.0  # wall time of this context's scan (stderr and --debug only; not in the report)

    @property
    def ok(self) -> bool:
        return self.report is not None and self.error is None

    @property
    def status(self) -> str:
        return "ok" if self.ok else "error"

    def to_dict(self) -> dict:
        """The report's `contexts[]` entry."""
        return {"name": self.name, "status": self.status, "error": self.error,
                "summary": self.report.summary() if self.ok else None}


@dataclass
class FleetReport:
    """The contexts of one fleet scan, in the order they were asked for."""

    contexts: list[ContextResult]
    fail_on: str = "critical"
    since: str | None = None
    recent: str = "1h"
    warnings: list[str] = field(default_factory=list)

    @property
    def read(self) -> list[ContextResult]:
        return [c for c in self.contexts if c.ok]

    @property
    def unreadable(self) -> list[ContextResult]:
        return [c for c in self.contexts if not c.ok]

    @property
    def worst(self) -> Severity:
        return max((c.report.worst for c in self.read), key=lambda s: s.rank, default=Severity.OK)

    @property
    def findings_count(self) -> int:
        return sum(c.report.findings_count for c in self.read)

    @property
    def workloads_count(self) -> int:
        """Workloads with findings (pods that cannot be created, rollouts past their deadline)."""
        return sum(len(c.report.workloads) for c in self.read)

    @property
    def failed(self) -> bool:
        """Findings (pods or workloads) at or above --fail-on in any context that was read:
        exactly when that context's scan alone would fail."""
        threshold = FAIL_ON.get(self.fail_on)
        return threshold is not None and any(
            c.report.worst.rank >= threshold.rank and (c.report.findings_count > 0 or bool(c.report.workloads))
            for c in self.read)

    def _sum(self, attr: str) -> int:
        return sum(getattr(c.report, attr) for c in self.read)

    def by_cause(self) -> Counter:
        total: Counter = Counter()
        for c in self.read:
            total.update(c.report.by_cause)
        return total

    def summary(self) -> dict:
        """The fleet-wide summary: the keys of a single scan's summary that add up, summed
        over the contexts that were read, and how many contexts were read."""
        by_cause = self.by_cause()
        by_severity: Counter = Counter()
        for c in self.read:
            by_severity.update(c.report.by_severity)
        as_of = [c.report.as_of for c in self.read if c.report.as_of]
        warnings = [f'context "{c.name}": {w}' for c in self.read for w in c.report.warnings]
        warnings += [f'context "{c.name}" could not be read: {c.error}' for c in self.unreadable]
        return {
            "contextsTotal": len(self.contexts),
            "contextsRead": len(self.read),
            "contextsFailed": len(self.unreadable),
            "podsExamined": self._sum("examined"),
            "podsWithFindings": self.findings_count,
            "podsHealthy": self._sum("healthy_count"),
            "podsRestartedEarlier": self._sum("history_count"),
            "podsTerminating": self._sum("terminating_count"),
            "eventsRead": self._sum("events_seen"),
            "byCause": dict(sorted(by_cause.items(), key=lambda kv: (-kv[1], kv[0]))),
            "bySeverity": {s.value: by_severity.get(s.value, 0) for s in (Severity.CRITICAL, Severity.WARNING, Severity.OK)},
            "failOn": self.fail_on,
            "failed": self.failed,
            "since": self.since,
            "recent": self.recent,
            "asOf": iso(max(as_of)) if as_of else None,
            "scope": {"source": "cluster", "contexts": [c.name for c in self.contexts]},
            "warnings": warnings + list(self.warnings),
            "workloadsExamined": (sum(c.report.workloads_examined or 0 for c in self.read)
                                  if any(c.report.workloads_examined is not None for c in self.read) else None),
            "workloadsWithFindings": self.workloads_count,
        }
