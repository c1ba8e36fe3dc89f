"""soe-ai's ``orchestrate`` and ``broadcast_signals`` (``soe.broker``), synchronous, on
Temporal executions.

Both return once the execution tree is idle, as soe-ai's return once their signals are
processed. Inside a tool (a Temporal activity) they deliver and return without waiting: a
tool that waits for a tree, perhaps its own, would hold its own node open meanwhile. There
the request id (and orchestrate's execution id) derive from the tool call's key, so
Temporal's retry of the tool counts the call once.
"""

from __future__ import annotations

import builtins
import contextlib
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from temporalio import activity

from ..errors import (
    ConfigError,
    ExecutionNotFoundError,
    NodeFailedError,
    UnknownExecutionError,
    UnsupportedOperationError,
    WorkerUnavailableError,
    WorkflowValidationError,
    WorkflowValidationValueError,
)
from ..tool_context import current_call_key
from .backends import FACTORIES, TemporalBackends, _NodeWorker
from .nodes import ToolNodeConfigurationError, ToolParameterError
from .runtime import refuse_on_runtime_loop, run

__all__ = ["SoeBroadcastCaller", "SoeNodes", "broadcast_signals", "orchestrate"]

VALUE_ERRORS = ("Invalid YAML configuration", "Cannot inherit")
NO_CONTEXT = (
    "No context found for execution_id '{id}'. Context must be initialized before node execution."
)


@contextlib.contextmanager
def soe_ai_errors() -> Iterator[None]:
    """soe_temporal's config errors as soe-ai's: WorkflowValidationError (a ConfigError),
    and also a ValueError where soe-ai raises one; a node failure also as the exception
    soe-ai would let escape (``node_failure_as_soe_ai``)."""
    try:
        yield
    except NodeFailedError as error:
        raise node_failure_as_soe_ai(error) from None
    except WorkflowValidationError:
        raise
    except ConfigError as error:
        message = str(error)
        kind = (
            WorkflowValidationValueError
            if message.startswith(VALUE_ERRORS)
            else WorkflowValidationError
        )
        raise kind(message) from None


# What soe-ai raises for a node failure, by NodeFailure.error_type (F-API-8).
SOE_AI_FAILURE_TYPES: dict[str, type[Exception]] = {
    "WorkflowValidationError": WorkflowValidationError,
    "ToolNodeConfigurationError": ToolNodeConfigurationError,
    "ToolParameterError": ToolParameterError,
}
_FAILURE_CLASSES: dict[type[Exception], type[NodeFailedError]] = {}


def node_failure_as_soe_ai(error: NodeFailedError) -> NodeFailedError:
    """The NodeFailedError (a RuntimeError) that is also the exception soe-ai lets
    escape for the first unhandled failure: WorkflowValidationError for an unknown tool
    or child workflow, ValueError for an agent's unknown tool, a built-in exception
    (KeyError, TypeError...) raised inside a node; else the error as it is."""
    for failure in error.failures:
        name = failure.get("error_type") or ""
        kind = SOE_AI_FAILURE_TYPES.get(name) or getattr(builtins, name, None)
        if not (isinstance(kind, type) and issubclass(kind, Exception)):
            continue
        if issubclass(NodeFailedError, kind):
            return error
        if kind not in _FAILURE_CLASSES:
            try:
                # str() as NodeFailedError's message, whatever the base (KeyError quotes).
                _FAILURE_CLASSES[kind] = type(
                    f"NodeFailed{kind.__name__}",
                    (NodeFailedError, kind),
                    {"__str__": BaseException.__str__, "__module__": __name__},
                )
            except TypeError:  # a built-in whose layout cannot be combined (OSError)
                return error
        return _FAILURE_CLASSES[kind](error.execution_id, error.failures)
    return error


class SoeNodes(dict):  # type: ignore[type-arg]
    """soe-ai's node callers by node type. The nodes run on an in-process Temporal worker;
    the values only name them (calling one raises: send signals instead)."""

    def __init__(
        self, backends: TemporalBackends, node_worker: _NodeWorker, node_types: list[str]
    ) -> None:
        super().__init__({name: RemoteNode(name) for name in node_types})
        self.backends = backends
        self.node_worker = node_worker

    @property
    def task_queue(self) -> str:
        return self.node_worker.task_queue


class RemoteNode:
    """A node type served by a worker; not callable from here."""

    def __init__(self, node_type: str) -> None:
        self.node_type = node_type

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        raise UnsupportedOperationError(
            f"soe_temporal.soe's '{self.node_type}' nodes run on a Temporal worker, not in "
            "your process: send signals with broadcast_signals(execution_id, signals, ...)."
        )

    def __repr__(self) -> str:
        return f"<{self.node_type} node (runs on the worker)>"


class SoeBroadcastCaller:
    """soe-ai's ``broadcast_signals_caller(id, signals)`` for a set of nodes."""

    def __init__(self, nodes: SoeNodes) -> None:
        self.nodes = nodes

    def __call__(self, execution_id: str, signals: list[str]) -> None:
        broadcast_signals(execution_id, signals, self.nodes, self.nodes.backends)


def _checked_backends(backends: Any) -> TemporalBackends:
    if not isinstance(backends, TemporalBackends):
        raise TypeError(
            "soe_temporal.soe runs executions on Temporal and needs backends made by "
            f"{FACTORIES}; got {type(backends).__name__}."
        )
    return backends


# Calls made inside one tool call: numbered, so retries of the call repeat the same ids.
_TOOL_CALLS: ContextVar[tuple[str, list[int]] | None] = ContextVar(
    "soe_temporal_soe_tool_calls", default=None
)


def _in_tool() -> bool:
    return activity.in_activity()


def _tool_request_id(kind: str) -> str:
    """``<call key>/<kind>-<n>``: the n-th such call of this tool call; the same again
    when Temporal retries the call (its key stays, the count starts over)."""
    key = current_call_key()
    state = _TOOL_CALLS.get()
    if state is None or state[0] != key:
        state = (key, [0])
        _TOOL_CALLS.set(state)
    state[1][0] += 1
    return f"{key}/{kind}-{state[1][0]}"


def orchestrate(
    config: str | Mapping[str, Any] | None,
    initial_workflow_name: str,
    initial_signals: list[str],
    initial_context: Mapping[str, Any],
    backends: Any,
    broadcast_signals_caller: Callable[[str, list[str]], None] | None,
    inherit_config_from_id: str | None = None,
    inherit_context_from_id: str | None = None,
    *,
    wait: bool | None = None,
) -> str:
    """Start an execution of ``initial_workflow_name`` with ``initial_signals`` and return
    its id once it and every execution below it are idle (soe-ai's ``orchestrate``).

    ``wait=None`` waits except inside a tool, where it only starts the execution.
    Raises WorkflowValidationError (a ConfigError; a ValueError too for YAML that does not
    parse and for inherit sources with nothing to inherit) before anything starts, and
    NodeFailedError (a RuntimeError) when a node fails with no failure path."""
    refuse_on_runtime_loop()
    owner = _checked_backends(backends)
    custom_caller: Callable[[str, list[str]], None] | None = None
    if isinstance(broadcast_signals_caller, SoeBroadcastCaller):
        queue = broadcast_signals_caller.nodes.task_queue
    elif broadcast_signals_caller is None:
        queue = owner.task_queue
    else:
        # soe-ai hands the initial signals to the caller: start the execution on the
        # latest node set's queue, then let the caller deliver them.
        custom_caller = broadcast_signals_caller
        queue = list(owner.node_sets)[-1] if owner.node_sets else owner.task_queue
    in_tool = _in_tool()
    execution_id = (
        str(uuid.uuid5(uuid.NAMESPACE_URL, _tool_request_id("orchestrate")))
        if in_tool
        else str(uuid.uuid4())
    )
    waits = (not in_tool) if wait is None else wait
    signals = list(initial_signals) if isinstance(initial_signals, list) else initial_signals

    async def start() -> str:
        for source, what, missing in (
            (inherit_config_from_id, "config", "no workflows registry found"),
            (inherit_context_from_id, "context", "no context found"),
        ):
            if source and await owner.locate(source) is None:
                raise UnknownExecutionError(
                    source, f"Cannot inherit {what} from execution '{source}': {missing}"
                )
        await owner.serve(queue)
        soe = await owner.soe_client(queue)
        owner.started(execution_id, queue)
        try:
            with soe_ai_errors():
                await soe.orchestrate(
                    config,
                    initial_workflow_name,
                    signals,
                    initial_context,
                    inherit_config_from_id=inherit_config_from_id,
                    inherit_context_from_id=inherit_context_from_id,
                    execution_id=execution_id,
                    wait=waits,
                    deliver=custom_caller is None,
                )
        except WorkflowValidationError as error:
            if in_tool and "already exists" in str(error):
                owner.reached_by_tool(execution_id, queue)
                return execution_id  # a retried tool started it the first time
            owner.forget(execution_id)
            raise
        except ExecutionNotFoundError as error:
            owner.forget(execution_id)
            if error.execution_id == inherit_config_from_id:
                raise UnknownExecutionError(
                    error.execution_id,
                    f"Cannot inherit config from execution '{error.execution_id}': no "
                    "workflows registry found (no such execution).",
                ) from None
            if error.execution_id == inherit_context_from_id:
                raise UnknownExecutionError(
                    error.execution_id,
                    f"Cannot inherit context from execution '{error.execution_id}': no "
                    "context found (no such execution).",
                ) from None
            raise
        if in_tool:
            owner.reached_by_tool(execution_id, queue)
        elif waits:
            await owner.settle_tool_reach()
        return execution_id

    run(start())
    if custom_caller is not None and signals:
        custom_caller(execution_id, list(signals))
    return execution_id


def broadcast_signals(
    execution_id: str | None = None,
    signals: list[str] | None = None,
    nodes: SoeNodes | None = None,
    backends: Any = None,
    *,
    id: str | None = None,
    wait: bool | None = None,
) -> None:
    """Send ``signals`` to an execution and return once its tree is idle (soe-ai's
    ``broadcast_signals``). Takes soe-ai's form ``(id, signals, nodes, backends)`` and the
    guide's ``(execution_id=..., signals=..., backends=...)``; ``nodes`` is optional.

    Inside a tool it delivers and returns without waiting (``wait=None``), under a request
    id derived from the tool call, so a retried tool delivers once. An id these backends
    did not start raises UnknownExecutionError (soe-ai's OperationalValidationError, and a
    ValueError)."""
    refuse_on_runtime_loop()
    if (execution_id is None) == (id is None):
        raise TypeError(
            "broadcast_signals() takes the execution's id once: as its first argument, "
            "as id= (soe-ai) or as execution_id= (the guide)."
        )
    target = execution_id if id is None else id
    if signals is None:
        raise TypeError("broadcast_signals() missing required argument: 'signals'")
    if backends is None and isinstance(nodes, SoeNodes):
        backends = nodes.backends
    owner = _checked_backends(backends)
    in_tool = _in_tool()
    request_id = _tool_request_id("signals") if in_tool else None
    waits = (not in_tool) if wait is None else wait
    sent = list(signals) if isinstance(signals, list) else signals

    async def send() -> None:
        queue = await owner.locate(target)
        if queue is None:
            raise UnknownExecutionError(str(target), NO_CONTEXT.format(id=target))
        await owner.serve(queue)
        soe = await owner.soe_client(queue)
        try:
            with soe_ai_errors():
                await soe.broadcast_signals(target, sent, wait=waits, request_id=request_id)  # type: ignore[arg-type]
        except ExecutionNotFoundError:
            raise UnknownExecutionError(target, NO_CONTEXT.format(id=target)) from None
        except WorkerUnavailableError as error:
            raise owner.unserved(target, queue, error) from None
        if in_tool:
            owner.reached_by_tool(target, queue)
        if waits:
            # soe-ai forwards a child's signals to its parent within the call: wait for
            # the whole tree the execution belongs to.
            main_id = (await soe.describe(target)).get("main_execution_id")
            if main_id and main_id != target and await owner.locate(main_id):
                await soe.wait_idle(main_id)
            if not in_tool:
                await owner.settle_tool_reach()

    run(send())
