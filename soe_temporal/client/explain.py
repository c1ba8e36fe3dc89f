"""Temporal's errors about an execution, turned into ones that say what is wrong and what
to do (``errors.py`` has the types)."""

from __future__ import annotations

from typing import Any

from temporalio.client import (
    RPCTimeoutOrCancelledError,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
)
from temporalio.service import RPCError, RPCStatusCode

from ..errors import (
    ConfigError,
    ExecutionClosedError,
    RequestRefusedError,
    ServerBusyError,
    WaitTimeoutError,
    WorkerUnavailableError,
)
from ..temporal.payloads import CLOSING_REFUSAL, INVALID_SAVE, INVALID_SIGNALS

# The server's answer to a query that no worker can take.
NO_POLLER = "no poller seen for task queue recently"


def explain(
    execution_id: str, error: Exception, description: WorkflowExecutionDescription
) -> Exception:
    """A refused request: the execution is closed, its input was bad (the only case that
    is a ConfigError), the server refused for the moment, or the execution refused it."""
    status = description.status
    if status is not None and status != WorkflowExecutionStatus.RUNNING:
        return ExecutionClosedError(execution_id, status.name)
    cause = getattr(error, "cause", None)
    kind = getattr(cause, "type", None)
    message = getattr(cause, "message", None) or str(error)
    if kind == CLOSING_REFUSAL:
        return ExecutionClosedError(execution_id, "closing")
    if kind == INVALID_SIGNALS:
        return ConfigError(f"Execution '{execution_id}' refused the signals: {message}")
    if kind == INVALID_SAVE:
        return ConfigError(f"Execution '{execution_id}' cannot save this: {message}")
    if NO_POLLER in message:
        return WorkerUnavailableError(
            f"No worker polls task queue '{description.task_queue}', the queue of execution "
            f"'{execution_id}', so nothing can answer about it. Start one "
            f"(`soe-temporal worker --task-queue {description.task_queue}`, or create_worker "
            "with the tools and call_llm the execution was started with)."
        )
    if server_busy(error):
        return ServerBusyError(
            f"Temporal refused a request about execution '{execution_id}' for the moment "
            f"({message}); nothing was applied. Ask again shortly."
        )
    return RequestRefusedError(f"Execution '{execution_id}' refused the request: {message}")


def wait_timeout(
    execution_id: str,
    waited_seconds: float,
    task_queue: str,
    description: WorkflowExecutionDescription | None,
    pollers: int | None,
    delivery: str = "",
    delivered: bool | None = None,
) -> WaitTimeoutError:
    """Why a wait ran out of time, as far as the server can tell: how long it waited,
    whether what it sent was delivered (``delivery``), and what was still pending."""
    lines = [f"Waited {waited_seconds:.1f}s for execution '{execution_id}' to become idle."]
    if delivery:
        lines.append(delivery)
    pending = pending_work(description)
    task: Any = description.raw_description.pending_workflow_task if description else None
    if task is not None and task.attempt > 1:
        lines.append(
            f"Its workflow task has failed {task.attempt - 1} times in a row, so it cannot "
            "move on. The worker's log says why (often a worker running an older or newer "
            "soe-temporal); fix that and it continues by itself."
        )
    elif pollers == 0:
        lines.append(
            f"No worker polls task queue '{task_queue}': start one (`soe-temporal worker`); "
            "the execution waits for it and loses nothing."
        )
    elif pending:
        lines.append("Still pending: " + "; ".join(pending) + ".")
    else:
        lines.append("It was still busy (a cascade, a message, or an execution below it).")
    lines.append(
        f"It keeps running (task queue '{task_queue}'): wait again with wait_idle(), or "
        "read it with get_context()."
    )
    return WaitTimeoutError(
        " ".join(lines),
        execution_id=execution_id,
        waited_seconds=waited_seconds,
        pending=pending,
        delivered=delivered,
    )


def pending_work(description: WorkflowExecutionDescription | None) -> list[str]:
    """What the server says an execution waits for: its nodes' calls (an activity's id
    names its node) and the children it is starting."""
    if description is None:
        return []
    raw = description.raw_description
    pending = []
    for activity in raw.pending_activities:
        node = activity.activity_id.rpartition("/")[0] or activity.activity_id
        text = f"node '{node}' ({activity.activity_type.name}, attempt {activity.attempt}"
        if activity.HasField("last_failure") and activity.last_failure.message:
            text += f", last failure: {activity.last_failure.message}"
        pending.append(text + ")")
    for child in raw.pending_children:
        pending.append(f"child execution '{child.workflow_id}'")
    return pending


def server_busy(error: Exception) -> bool:
    """A refusal that only says "not now": the server or the worker is too busy, the
    execution has as many updates in flight as the server allows (about 10), an update was
    aborted, or an ask ran out of time on its way. Asking again later is safe.

    Under load the server also drops an update that no workflow task picked up in time,
    and lets an update's call run out of time before the workflow took it (temporalio
    wraps that deadline; the same wrapper for the caller's own cancellation is not busy)."""
    if isinstance(error, RPCTimeoutOrCancelledError) and isinstance(error.__cause__, RPCError):
        error = error.__cause__
    if isinstance(error, RPCError) and error.status in (
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.ABORTED,
    ):
        return True
    cause = getattr(error, "cause", None)
    text = f"{error} {getattr(cause, 'message', '') or cause or ''}"
    return any(marker in text for marker in _BUSY_MARKERS)


_BUSY_MARKERS = (
    "wasn't processed by worker",
    "update was aborted",
    "in-flight updates",
)
