"""soe-ai's backends object, backed by Temporal executions.

In soe-ai, backends store each execution's state and the engine reads and writes them. On
Temporal the executions hold their own state, so the six facets *read* from the executions
(queries); the writes that make sense on a running execution (a context, identities, a
context schema) reach it as a message (an update), and the others raise
:class:`UnsupportedWriteError` saying why. An id these backends did not start (or that is
not below one they started) answers as soe-ai's storage answers an unknown id.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import uuid
import weakref
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from ..client import SoeClient
from ..errors import (
    ConfigError,
    ExecutionClosedError,
    ExecutionNotFoundError,
    UnknownExecutionError,
    UnsupportedWriteError,
    WorkerUnavailableError,
    WorkflowValidationError,
)
from ..temporal.payloads import CONFIG_QUERY, CONVERSATION_QUERY
from ..worker import create_worker
from .runtime import run, runtime
from .servers import Connection, LocalServer, MemoryServer, RemoteService
from .telemetry import execution_events

DEFAULT_WAIT = timedelta(hours=1)
# Tools reaching executions whose tools reach others...: how deep a call settles.
SETTLE_ROUNDS = 100

T = TypeVar("T")
_LOG = logging.getLogger(__name__)
MEMORY_WAIT_TIMEOUT = timedelta(minutes=2)
FACTORIES = "create_in_memory_backends(), create_local_backends() or create_backends()"


class TemporalBackends:
    """The six facets of soe-ai's backends over Temporal executions, and ``cleanup_all()``.

    Made by the factories only; everything Temporal in it lives on the runtime loop.
    In-memory backends know only the executions they started (as soe-ai's in-memory
    backends); local and service backends find any execution of their server."""

    def __init__(
        self,
        *args: Any,
        _server: MemoryServer | LocalServer | RemoteService | None = None,
        _task_queue: str | None = None,
        **kwargs: Any,
    ) -> None:
        if _server is None:
            raise TypeError(
                "soe_temporal.soe keeps execution state in Temporal executions, not in "
                f"backend objects: make backends with {FACTORIES}."
            )
        self.server = _server
        self.kind = _server.kind
        self.task_queue = _task_queue or f"soe-mem-{uuid.uuid4().hex[:10]}"
        self.wait_timeout = MEMORY_WAIT_TIMEOUT if self.kind == "memory" else DEFAULT_WAIT
        self.context = ContextFacet(self)
        self.workflow = WorkflowFacet(self)
        self.telemetry = TelemetryFacet(self)
        self.conversation_history = ConversationHistoryFacet(self)
        self.context_schema = ContextSchemaFacet(self)
        self.identity = IdentityFacet(self)
        # The node sets made from these backends, by the task queue each is served on.
        self.node_sets: dict[str, _NodeWorker] = {}
        # Runtime-loop state.
        self._connection: Connection | None = None
        self._clients: dict[str, SoeClient] = {}
        self._workers: dict[str, Worker] = {}
        self._roots: dict[str, str] = {}  # execution id -> its task queue
        # Executions that tools of this process signalled or started, not yet waited for.
        self._reached_by_tools: dict[str, str] = {}
        self._lock: asyncio.Lock | None = None
        _LIVE.add(self)
        _stop_workers_at_exit()

    def __repr__(self) -> str:
        return (
            f"<soe_temporal.soe backends on {self.server.describe()}, task queue {self.task_queue}>"
        )

    @property
    def address(self) -> str:
        """The Temporal server's address (local and service backends), for the
        ``temporal`` CLI and ``soe-temporal``; empty for in-memory backends."""
        return getattr(self.server, "address", "")

    # -- node sets ------------------------------------------------------------------

    def add_node_set(self, options: Mapping[str, Any], node_types: list[str]) -> _NodeWorker:
        """A node set's worker, on a task queue named after what it serves (node types,
        tool names), so the same script run again serves the queue its executions wait
        on; a second, different set with the same names in this process gets a number."""
        tools = sorted(options.get("tools_registry") or {})
        digest = hashlib.sha256(json.dumps([sorted(node_types), tools]).encode()).hexdigest()
        base = f"{self.task_queue}-nodes-{digest[:10]}"
        queue, number = base, 1
        while queue in self.node_sets:
            number += 1
            queue = f"{base}-{number}"
        node_worker = _NodeWorker(queue, options)
        self.node_sets[queue] = node_worker
        return node_worker

    # -- runtime-loop side ----------------------------------------------------------

    def _the_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def _connect(self) -> Connection:
        async with self._the_lock():
            if self._connection is None:
                self._connection = await self.server.connect()
            return self._connection

    def payload_store(self) -> Any:
        """The payload store of these backends' executions (once connected)."""
        return self._connection.payload_store if self._connection is not None else None

    async def soe_client(self, task_queue: str | None = None) -> SoeClient:
        """A SoeClient on these backends' server and payload store, for ``task_queue``."""
        connection = await self._connect()
        queue = task_queue or self.task_queue
        if queue not in self._clients:
            self._clients[queue] = SoeClient(
                connection.client,
                queue,
                payload_store=connection.payload_store,
                wait_timeout=self.wait_timeout,
            )
        return self._clients[queue]

    async def serve(self, task_queue: str) -> None:
        """Make sure an in-process worker polls ``task_queue`` when these backends serve
        it: a node set's queue, or the plain queue of in-memory and local backends (a
        service's own workers serve its queue). Restarted after cleanup."""
        node_worker = self.node_sets.get(task_queue)
        if node_worker is None and (task_queue != self.task_queue or self.kind == "service"):
            return
        connection = await self._connect()
        if task_queue in self._workers:
            return
        options = node_worker.options if node_worker is not None else {}
        worker = create_worker(
            connection.client,
            task_queue,
            payload_store=connection.payload_store,
            tracing=False,
            **options,
        )
        await worker.__aenter__()
        self._workers[task_queue] = worker

    def started(self, execution_id: str, task_queue: str) -> None:
        self._roots[execution_id] = task_queue

    def forget(self, execution_id: str) -> None:
        self._roots.pop(execution_id, None)

    def _started_queue(self, execution_id: str) -> str | None:
        for root, queue in list(self._roots.items()):  # written on the runtime loop
            if execution_id == root or execution_id.startswith(root + "/"):
                return queue
        return None

    async def locate(self, execution_id: Any) -> str | None:
        """The task queue of the execution, or None when these backends do not know it:
        in-memory backends know the trees they started, the others every execution of
        their server."""
        if not isinstance(execution_id, str) or not execution_id:
            return None
        queue = self._started_queue(execution_id)
        if queue is not None or self.kind == "memory":
            return queue
        connection = await self._connect()
        try:
            info = await connection.client.get_workflow_handle(execution_id).describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return None
            raise
        return info.task_queue

    async def read(
        self,
        execution_id: str,
        reading: Callable[[SoeClient], Awaitable[T]],
        unknown: T,
        needs_worker: bool = True,
    ) -> T:
        """``reading`` an execution of these backends; ``unknown`` for any other id.
        ``needs_worker``: the reading asks the execution (a query), not its history."""
        queue = await self.locate(execution_id)
        if queue is None:
            return unknown
        if needs_worker:
            await self.serve(queue)
        client = await self.soe_client(queue)
        try:
            return await reading(client)
        except ExecutionNotFoundError:
            return unknown
        except WorkerUnavailableError as error:
            raise self.unserved(execution_id, queue, error) from None

    def reached_by_tool(self, execution_id: str, queue: str) -> None:
        """A tool of this process signalled or started ``execution_id`` (without waiting)."""
        self._reached_by_tools[execution_id] = queue

    async def settle_tool_reach(self, rounds: int = SETTLE_ROUNDS) -> None:
        """Wait until every execution the tools of this process signalled or started is
        idle, and those their tools reached in turn: soe-ai's calls return once the
        signals they caused, in any execution, are processed."""
        for _ in range(rounds):
            if not self._reached_by_tools:
                return
            reached, self._reached_by_tools = self._reached_by_tools, {}
            for execution_id, queue in reached.items():
                soe = await self.soe_client(queue)
                with contextlib.suppress(ExecutionNotFoundError, ExecutionClosedError):
                    await soe.wait_idle(execution_id)

    async def write(
        self, execution_id: str, writing: Callable[[SoeClient], Awaitable[None]], what: str
    ) -> None:
        """``writing`` to a running execution of these backends, as a message to it."""
        queue = await self.locate(execution_id)
        if queue is None:
            raise UnknownExecutionError(
                str(execution_id),
                f"Cannot save {what} for execution '{execution_id}': these backends know no "
                "such execution. On Temporal an execution's state lives in the execution: "
                "start one with orchestrate(..., initial_context=...).",
            )
        await self.serve(queue)
        client = await self.soe_client(queue)
        try:
            await writing(client)
        except WorkerUnavailableError as error:
            raise self.unserved(execution_id, queue, error) from None

    def unserved(
        self, execution_id: str, queue: str, error: WorkerUnavailableError
    ) -> WorkerUnavailableError:
        """No worker serves the execution's queue: for a node set of an earlier process,
        say how this one serves it."""
        if "-nodes-" not in queue:
            return error
        return WorkerUnavailableError(
            f"Execution '{execution_id}' runs on a node set no worker serves now (task "
            f"queue '{queue}'): its nodes run in the process that serves them. In this "
            "process, call create_all_nodes(backends, ...) (or setup_orchestration) with "
            "the call_llm and tools it was started with, then read or signal it."
        )

    async def _stop_workers(self) -> None:
        workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            with contextlib.suppress(Exception):
                await worker.__aexit__(None, None, None)

    async def _cleanup(self) -> None:
        if self._connection is None:
            return
        async with self._the_lock():
            for root, queue in self._roots.items():
                client = self._clients.get(queue) or SoeClient(
                    self._connection.client,
                    queue,
                    payload_store=self._connection.payload_store,
                )
                await _terminate_tree(client, root)
            self._roots.clear()
            await self._stop_workers()
            self._clients.clear()
            self._connection = None
            await self.server.disconnect()

    # -- caller's side --------------------------------------------------------------

    def cleanup_all(self) -> None:
        """End what these backends started: terminate their executions (and the
        executions below them), stop their workers, and release their server (the
        in-memory and local ones stop when no backends use them). Idempotent; the
        backends stay usable (the server and workers start again on next use)."""
        run(self._cleanup())


# Backends alive in this process: at exit their workers stop (before the servers; the
# executions stay, waiting for their next signal, as soe-ai's do).
_LIVE: weakref.WeakSet[TemporalBackends] = weakref.WeakSet()
_AT_EXIT: list[bool] = []


def _stop_workers_at_exit() -> None:
    if not _AT_EXIT:
        _AT_EXIT.append(True)

        async def stop_workers() -> None:
            for backends in list(_LIVE):
                await backends._stop_workers()

        runtime().at_exit.append(stop_workers)


async def _terminate_tree(client: SoeClient, execution_id: str) -> None:
    """Terminate an execution and every execution below it (children first learnt)."""
    children: list[str] = []
    try:
        info = await client.describe(execution_id)
    except Exception:  # gone already, or no worker to say: terminate what we know
        info = {"status": "UNKNOWN"}
    children = list(info.get("children") or [])
    for child in children:
        await _terminate_tree(client, child)
    if info.get("status") in ("RUNNING", "UNKNOWN"):
        with contextlib.suppress(RPCError, Exception):
            await client.temporal.get_workflow_handle(execution_id).terminate(reason="cleanup_all")


class _NodeWorker:
    """The callables one ``create_all_nodes`` call serves, and the queue they serve."""

    def __init__(self, task_queue: str, options: Mapping[str, Any]) -> None:
        self.task_queue = task_queue
        self.options = dict(options)


# -- the facets ---------------------------------------------------------------------------


class _Facet:
    def __init__(self, backends: TemporalBackends) -> None:
        self._backends = backends

    def _read(
        self, execution_id: str, reading: Callable[[SoeClient], Awaitable[T]], unknown: T
    ) -> T:
        return run(self._backends.read(execution_id, reading, unknown))

    def _read_history(
        self, execution_id: str, reading: Callable[[SoeClient], Awaitable[T]], unknown: T
    ) -> T:
        return run(self._backends.read(execution_id, reading, unknown, needs_worker=False))

    def _write(
        self, execution_id: str, writing: Callable[[SoeClient], Awaitable[None]], what: str
    ) -> None:
        run(self._backends.write(execution_id, writing, what))

    def cleanup_all(self) -> None:
        """As ``backends.cleanup_all()``: the executions are the storage."""
        self._backends.cleanup_all()


class ContextFacet(_Facet):
    def get_context(self, id: str) -> dict[str, Any]:
        """The execution's SOE-shaped context; ``{}`` for an unknown id (as soe-ai)."""
        return self._read(id, lambda soe: soe.get_context(id), {})

    def save_context(self, id: str, context: dict[str, Any]) -> None:
        """Replace the running execution's context whole (a message to it; its nodes see
        it from their next firing). The context keeps SOE's stored shape, as get_context
        returns it; one that could not run nodes raises WorkflowValidationError."""
        with soe_ai_write_errors():
            self._write(id, lambda soe: soe.save_context(id, context), "a context")


async def _running(client: SoeClient, execution_id: str) -> bool:
    info = await client.temporal.get_workflow_handle(execution_id).describe()
    return info.status == WorkflowExecutionStatus.RUNNING


class WorkflowFacet(_Facet):
    def get_workflows_registry(self, id: str) -> Any:
        """The workflows the execution runs (after any self-evolution); None if unknown."""
        return self._read(id, lambda soe: soe.get_workflows(id), None)

    def get_current_workflow_name(self, id: str) -> str:
        """The execution's current workflow name; ``""`` if unknown."""

        async def name(soe: SoeClient) -> str:
            return (await soe.describe(id)).get("workflow_name") or ""

        return self._read(id, name, "")

    def save_workflows_registry(self, id: str, workflows: dict[str, Any]) -> None:
        raise UnsupportedWriteError(
            "workflow.save_workflows_registry: an execution's workflows are captured when it "
            "starts and travel in its Temporal history. Change them from inside with the "
            "soe_inject_workflow / soe_remove_workflow built-ins, or start a new execution "
            "with the new config (inherit_context_from_id carries the context over)."
        )

    def save_current_workflow_name(self, id: str, name: str) -> None:
        raise UnsupportedWriteError(
            "workflow.save_current_workflow_name: an execution's workflow is fixed when it "
            "starts (orchestrate's initial_workflow_name); start a new execution to run "
            "another workflow."
        )


class TelemetryFacet(_Facet):
    def log_event(self, execution_id: str, event_type: str, **event_data: Any) -> None:
        raise UnsupportedWriteError(
            "telemetry.log_event: executions record their own events in their Temporal "
            "history. Log your own events with logging or OpenTelemetry."
        )

    def get_events(self, execution_id: str) -> list[dict[str, Any]]:
        """Every event the execution recorded, in order, as soe-ai's telemetry stores
        them (``event_type``, ``timestamp``, ``context``; SOE_SPEC F-TEL): read back by
        replaying its Temporal history (every run), so the execution keeps no event
        log. Open and closed executions; ``[]`` for an unknown id."""

        async def events(soe: SoeClient) -> list[dict[str, Any]]:
            return await execution_events(
                soe.temporal, execution_id, payload_store=self._backends.payload_store()
            )

        return self._read_history(execution_id, events, [])


_HISTORY_WRITE = (
    "the tree's conversation history is kept by its main execution on Temporal and grows "
    "only with its LLM calls."
)


class ConversationHistoryFacet(_Facet):
    def get_conversation_history(self, identity: str) -> list[dict[str, Any]]:
        """The tree's conversation history, keyed by its main execution id; [] if unknown."""

        async def history(soe: SoeClient) -> list[dict[str, Any]]:
            handle = soe.temporal.get_workflow_handle(identity)
            if not await _running(soe, identity):
                return []
            return await handle.query(CONVERSATION_QUERY, rpc_timeout=soe.query_timeout)

        return self._read(identity, history, [])

    def append_to_conversation_history(self, identity: str, entry: dict[str, Any]) -> None:
        raise UnsupportedWriteError(
            f"conversation_history.append_to_conversation_history: {_HISTORY_WRITE}"
        )

    def save_conversation_history(self, identity: str, history: list[dict[str, Any]]) -> None:
        raise UnsupportedWriteError(
            f"conversation_history.save_conversation_history: {_HISTORY_WRITE}"
        )

    def delete_conversation_history(self, identity: str) -> None:
        raise UnsupportedWriteError(
            f"conversation_history.delete_conversation_history: {_HISTORY_WRITE}"
        )


def _config_part(execution_id: str, part: str) -> Callable[[SoeClient], Awaitable[Any]]:
    async def reading(soe: SoeClient) -> Any:
        if not await _running(soe, execution_id):
            return None
        handle = soe.temporal.get_workflow_handle(execution_id)
        config = await handle.query(CONFIG_QUERY, rpc_timeout=soe.query_timeout)
        return config.get(part) or None

    return reading


class ContextSchemaFacet(_Facet):
    def get_context_schema(self, execution_id: str) -> dict[str, Any] | None:
        """The execution's context schema; None if it has none or is unknown."""
        return self._read(execution_id, _config_part(execution_id, "context_schema"), None)

    def save_context_schema(self, execution_id: str, schema: dict[str, Any]) -> None:
        """Replace the running execution's context schema (a message to it; children
        started before keep theirs)."""
        with soe_ai_write_errors():
            self._write(
                execution_id,
                lambda soe: soe.save_context_schema(execution_id, schema),
                "a context schema",
            )

    def delete_context_schema(self, execution_id: str) -> bool:
        """Delete the execution's context schema; whether it had one."""
        had = bool(self.get_context_schema(execution_id))
        self._write(
            execution_id,
            lambda soe: soe.save_context_schema(execution_id, None),
            "a context schema",
        )
        return had


class IdentityFacet(_Facet):
    def get_identities(self, execution_id: str) -> dict[str, str] | None:
        """The execution's identities; None if it has none or is unknown."""
        return self._read(execution_id, _config_part(execution_id, "identities"), None)

    def get_identity(self, execution_id: str, identity_name: str) -> str | None:
        identities = self.get_identities(execution_id) or {}
        return identities.get(identity_name)

    def save_identities(self, execution_id: str, identities: dict[str, str]) -> None:
        """Replace the running execution's identities (a message to it; children started
        before keep theirs)."""
        with soe_ai_write_errors():
            self._write(
                execution_id,
                lambda soe: soe.save_identities(execution_id, identities),
                "identities",
            )

    def delete_identities(self, execution_id: str) -> bool:
        """Delete the execution's identities; whether it had any."""
        had = bool(self.get_identities(execution_id))
        self._write(execution_id, lambda soe: soe.save_identities(execution_id, None), "identities")
        return had


@contextlib.contextmanager
def soe_ai_write_errors() -> Iterator[None]:
    """A write the execution refuses (a ConfigError) as soe-ai's validation error."""
    try:
        yield
    except ConfigError as error:
        raise WorkflowValidationError(str(error)) from None
