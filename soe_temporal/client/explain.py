"""Temporal's errors about an execution, turned into ones that say what is wrong and what
to do (``errors.py`` has the types)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowExecutionDescription, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from ..errors import ConfigError, ExecutionClosedError, WaitTimeoutError
from ..temporal.payloads import CLOSING_REFUSAL


def explain(
    execution_id: str, error: Exception, description: WorkflowExecutionDescription
) -> Exception:
    """A refused request: the execution is closed, or it refused the request itself."""
    status = description.status
    if status is not None and status != WorkflowExecutionStatus.RUNNING:
        return ExecutionClosedError(execution_id, status.name)
    cause = getattr(error, "cause", None)
    if getattr(cause, "type", None) == CLOSING_REFUSAL:
        return ExecutionClosedError(execution_id, "closing")
    message = getattr(cause, "message", None) or str(error)
    return ConfigError(f"Execution '{execution_id}' refused the request: {message}")


def wait_timeout(
    execution_id: str,
    waited: timedelta,
    task_queue: str,
    description: WorkflowExecutionDescription | None,
) -> WaitTimeoutError:
    """Why a wait ran out of time, as far as the server can tell."""
    seconds = f"{waited.total_seconds():g}s"
    task: Any = description.raw_description.pending_workflow_task if description else None
    if task is not None and task.attempt > 1:
        return WaitTimeoutError(
            f"Execution '{execution_id}' did not become idle within {seconds}: its workflow "
            f"task has failed {task.attempt - 1} times in a row, so it cannot move on. The "
            "worker's log says why (often a worker running an older or newer "
            "soe-temporal); fix that and it continues by itself."
        )
    return WaitTimeoutError(
        f"Execution '{execution_id}' was still busy after {seconds} (or no worker is running "
        f"on task queue '{task_queue}': start one with `soe-temporal worker`). It keeps "
        "running; wait again with wait_idle() or read it with get_context()."
    )


def server_busy(error: Exception) -> bool:
    """A refusal that only says "not now": the server or the worker is too busy, the
    execution has as many updates in flight as the server allows (about 10), an update was
    aborted, or an ask ran out of time on its way. Asking again later is safe.

    Under load the server also drops an update that no workflow task picked up in time."""
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
