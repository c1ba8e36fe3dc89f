"""What an execution is doing, in the few facts an operator searches and lists by.

A *turn* runs from the moment an idle execution is woken (a signal, a child's message)
until it is idle again. The status and the signals an operator sees describe the current
turn, or the last one once idle: an execution of the approval workflow that waits for a
decision is ``idle`` with ``WAITING_FOR_APPROVAL`` among its last signals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .context import OPERATIONAL
from .state import NodeFailure

RUNNING = "running"
IDLE = "idle"
FAILED = "failed"
CLOSED = "closed"
STATUSES = (RUNNING, IDLE, FAILED, CLOSED)
# Distinct signals and failed nodes shown of one turn (the first ones, in order): a search
# index takes short lists, and a turn that broadcasts more is found by its first ones.
LISTED_AT_MOST = 50


@dataclass(slots=True)
class ExecutionStatus:
    """``status``: ``running`` while a node runs or a signal waits, ``failed`` once a turn
    ends with a node failure no failure path took, ``idle`` otherwise, ``closed`` once
    closed. ``last_signals``: what the turn broadcast (the incoming signals and every
    emission, each once, in order). ``failed_nodes``: the nodes whose failure in the
    turn no failure path took."""

    status: str
    workflow_name: str
    last_signals: tuple[str, ...] = ()
    failed_nodes: tuple[str, ...] = ()
    running_nodes: tuple[str, ...] = ()
    llm_calls: int = 0
    tool_calls: int = 0
    tokens: int = 0

    def describe(self) -> dict[str, Any]:
        """As ``describe()`` shows it."""
        return {
            "soe_status": self.status,
            "last_signals": list(self.last_signals),
            "failed_nodes": list(self.failed_nodes),
            "running_nodes": list(self.running_nodes),
        }

    def details(self) -> str:
        """One short text for Temporal's UI (the workflow's current details, Markdown)."""
        return _details(
            self.status,
            self.workflow_name,
            self.running_nodes,
            self.last_signals,
            self.failed_nodes,
            self.llm_calls,
            self.tool_calls,
        )


def running_status(workflow_name: str, running_nodes: list[str]) -> ExecutionStatus:
    """The status of a turn that runs: only what runs is told."""
    return ExecutionStatus(RUNNING, workflow_name, running_nodes=_distinct(running_nodes))


def running_details(workflow_name: str, running_nodes: list[str]) -> str:
    """``running_status(...).details()``, without making the status: the host shows it
    after every call of a turn. Made once per workflow and nodes, and that one text shared
    (a worker's executions of one workflow run the same nodes)."""
    key = (workflow_name, *running_nodes)
    details = _running_details.get(key)
    if details is None:
        if len(_running_details) >= _RUNNING_DETAILS_KEPT:
            _running_details.clear()
        details = _running_details[key] = _details(
            RUNNING, workflow_name, _distinct(running_nodes), (), (), 0, 0
        )
    return details


# The running texts made last, by workflow and running nodes. Workflow tasks run on
# several threads: each step here is one dict operation, and a race at worst makes a text
# twice.
_RUNNING_DETAILS_KEPT = 1024
_running_details: dict[tuple[str, ...], str] = {}


def _details(
    status: str,
    workflow_name: str,
    running_nodes: tuple[str, ...],
    last_signals: tuple[str, ...],
    failed_nodes: tuple[str, ...],
    llm_calls: int,
    tool_calls: int,
) -> str:
    lines = [f"**{status}** · SOE workflow `{workflow_name}`"]
    if running_nodes:
        lines.append(f"running: {', '.join(running_nodes)}")
    if last_signals:
        lines.append(f"last signals: {', '.join(last_signals)}")
    if failed_nodes:
        lines.append(f"failed nodes: {', '.join(failed_nodes)}")
    lines.append(f"LLM calls {llm_calls} · tool calls {tool_calls}")
    return "  \n".join(lines)


def execution_status(
    context: dict[str, Any],
    workflow_name: str,
    failures: list[NodeFailure],
    turn_first_signal: int,
    turn_first_cascade: int,
    running_nodes: list[str],
    busy: bool,
    closed: bool = False,
    tokens: int = 0,
) -> ExecutionStatus:
    """The status of an execution whose current (or last) turn began at the given
    index of its broadcast signals and at the given cascade. While the turn runs, only
    what runs is told: the rest is counted once, when the turn ends."""
    if busy and not closed:
        return running_status(workflow_name, running_nodes)
    operational = context.get(OPERATIONAL)
    if not isinstance(operational, dict):
        operational = {}
    signals = operational.get("signals")
    turn_signals = signals[turn_first_signal:] if isinstance(signals, list) else []
    failed = _distinct(
        f.node_name or f.workflow_name
        for f in failures
        if not f.handled and f.cascade >= turn_first_cascade
    )
    return ExecutionStatus(
        status=CLOSED if closed else FAILED if failed else IDLE,
        workflow_name=workflow_name,
        last_signals=_distinct(s for s in turn_signals if isinstance(s, str)),
        failed_nodes=failed,
        running_nodes=_distinct(running_nodes),
        llm_calls=_count(operational.get("llm_calls")),
        tool_calls=_count(operational.get("tool_calls")),
        tokens=tokens,
    )


def _distinct(values: Any) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for value in values:
        if len(seen) == LISTED_AT_MOST:
            break
        seen.setdefault(value, None)
    return tuple(seen)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
