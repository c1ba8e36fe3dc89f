"""Waiting for an execution tree to be idle (DESIGN: tree-wide idle).

Idle means every execution of the tree idle at the same moment. A child can wake its
parent after the parent was seen idle, so one walk over the tree is not proof: after a
walk, every execution with children is asked again, and the walk is repeated until they
all show the progress counter the walk saw. Executions without children need no second
look: nothing in SOE wakes a child but a call made elsewhere (a tool that signals it), and
a signal they have not yet handled makes them answer busy. So a walk that repeats asks a
leaf seen idle again only if its parent has started calls since (a fan-out's children are
asked once, however often their messages keep their parent busy).

The walk asks its executions through :class:`TreeProbe`, so it can be tested against a
scripted tree; :class:`~soe_temporal.client.SoeClient` asks Temporal.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..engine.state import NodeFailure, unhandled_failures
from ..temporal.payloads import IdleReport, WaitRequest

# How many executions below a root are asked at once.
TREE_WALK_CONCURRENCY = 64


class TreeProbe(Protocol):
    """How the walk asks one execution about itself."""

    async def wait_idle(self, execution_id: str, request: WaitRequest) -> IdleReport | None:
        """Wait until the execution is idle and report; None when it is closed."""
        ...

    async def status(self, execution_id: str) -> dict[str, Any] | None:
        """The execution's status at once, if it can answer quickly (a query writes no
        history); None when it cannot, and the walk waits for it instead."""
        ...


async def wait_for_idle_tree(
    probe: TreeProbe,
    root: str,
    cascade: int | None,
    since: str | None,
    root_report: IdleReport | None = None,
) -> list[dict[str, Any]]:
    """Wait until the tree under ``root`` is idle; returns the unhandled failures of
    ``cascade`` at the root and of anything below it since ``since``, each naming its
    execution. ``root_report`` is the root's idle report when the caller has one already
    (a broadcast that waited): the first walk uses it, so an execution without children is
    asked nothing more."""
    known_root = root_report if root_report is not None and root_report.idle else None
    limit = asyncio.Semaphore(TREE_WALK_CONCURRENCY)
    settled: dict[str, _Settled] = {}
    while True:
        walk = await _walk(probe, root, cascade, since, known_root, limit, settled)
        known_root = None
        if len(walk.progress) <= 1 or await _unchanged(probe, walk, limit):
            return walk.failures


@dataclass
class _Walk:
    progress: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    # Calls each execution had started when the walk saw it.
    calls: dict[str, int] = field(default_factory=dict)


@dataclass
class _Settled:
    """A leaf seen idle, and how many calls its parent had started then."""

    report: IdleReport
    parent_calls: int


async def _walk(
    probe: TreeProbe,
    root: str,
    cascade: int | None,
    since: str | None,
    known_root: IdleReport | None,
    limit: asyncio.Semaphore,
    settled: dict[str, _Settled],
) -> _Walk:
    """Every execution of the tree, each seen idle (waited for if it was not); a leaf
    ``settled`` in an earlier walk is not asked again while its parent has started no
    calls since."""
    walk = _Walk()
    level: list[tuple[str, str | None]] = [(root, None)]
    while level:
        asks = []
        for eid, parent in level:
            known = settled.get(eid)
            if parent is None:
                asks.append(_root_report(probe, root, cascade, known_root))
            elif known is not None and known.parent_calls == walk.calls[parent]:
                asks.append(_answered(known.report))
            else:
                asks.append(_descendant_report(probe, eid, since, limit))
        reports = await asyncio.gather(*asks)
        known_root = None
        next_level: list[tuple[str, str | None]] = []
        for (eid, parent), report in zip(level, reports, strict=True):
            if report is None:  # closed
                continue
            walk.progress[eid] = report.progress
            walk.calls[eid] = report.calls
            walk.failures += [{**failure, "execution_id": eid} for failure in report.failures]
            if report.children:
                walk.parents.append(eid)
            elif parent is not None:
                settled[eid] = _Settled(report, walk.calls[parent])
            next_level += [(child, eid) for child in report.children if child not in walk.progress]
        level = next_level
    return walk


async def _unchanged(probe: TreeProbe, walk: _Walk, limit: asyncio.Semaphore) -> bool:
    """Whether every execution with children is still idle at the progress ``walk`` saw."""

    async def same(execution_id: str) -> bool:
        async with limit:
            status = await probe.status(execution_id)
            if status is not None and status["idle"]:
                return status["progress"] == walk.progress[execution_id]
            # Busy, or too slow to answer a query: wait for it, as the walk does.
            report = await probe.wait_idle(execution_id, WaitRequest())
        return report is not None and report.progress == walk.progress[execution_id]

    return all(await asyncio.gather(*(same(eid) for eid in walk.parents)))


async def _answered(report: IdleReport) -> IdleReport:
    return report


async def _root_report(
    probe: TreeProbe, root: str, cascade: int | None, known: IdleReport | None
) -> IdleReport | None:
    return known if known is not None else await probe.wait_idle(root, WaitRequest(cascade))


async def _descendant_report(
    probe: TreeProbe, execution_id: str, since: str | None, limit: asyncio.Semaphore
) -> IdleReport | None:
    """A quiet execution below the root answers from its status; a busy one is waited for."""
    async with limit:
        status = await probe.status(execution_id)
        if status is None or not status["idle"]:
            return await probe.wait_idle(execution_id, WaitRequest(since=since))
        recorded = [NodeFailure(**failure) for failure in status["failures"]]
        return IdleReport(
            cascade=None,
            idle=True,
            progress=status["progress"],
            failures=[f.to_dict() for f in unhandled_failures(recorded, since=since)],
            children=status["children"],
            calls=status.get("calls", 0),
        )
