"""SoeClient: SOE's API (orchestrate, broadcast_signals, get_context, ...) over Temporal.

The config is loaded and validated here, once, and travels in the workflow input, so an
execution never sees a later edit of the YAML file. Every wait and query has a time limit.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateStage,
)
from temporalio.common import TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from ..config import (
    SoeConfig,
    check_initial_workflow,
    check_start_parameters,
    inherit_config,
    load_config,
)
from ..engine.operational import initial_operational_problem, lineage
from ..engine.signals import signal_list_problem
from ..engine.size import json_size
from ..engine.state import EngineSettings
from ..engine.status import STATUSES
from ..errors import (
    ConfigError,
    ExecutionNotFoundError,
    NodeFailedError,
    WaitTimeoutError,
    WorkerUnavailableError,
)
from ..graph import entry_signals
from ..temporal.converter import soe_temporal_client
from ..temporal.payload_store import PayloadStoreSpec
from ..temporal.payloads import (
    BROADCAST_UPDATE,
    CLOSE_UPDATE,
    CONFIG_QUERY,
    CONTEXT_QUERY,
    DEFAULT_TASK_QUEUE,
    MEMO_WORKFLOW,
    SAVE_UPDATE,
    SIGNAL_NAME,
    STATUS_QUERY,
    WAIT_IDLE_UPDATE,
    WORKFLOW_TYPE,
    WORKFLOWS_QUERY,
    BroadcastRequest,
    IdleReport,
    SaveRequest,
    SoeWorkflowInput,
    WaitRequest,
    WorkflowArguments,
    lineage_from_memo,
    lineage_memo,
)
from ..temporal.search_attributes import (
    described_status,
    is_unregistered_refusal,
    list_query,
    listed_execution,
    registration_commands,
    search_attributes_available,
    start_attributes,
)
from ..temporal.serialization import NotJsonData, to_json_data
from .broadcast import Broadcaster, Delivery
from .explain import explain, pending_work, server_busy, wait_timeout
from .retry import Backoff, retrying, stop_if_cancelled
from .tree import wait_for_idle_tree
from .workers import workflow_pollers

T = TypeVar("T")
_LOG = logging.getLogger(__name__)
# What describe() can only learn from a worker (the execution's own state).
LIVE_FIELDS = (
    "idle",
    "failures",
    "children",
    "pending_broadcasts",
    "running_calls",
    "rejected_inputs",
    "running_nodes",
    "waits_for",
    "tokens",
)
TREE_WALK_QUERY_TIMEOUT = timedelta(seconds=1)
SIGNAL_ONCE_TIMEOUT = timedelta(seconds=5)


class SoeClient:
    """SOE's API for executions that run on Temporal."""

    def __init__(
        self,
        client: Client,
        task_queue: str = DEFAULT_TASK_QUEUE,
        *,
        wait_timeout: timedelta = timedelta(hours=1),
        query_timeout: timedelta = timedelta(seconds=10),
        cascade_limit: int = 10_000,
        agent_iteration_limit: int = 500,
        continue_as_new_after_events: int | None = None,
        max_state_bytes: int = EngineSettings().max_state_bytes,
        payload_store: PayloadStoreSpec = None,
        search_attributes: bool = True,
    ) -> None:
        """``search_attributes=False`` starts executions without SOE's search attributes
        (their trees too): nothing to find them by, and no upserts to pay for."""
        # The workers' payload store: large contexts and results are read from it.
        self.temporal = soe_temporal_client(client, payload_store)
        self.task_queue = task_queue
        self.wait_timeout = wait_timeout
        self.query_timeout = query_timeout
        self.cascade_limit = cascade_limit
        self.agent_iteration_limit = agent_iteration_limit
        self.max_state_bytes = max_state_bytes
        self.continue_as_new_after_events = continue_as_new_after_events
        self._broadcaster = Broadcaster(_Channel(self), server_busy)
        # Whether starts carry SOE's search attributes: asked of the server once.
        self._searchable: asyncio.Future[bool] | None = None
        self._search_attributes_wanted = search_attributes

    # -- starting -------------------------------------------------------------------

    async def orchestrate(
        self,
        config: str | Mapping[str, Any] | SoeConfig | None,
        initial_workflow_name: str,
        initial_signals: list[str],
        initial_context: Mapping[str, Any],
        inherit_config_from_id: str | None = None,
        inherit_context_from_id: str | None = None,
        execution_id: str | None = None,
        wait: bool = True,
        deliver: bool = True,
    ) -> str:
        """Start an execution (F-API-1); with ``wait``, until it is idle. With
        ``deliver=False`` it starts idle: ``initial_signals`` are checked but left for the
        caller to broadcast (as soe-ai's broadcast_signals_caller does).

        Raises :class:`ConfigError` before anything starts when the parameters or the
        config are invalid, and :class:`NodeFailedError` when a node fails with no failure
        path while handling the initial signals (the execution stays open).
        """
        check_start_parameters(initial_workflow_name, initial_signals, initial_context)
        if not config and not inherit_config_from_id:
            raise ConfigError("Either 'config' or 'inherit_config_from_id' must be provided")
        resolved = await self._resolve_config(config, inherit_config_from_id)
        check_initial_workflow(resolved, initial_workflow_name)
        context = _checked_context(initial_context, self.max_state_bytes)
        inherited = None
        if inherit_context_from_id:
            inherited = await self._inherited_context(inherit_context_from_id)
        start = SoeWorkflowInput(
            workflow_name=initial_workflow_name,
            registry=resolved.workflows,
            initial_signals=list(initial_signals) if deliver else [],
            initial_context=context,
            identities=resolved.identities,
            context_schema=resolved.context_schema,
            continue_as_new_after_events=self.continue_as_new_after_events,
            inherited_context=inherited,
            inherit_config_from_id=inherit_config_from_id,
            search_attributes_declined=not self._search_attributes_wanted,
        )
        start.settings = EngineSettings(
            self.cascade_limit, self.agent_iteration_limit, self.max_state_bytes
        )
        execution_id = execution_id or str(uuid.uuid4())
        main_id, parent_id = lineage(context, execution_id)
        arguments = WorkflowArguments.write(start)

        options: dict[str, Any] = {
            "args": arguments,
            "id": execution_id,
            "task_queue": self.task_queue,
            "memo": lineage_memo(initial_workflow_name, main_id, parent_id, execution_id, None),
            "static_summary": f"SOE workflow {initial_workflow_name}"
            + (f" ({resolved.source})" if resolved.source else ""),
        }
        budget = _Budget(self.wait_timeout.total_seconds())

        async def start_execution(attributes: TypedSearchAttributes | None) -> IdleReport | None:
            if not wait:
                await self.temporal.start_workflow(
                    WORKFLOW_TYPE, **options, search_attributes=attributes
                )
                return None
            # The wait for idle goes with the start: the execution takes it in its first
            # workflow task, so waiting costs no message and no workflow task of its own.
            started = WithStartWorkflowOperation(
                WORKFLOW_TYPE,
                **options,
                search_attributes=attributes,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            )
            _retrieve_start_error(started)
            waiting = await self._bounded(
                execution_id,
                self.temporal.start_update_with_start_workflow(
                    WAIT_IDLE_UPDATE,
                    WaitRequest(cascade=1),
                    start_workflow_operation=started,
                    wait_for_stage=WorkflowUpdateStage.COMPLETED,
                    result_type=IdleReport,
                ),
                budget,
            )
            return await self._bounded(execution_id, waiting.result(), budget)

        try:
            if await self._uses_search_attributes():
                try:
                    report = await start_execution(
                        start_attributes(initial_workflow_name, main_id, parent_id)
                    )
                except RPCError as error:
                    if not is_unregistered_refusal(error):
                        raise
                    self._searchable = _known(False)
                    self._say_search_attributes_missing()
                    report = await start_execution(None)
            else:
                report = await start_execution(None)
        except (WorkflowAlreadyStartedError, RPCError) as error:
            if isinstance(error, RPCError) and error.status != RPCStatusCode.ALREADY_EXISTS:
                raise
            raise ConfigError(
                f"An execution with id '{execution_id}' already exists; choose another "
                "execution_id or leave it out to get a fresh one."
            ) from None
        if wait:
            # The whole tree is new; the root's report is in hand unless it continued as new.
            known = report if report is not None and not report.retry else None
            await self._wait(execution_id, cascade=1, since="", root_report=known, budget=budget)
        return execution_id

    async def _uses_search_attributes(self) -> bool:
        """Whether starts carry SOE's search attributes (asked of the server once)."""
        if not self._search_attributes_wanted:
            return False
        if self._searchable is None:
            self._searchable = asyncio.ensure_future(self._ask_search_attributes())
        return await asyncio.shield(self._searchable)

    async def _ask_search_attributes(self) -> bool:
        try:
            available = await search_attributes_available(self.temporal)
        except RPCError:
            available = True  # a start refused for them is started again without
        if not available:
            self._say_search_attributes_missing()
        return available

    def _say_search_attributes_missing(self) -> None:
        _LOG.warning(
            "Temporal namespace '%s' has no SOE search attributes registered, so executions "
            "start without them and `soe-temporal list` cannot find them by SOE workflow or "
            "status. Register them with: %s",
            self.temporal.namespace,
            registration_commands(self.temporal.namespace),
        )

    async def _resolve_config(self, config: Any, inherit_config_from_id: str | None) -> SoeConfig:
        inherited: SoeConfig | None = None
        if inherit_config_from_id:
            source = await self._query(inherit_config_from_id, CONFIG_QUERY)
            if not source.get("workflows"):
                raise ConfigError(
                    f"Cannot inherit config from execution '{inherit_config_from_id}': "
                    "no workflows registry found"
                )
            inherited = SoeConfig(
                workflows=source["workflows"],
                context_schema=source.get("context_schema") or {},
                identities=source.get("identities") or {},
            )
        loaded = load_config(config) if config else None
        if inherited is None:
            assert loaded is not None
            return loaded
        return inherit_config(loaded, inherited)

    async def _inherited_context(self, source_id: str) -> dict[str, Any]:
        source = await self.get_context(source_id)
        if not source:
            raise ConfigError(
                f"Cannot inherit context from execution '{source_id}': no context found"
            )
        return source

    # -- signalling and waiting -----------------------------------------------------

    async def broadcast_signals(
        self,
        execution_id: str,
        signals: list[str],
        wait: bool = True,
        request_id: str | None = None,
    ) -> None:
        """Send SOE signals to an execution (F-API-2); with ``wait``, until it is idle.

        The signals travel with ``request_id`` (a fresh one if none is given): an execution
        takes each id once, so calling again with an id it has taken applies nothing and
        answers as the first call did, and this client's own retries never count a signal
        twice. Any number of callers may signal one execution at once.
        """
        problem = signal_list_problem(signals)
        if problem:
            raise ConfigError(problem)
        if request_id is not None and not (isinstance(request_id, str) and request_id):
            raise ConfigError(f"request_id must be a non-empty string; got {request_id!r}")
        budget = _Budget(self.wait_timeout.total_seconds())
        delivery = Delivery(request_id or str(uuid.uuid4()))
        sending = self._broadcaster.send(execution_id, list(signals), delivery, wait)
        try:
            report = await self._bounded(execution_id, sending, budget, delivery)
        except (RPCError, WorkflowUpdateFailedError) as error:
            raise await self._explain(execution_id, error) from None
        except WaitTimeoutError:
            if delivery.delivered or not await self._signal_once(execution_id, signals, delivery):
                raise
            raise await self._timeout(execution_id, budget, delivery) from None
        if report is not None:
            # The signals' cascade, and whatever failed below this execution since.
            await self._wait(execution_id, report.cascade, report.now, report, budget, delivery)

    async def _signal_once(self, execution_id: str, signals: list[str], delivery: Delivery) -> bool:
        """A wait that gives up before Temporal confirmed its update (no worker took it)
        makes sure of its signals first: a plain signal under the same request id, which
        the history keeps and the execution applies at most once. Whether it got there."""
        payload = {"signals": list(signals), "request_id": delivery.request_id}
        try:
            await self._handle(execution_id).signal(
                SIGNAL_NAME, payload, rpc_timeout=SIGNAL_ONCE_TIMEOUT
            )
        except (RPCError, RPCTimeoutOrCancelledError):
            stop_if_cancelled()
            return False
        delivery.delivered = True
        return True

    async def wait_idle(self, execution_id: str) -> None:
        """Wait until the execution and every execution below it are idle."""
        await self._wait(execution_id, cascade=None)

    async def _wait(
        self,
        execution_id: str,
        cascade: int | None,
        since: str | None = None,
        root_report: IdleReport | None = None,
        budget: _Budget | None = None,
        delivery: Delivery | None = None,
    ) -> None:
        """Wait until the tree under ``execution_id`` is idle; raise NodeFailedError for the
        unhandled failures of ``cascade`` there, and of anything below it since ``since``.
        ``root_report`` is what the root already answered (a broadcast waits for idle);
        ``budget`` what is left of the caller's time limit."""
        walk = wait_for_idle_tree(_Probe(self), execution_id, cascade, since, root_report)
        failures = await self._bounded(execution_id, walk, budget, delivery)
        if failures:
            raise NodeFailedError(execution_id, failures)

    async def wait_idle_report(self, execution_id: str, request: WaitRequest) -> IdleReport | None:
        """TreeProbe: wait (an update) until the execution is idle; None once closed."""
        handle = self._handle(execution_id)
        backoff = Backoff()
        while True:
            try:
                report: IdleReport = await handle.execute_update(
                    WAIT_IDLE_UPDATE, request, result_type=IdleReport
                )
            except (RPCError, WorkflowUpdateFailedError) as error:
                if await self._is_completed(execution_id):
                    return None
                if server_busy(error):
                    await backoff.sleep()
                    continue
                raise await self._explain(execution_id, error) from None
            if not report.retry:  # else it continued as new: ask the new run
                return report

    async def quick_status(self, execution_id: str) -> dict[str, Any] | None:
        """TreeProbe: the status query, if a worker answers within a second."""
        try:
            return await self._handle(execution_id).query(
                STATUS_QUERY, rpc_timeout=TREE_WALK_QUERY_TIMEOUT
            )
        except (RPCError, WorkflowQueryFailedError):
            return None

    async def close(self, execution_id: str) -> dict[str, Any]:
        """Complete the execution once it is idle; returns its final context."""
        handle = self._handle(execution_id)
        budget = _Budget(self.wait_timeout.total_seconds())
        closing = retrying(lambda: handle.execute_update(CLOSE_UPDATE), server_busy)
        try:
            await self._bounded(execution_id, closing, budget)
            return await self._bounded(execution_id, handle.result(), budget)
        except (RPCError, WorkflowUpdateFailedError) as error:
            raise await self._explain(execution_id, error) from None

    async def save_context(self, execution_id: str, context: Mapping[str, Any]) -> None:
        """Replace the running execution's context whole, as soe-ai's
        ``context.save_context`` does: ``context`` in the shape get_context returns (each
        field the list of its values, ``__operational__``). Its nodes see it from their
        next firing. Raises ConfigError when the context could not run nodes."""
        await self._save(execution_id, "context", dict(context))

    async def save_identities(
        self, execution_id: str, identities: Mapping[str, str] | None
    ) -> None:
        """Replace the execution's identities (system prompts by name); None deletes
        them. Its children started before keep theirs."""
        await self._save(
            execution_id, "identities", None if identities is None else dict(identities)
        )

    async def save_context_schema(
        self, execution_id: str, schema: Mapping[str, Any] | None
    ) -> None:
        """Replace the execution's context schema; None deletes it. Its children
        started before keep theirs."""
        await self._save(execution_id, "context_schema", None if schema is None else dict(schema))

    async def _save(self, execution_id: str, part: str, value: Any) -> None:
        handle = self._handle(execution_id)
        saving = retrying(
            lambda: handle.execute_update(SAVE_UPDATE, SaveRequest(part, value)), server_busy
        )
        try:
            await self._bounded(execution_id, saving)
        except (RPCError, WorkflowUpdateFailedError) as error:
            raise await self._explain(execution_id, error) from None

    async def _bounded(
        self,
        execution_id: str,
        waiting: Awaitable[T],
        budget: _Budget | None = None,
        delivery: Delivery | None = None,
    ) -> T:
        """``waiting``, within what is left of ``budget`` (else ``wait_timeout``); a
        timeout says how long the caller waited, for what, and whether its signals
        (``delivery``) were delivered."""
        budget = budget or _Budget(self.wait_timeout.total_seconds())
        task = asyncio.ensure_future(waiting)
        try:
            return await asyncio.wait_for(task, budget.remaining())
        except (TimeoutError, RPCTimeoutOrCancelledError):
            # temporalio turns the cancellation of a waiting update into its own error:
            # the time limit's, or the caller's own (then it stops here).
            stop_if_cancelled()
            raise await self._timeout(execution_id, budget, delivery) from None
        finally:
            # Cancelled (a time limit, Ctrl-C): its error is this call's to drop, not
            # asyncio's to print as never retrieved.
            if task.done() and not task.cancelled():
                task.exception()

    # -- reading ---------------------------------------------------------------------

    async def get_context(self, execution_id: str) -> dict[str, Any]:
        """The SOE-shaped context: history lists, ``__operational__``, ``__parent__``."""
        if await self._is_completed(execution_id):
            return await self._handle(execution_id).result()
        return await self._query(execution_id, CONTEXT_QUERY)

    async def get_workflows(self, execution_id: str) -> dict[str, Any]:
        """The workflows registry this execution runs (after any self-evolution)."""
        return await self._query(execution_id, WORKFLOWS_QUERY)

    async def describe(self, execution_id: str) -> dict[str, Any]:
        """Status, idleness, lineage, children and failures of an execution.

        The server answers the status, the lineage and what the execution waits for
        (``pending``) with no worker running; the rest (``LIVE_FIELDS``) a worker answers.
        When none does, they are left out and ``unanswered`` says why."""
        description = await self._describe(execution_id)
        memo = await description.memo()
        status = description.status
        main_id, parent_id = lineage_from_memo(
            execution_id, memo, description.root_id, description.parent_id
        )
        running = status == WorkflowExecutionStatus.RUNNING
        info: dict[str, Any] = {
            "execution_id": execution_id,
            "status": status.name if status is not None else "UNKNOWN",
            "idle": not running,
            "workflow_name": memo.get(MEMO_WORKFLOW),
            "main_execution_id": main_id,
            "parent_execution_id": parent_id,
            "children": [],
            "failures": [],
            "history_length": description.history_length,
            "pending": pending_work(description) if running else [],
            # As the search attributes last said (a worker tells what is current).
            **described_status(description.typed_search_attributes),
        }
        if not running:
            return info
        try:
            if await workflow_pollers(self.temporal, self.task_queue) == 0:
                raise WorkerUnavailableError(
                    f"no worker polls task queue '{self.task_queue}' (`soe-temporal worker`)"
                )
            live = await self._query(execution_id, STATUS_QUERY)
        except WorkerUnavailableError as error:
            for name in LIVE_FIELDS:
                info.pop(name, None)
            info["unanswered"] = {"fields": list(LIVE_FIELDS), "because": str(error)}
            return info
        info["idle"] = live["idle"]
        info["failures"] = live["failures"]
        info["pending_broadcasts"] = live["pending_broadcasts"]
        info["running_calls"] = live["running_calls"]
        info["children"] = live["children"]
        info["rejected_inputs"] = live.get("rejected_inputs", [])
        if "tokens" in live:  # workers from before token accounting do not say
            info["tokens"] = live["tokens"]
        info.update(live.get("soe") or {})
        registry = await self._query(execution_id, WORKFLOWS_QUERY)
        info["waits_for"] = entry_signals(registry, live.get("workflow_name") or "")
        return info

    async def list_executions(
        self,
        workflow_name: str | None = None,
        status: str | None = None,
        last_signal: str | None = None,
        query: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """SOE executions, newest first, by SOE workflow, status (``running``, ``idle``,
        ``failed``, ``closed``), a signal of their last turn, and a filter of Temporal's
        list syntax, e.g. ``SoeToolCalls > 3``: what the server's search index holds
        (it may lag the executions by a moment)."""
        if status is not None and status not in STATUSES:
            raise ConfigError(
                f"Unknown status '{status}': an SOE execution is one of {', '.join(STATUSES)}."
            )
        found: list[dict[str, Any]] = []
        listing = self.temporal.list_workflows(
            list_query(workflow_name, status, last_signal, query), limit=limit
        )
        try:
            async for execution in listing:
                found.append(
                    listed_execution(
                        execution.id,
                        execution.status.name if execution.status is not None else "UNKNOWN",
                        execution.start_time.isoformat(),
                        execution.typed_search_attributes,
                    )
                )
        except RPCError as error:
            if error.status == RPCStatusCode.INVALID_ARGUMENT:
                raise ConfigError(
                    f"Temporal refused the list query: {error.message}. With soe-temporal's "
                    "own filters, the search attributes must be registered (see README, "
                    "'Finding executions')."
                ) from None
            raise
        return found

    # -- plumbing --------------------------------------------------------------------

    def _handle(self, execution_id: str) -> WorkflowHandle[Any, Any]:
        return self.temporal.get_workflow_handle(execution_id)

    async def _describe(self, execution_id: str) -> Any:
        try:
            return await self._handle(execution_id).describe(rpc_timeout=self.query_timeout)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise ExecutionNotFoundError(execution_id, self.temporal.namespace) from None
            raise

    async def _is_completed(self, execution_id: str) -> bool:
        return (await self._describe(execution_id)).status == WorkflowExecutionStatus.COMPLETED

    async def _query(self, execution_id: str, query: str) -> Any:
        try:
            return await self._handle(execution_id).query(query, rpc_timeout=self.query_timeout)
        except RPCError as error:
            # A query waits for a worker to answer; within query_timeout none did.
            if error.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
                raise WorkerUnavailableError(
                    f"No worker answered about execution '{execution_id}' within "
                    f"{self.query_timeout.total_seconds():g}s. Is a worker running on task queue "
                    f"'{self.task_queue}' (`soe-temporal worker`)?"
                ) from None
            raise await self._explain(execution_id, error) from None
        except WorkflowQueryFailedError as error:
            raise await self._explain(execution_id, error) from None

    async def _explain(self, execution_id: str, error: Exception) -> Exception:
        """A Temporal error about an execution, as one that says what is wrong."""
        return explain(execution_id, error, await self._describe(execution_id))

    async def _timeout(
        self, execution_id: str, budget: _Budget, delivery: Delivery | None = None
    ) -> WaitTimeoutError:
        try:
            description = await self._describe(execution_id)
        except Exception:
            description = None
        return wait_timeout(
            execution_id,
            budget.waited(),
            self.task_queue,
            description,
            await workflow_pollers(self.temporal, self.task_queue),
            delivery.note() if delivery else "",
            delivery.delivered if delivery else None,
        )


def _retrieve_start_error(operation: WithStartWorkflowOperation[Any, Any]) -> None:
    """temporalio keeps a refused start's error for ``workflow_handle()``, which is not
    asked here (the call itself raises it): taken once set, so asyncio does not print it
    as never retrieved after a refusal this client answers (the id taken, attributes the
    server does not know)."""
    future = getattr(operation, "_workflow_handle", None)
    if isinstance(future, asyncio.Future):
        future.add_done_callback(lambda done: done.cancelled() or done.exception())


class _Budget:
    """A caller's time limit, shared by every step of its call."""

    def __init__(self, seconds: float) -> None:
        self._started = time.monotonic()
        self._seconds = seconds

    def waited(self) -> float:
        return time.monotonic() - self._started

    def remaining(self) -> float:
        return max(0.0, self._seconds - self.waited())


class _Channel:
    """The broadcaster's messages, sent through Temporal to the execution's current run."""

    def __init__(self, client: SoeClient) -> None:
        self._client = client

    async def update(self, execution_id: str, request: BroadcastRequest) -> IdleReport:
        handle = self._client._handle(execution_id)
        return await self._to_current_run(
            execution_id,
            lambda: handle.execute_update(BROADCAST_UPDATE, request, result_type=IdleReport),
        )

    async def signal(self, execution_id: str, payload: dict[str, Any]) -> None:
        handle = self._client._handle(execution_id)
        await self._to_current_run(execution_id, lambda: handle.signal(SIGNAL_NAME, payload))

    async def wait(self, execution_id: str, request: WaitRequest) -> IdleReport:
        handle = self._client._handle(execution_id)
        return await self._to_current_run(
            execution_id,
            lambda: handle.execute_update(WAIT_IDLE_UPDATE, request, result_type=IdleReport),
        )

    async def _to_current_run(self, execution_id: str, send: Callable[[], Awaitable[T]]) -> T:
        """``send()``, again when it reached a run just as it continued as new: Temporal
        then answers NOT_FOUND ("Completed workflow" on the time-skipping server) while the
        execution runs on. Safe, as every message carries its request id."""
        backoff = Backoff()
        for _ in range(_RACED_RUN_ATTEMPTS):
            try:
                return await send()
            except RPCError as error:
                if error.status != RPCStatusCode.NOT_FOUND or not await self._runs(execution_id):
                    raise
            await backoff.sleep()
        return await send()

    async def _runs(self, execution_id: str) -> bool:
        try:
            description = await self._client._describe(execution_id)
        except ExecutionNotFoundError:
            return False
        return description.status == WorkflowExecutionStatus.RUNNING


# Sends that may meet a run continuing as new before one reaches the run after it.
_RACED_RUN_ATTEMPTS = 3


class _Probe:
    """The tree walk's questions, asked of Temporal."""

    def __init__(self, client: SoeClient) -> None:
        self._client = client

    async def wait_idle(self, execution_id: str, request: WaitRequest) -> IdleReport | None:
        return await self._client.wait_idle_report(execution_id, request)

    async def status(self, execution_id: str) -> dict[str, Any] | None:
        return await self._client.quick_status(execution_id)


def _checked_context(context: Mapping[str, Any], max_bytes: int) -> dict[str, Any]:
    try:
        data = to_json_data(dict(context), "initial_context")
    except NotJsonData as error:
        raise ConfigError(str(error)) from None
    problem = initial_operational_problem(data)
    if problem:
        raise ConfigError(problem)
    size = json_size(data)
    if size > max_bytes:
        raise ConfigError(
            f"initial_context is {size} bytes of JSON, over the execution's state limit of "
            f"{max_bytes} bytes (max_state_bytes). Pass references to large data instead."
        )
    return copy.deepcopy(data)


def _known(value: bool) -> asyncio.Future[bool]:
    known: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    known.set_result(value)
    return known
