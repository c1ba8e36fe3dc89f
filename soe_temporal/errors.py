"""Every error soe_temporal raises to its users: one type per kind of failure."""

from __future__ import annotations

from typing import Any


class SoeError(Exception):
    """Base of all soe_temporal errors."""


class ConfigError(SoeError):
    """The config or the start parameters are invalid; raised before anything starts."""


class ExecutionNotFoundError(SoeError, ValueError):
    """No execution has this id (in this namespace).

    Also a ``ValueError``: soe-ai raises one for an unknown execution, and its callers
    catch that."""

    def __init__(self, execution_id: str, namespace: str = "default") -> None:
        self.execution_id = execution_id
        super().__init__(
            f"No execution '{execution_id}' in namespace '{namespace}'. Check the id "
            "(`soe-temporal start` prints it) and that TEMPORAL_ADDRESS/TEMPORAL_NAMESPACE "
            "point at the server that ran it."
        )


class ExecutionClosedError(SoeError):
    """The execution was closed (or terminated) and takes no more signals."""

    def __init__(self, execution_id: str, status: str) -> None:
        self.execution_id = execution_id
        self.status = status
        super().__init__(
            f"Execution '{execution_id}' is {status.lower()} and takes no more signals. "
            "Start a new execution; inherit_context_from_id / inherit_config_from_id can "
            "carry its state over."
        )


class NodeFailedError(SoeError, RuntimeError):
    """A node failed with no failure path while handling the signals of this call.

    SOE raises such failures out of ``orchestrate()`` and ``broadcast_signals()``; here the
    execution stays open and usable, and ``describe()`` lists the failure as well. Also a
    ``RuntimeError``, which soe-ai raises for a failed llm or agent node (F-LLM-9,
    F-AGENT-9), so code that catches it keeps working.
    """

    def __init__(self, execution_id: str, failures: list[dict[str, Any]]) -> None:
        self.execution_id = execution_id
        self.failures = failures
        lines = [
            f"  - {_where(f, execution_id)}workflow '{f['workflow_name']}', "
            f"node '{f['node_name']}': {f['error']}"
            for f in failures
        ]
        noun = "A node" if len(failures) == 1 else f"{len(failures)} nodes"
        super().__init__(
            f"{noun} of execution '{execution_id}' failed:\n" + "\n".join(lines) + "\n"
            "The execution is still open: fix the cause and send a signal to continue it."
        )


class WaitTimeoutError(SoeError):
    """A wait for an execution to become idle ran out of time. It says how long it
    waited, what was still pending (``pending``), and, for signals, whether they were
    delivered (``delivered``: True, False, or None when that cannot be known; sending
    again with the same request id is safe in every case)."""

    def __init__(
        self,
        message: str,
        *,
        execution_id: str = "",
        waited_seconds: float = 0.0,
        pending: list[str] | None = None,
        delivered: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.execution_id = execution_id
        self.waited_seconds = waited_seconds
        self.pending = pending or []
        self.delivered = delivered


class WorkerUnavailableError(SoeError):
    """No worker answered: none polls the task queue, or none did in time."""


class ServerBusyError(SoeError):
    """Temporal refused a request for the moment (too busy, too many updates in flight);
    nothing was applied, and asking again is safe. Waiting calls ask again by themselves
    within their time limit."""


class RequestRefusedError(SoeError):
    """The execution refused a request for a reason of its own (not bad input)."""


def _where(failure: dict[str, Any], root: str) -> str:
    execution = failure.get("execution_id")
    return f"child execution '{execution}', " if execution and execution != root else ""


# -- soe-ai's names (soe_temporal.soe): a soe-ai caller's ``except`` keeps working --------


class WorkflowValidationError(ConfigError):
    """soe-ai's error for an invalid config or start parameters (``soe.types``); here a
    :class:`ConfigError`, so soe_temporal's callers catch it as well."""


class WorkflowValidationValueError(WorkflowValidationError, ValueError):
    """A config problem soe-ai reports as ``ValueError`` (YAML that does not parse, an
    inherit source with nothing to inherit)."""


class OperationalValidationError(SoeError):
    """soe-ai's error (``soe.validation``) for an execution that has no valid state to
    work on, e.g. signals sent to an unknown execution id."""


class UnknownExecutionError(ExecutionNotFoundError, OperationalValidationError):
    """No execution has this id, said in soe-ai's words (``message``)."""

    def __init__(self, execution_id: str, message: str, namespace: str = "default") -> None:
        super().__init__(execution_id, namespace)
        self.args = (message,)


class UnsupportedOperationError(SoeError, NotImplementedError):
    """soe_temporal.soe does not do this (yet); the message says why and what to do."""


class UnsupportedWriteError(UnsupportedOperationError):
    """A backend write that cannot (or cannot yet) reach the executions, which hold the
    state on Temporal; the message says why and what to do instead."""


class SyncCallFromRuntimeLoopError(SoeError, RuntimeError):
    """A synchronous soe_temporal.soe function was called from a coroutine running on
    soe_temporal.soe's own event loop (an ``async def`` tool of its in-process worker),
    where waiting for the answer would block the loop that must produce it."""
