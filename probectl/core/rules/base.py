"""What a rule is: a small pure function of facts with a stable id, a name, a one-line doc
(its docstring's first paragraph) and the facts it reads, declared so that the surfaces
that filter events (scan, watch) keep exactly what some rule reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

EVENT = "event:"  # reads "event:REASON": the rule looks at events with that reason


@dataclass(frozen=True)
class Rule:
    id: str  # stable: "T01"
    name: str  # "oom-killed"
    reads: tuple[str, ...]  # "status:...", "spec:...", "condition:...", "event:REASON"
    decide: Callable[[Any], Any]  # facts -> verdict | None

    @property
    def doc(self) -> str:
        text = (self.decide.__doc__ or "").strip().split("\n\n")[0]
        return " ".join(text.split())

    @property
    def event_reasons(self) -> frozenset[str]:
        return frozenset(r[len(EVENT):] for r in self.reads if r.startswith(EVENT))


def rule(id: str, name: str, *reads: str) -> Callable[[Callable], Rule]:
    """Register a function as a rule: `@rule("T01", "oom-killed", "status:terminated.reason")`."""
    def wrap(fn: Callable) -> Rule:
        return Rule(id, name, tuple(reads), fn)
    return wrap


def events(*reasons: str) -> tuple[str, ...]:
    """ "event:R" for each reason: what a rule declares it reads."""
    return tuple(EVENT + r for r in reasons)


@dataclass(frozen=True)
class Stage:
    """Rules tried in order when `applies`; a stage whose rules all decline falls through."""

    name: str
    applies: Callable[[Any], bool]
    rules: tuple[Rule, ...]
    doc: str = ""


def first(rules: tuple[Rule, ...], facts) -> Any:
    """The first rule's verdict, stamped with its id; None when every rule declines."""
    for r in rules:
        v = r.decide(facts)
        if v is not None:
            if v.rule:
                return replace(v, rule=r.id)
            # the rule's own new record, not yet seen by anyone: stamp it in place (replace()
            # costs a tenth of a scan's engine time)
            object.__setattr__(v, "rule", r.id)
            return v
    return None


def judge(stages: tuple[Stage, ...], facts) -> Any:
    for stage in stages:
        if stage.applies(facts):
            v = first(stage.rules, facts)
            if v is not None:
                return v
    return None
