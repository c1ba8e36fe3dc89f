"""soe-ai's telemetry, read back: an execution's events, from its Temporal history.

An execution keeps no events (its state would grow with every step): SoeWorkflow hands each
step's events to its logger and its tracing, then forgets them. Since the workflow is
deterministic, replaying its history makes the engine record the same events again, in
the same order. :func:`execution_events` does that, with temporalio's Replayer and a
recording copy of SoeWorkflow that only the Replayer runs (so the live workers pay nothing),
over every run of the execution (continue-as-new starts a new run), and returns the events
as soe-ai's telemetry backends store them (F-TEL-1):

    {"event_type": "node_execution", "timestamp": "2025-01-01T12:00:00.123000Z",
     "context": {"node_name": "Route", "node_type": "router"}}

``timestamp`` is workflow time: when the workflow task that recorded the event started.
``context`` holds the fields soe-ai logs with the event type (F-TEL-3), as far as the engine
knows them; the engine's own events that soe-ai does not have (one per model answer) are
left out. Each execution, a child too, has the events it recorded itself.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter, StorageDriverClaim, StorageDriverRetrieveContext
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Replayer

from ..engine.commands import CallTool, ToolOutcome
from ..engine.events import (
    AgentStarted,
    ChildrenStarting,
    Event,
    LlmCalled,
    NodeErrored,
    NodeExecuted,
    PromptWarnings,
    ToolCalled,
)
from ..temporal.converter import payload_store_of, soe_temporal_client
from ..temporal.payload_store import PayloadStore, PayloadStoreSpec, external_storage
from ..temporal.payloads import WORKFLOW_TYPE
from ..workflow import SoeWorkflow
from .types import EventTypes

__all__ = ["execution_events", "soe_event_records"]

_SOE_EVENT_TYPES = frozenset(
    value for name, value in vars(EventTypes).items() if not name.startswith("_")
)

# The fields soe-ai logs with an event, where the engine's event has more (F-TEL-3).
_SOE_FIELDS: dict[type[Event], tuple[str, ...]] = {
    NodeExecuted: ("node_name", "node_type"),
    ChildrenStarting: ("node_type", "child_workflow", "parent_id"),
    LlmCalled: ("identity",),
    AgentStarted: ("stage",),
    PromptWarnings: ("warnings",),
    NodeErrored: ("node_type", "error"),
}


async def execution_events(
    client: Client, execution_id: str, *, payload_store: PayloadStoreSpec = None
) -> list[dict[str, Any]]:
    """Every event execution ``execution_id`` recorded, in order, as soe-ai's
    ``telemetry.get_events`` returns them (F-TEL-1, F-TEL-3); ``[]`` for an id Temporal
    does not know (or that is not an SOE execution), as soe-ai's backends answer.

    ``client`` is a Temporal client of the executions' namespace; ``payload_store`` is the
    store their workers use (as ``create_worker`` and ``SoeClient`` take it; a client that
    already stores payloads externally, e.g. ``SoeClient.temporal``, keeps its own). Open,
    completed, terminated and continued-as-new executions are read alike; runs the server
    no longer keeps (past its retention) are skipped.
    """
    client = soe_temporal_client(client, payload_store)
    histories = await _run_histories(client, execution_id)
    if not histories:
        return []
    namespace = f"soe-telemetry-{uuid.uuid4().hex}"
    sink = _SINKS[namespace] = _Sink()
    replayer = Replayer(
        workflows=[_RecordingSoeWorkflow],
        namespace=namespace,
        data_converter=_replay_converter(client),
    )
    records: list[dict[str, Any]] = []
    try:
        async with replayer.workflow_replay_iterator(_iterate(histories)) as results:
            async for result in results:  # one run at a time, in order
                if result.replay_failure is not None:
                    raise result.replay_failure
                records += sink.take()
    finally:
        del _SINKS[namespace]
    return records


def soe_event_records(
    events: list[Event], timestamp: str, max_retries: Callable[[str], int] = lambda _: 0
) -> list[dict[str, Any]]:
    """One step's engine events as soe-ai's telemetry records (F-TEL-1/3/4).

    A tool attempt (``ToolCalled``) is SOE's ``tool_call`` on the first attempt (with the
    tool's ``max_retries``), and a ``node_error`` when it failed: a retry's
    (``retry_attempt``), or, when the node fails with it, the final one that follows.
    """
    records = []
    for index, event in enumerate(events):
        if isinstance(event, ToolCalled):
            if event.attempt == 1:
                data = {"tool_name": event.tool_name, "max_retries": max_retries(event.tool_name)}
                records.append(_record(EventTypes.TOOL_CALL, timestamp, data))
            if event.status != "ok" and not _node_fails_with(event, events, index):
                data = {
                    "tool_name": event.tool_name,
                    "retry_attempt": event.attempt,
                    "error": event.error,
                }
                records.append(_record(EventTypes.NODE_ERROR, timestamp, data))
            continue
        if isinstance(event, NodeErrored):
            tool = _failed_tool(event, events, index)
            if tool is not None:
                data = {"tool_name": tool, "error": event.error}
            elif not event.node_name:  # a problem of the execution as a whole
                data = {"error": event.error}
            else:
                data = _soe_data(event)
            records.append(_record(EventTypes.NODE_ERROR, timestamp, data))
            continue
        if event.event_type in _SOE_EVENT_TYPES:
            records.append(_record(event.event_type, timestamp, _soe_data(event)))
    return records


def _soe_data(event: Event) -> dict[str, Any]:
    fields = _SOE_FIELDS.get(type(event))
    if fields is not None:
        return {name: getattr(event, name) for name in fields}
    data = event.to_dict()
    del data["event_type"]
    return data


def _node_fails_with(attempt: ToolCalled, events: list[Event], index: int) -> bool:
    """The tool attempt at ``index`` was its node's last: the node's error follows it
    (both are recorded as the attempt's outcome is applied)."""
    following = events[index + 1] if index + 1 < len(events) else None
    return isinstance(following, NodeErrored) and following.node_name == attempt.node_name


def _failed_tool(error: NodeErrored, events: list[Event], index: int) -> str | None:
    """The tool whose last attempt the node error at ``index`` follows, if any."""
    before = events[index - 1] if index else None
    if (
        isinstance(before, ToolCalled)
        and before.status != "ok"
        and before.node_name == error.node_name
    ):
        return before.tool_name
    return None


def _record(event_type: str, timestamp: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"event_type": event_type, "timestamp": timestamp, "context": data}


def _timestamp(moment: datetime) -> str:
    """F-TEL-1: UTC, ISO-8601 with microseconds, no offset, then ``Z``."""
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


# -- the recording workflow ------------------------------------------------------------


@dataclasses.dataclass
class _Sink:
    """What the recording workflow of one :func:`execution_events` call records."""

    records: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    # The last max_retries a tool's outcome carried (the registry entry of the worker that
    # ran it); built-ins that run in the workflow have none (0).
    tool_retries: dict[str, int] = dataclasses.field(default_factory=dict)

    def take(self) -> list[dict[str, Any]]:
        records, self.records = self.records, []
        return records


# Per call, under the namespace its Replayer gives the workflows it replays.
_SINKS: dict[str, _Sink] = {}


@workflow.defn(name=WORKFLOW_TYPE, sandboxed=False)
class _RecordingSoeWorkflow(SoeWorkflow):
    """SoeWorkflow as only :func:`execution_events`'s Replayer runs it: each step's events
    are kept, as soe-ai's records, instead of logged and traced (which changes nothing the
    history holds), in the sink of the call (``_SINKS``, by the Replayer's namespace)."""

    @workflow.run
    async def run(self, start: Any, *pieces: Any) -> dict[str, Any]:
        # Also the events a run's last handlers recorded after its last step (the live
        # worker would log them with its next step, which a closed run does not have).
        try:
            result = await super().run(start, *pieces)
        except workflow.ContinueAsNewError:
            self._log_events()
            raise
        self._log_events()
        return result

    def _log_events(self) -> None:
        events = self._execution.take_events()
        if events:
            sink = _SINKS[workflow.info().namespace]
            retries = sink.tool_retries
            sink.records += soe_event_records(
                events, _timestamp(workflow.now()), lambda tool: retries.get(tool, 0)
            )

    async def _tool_outcome(self, call: CallTool) -> ToolOutcome:
        outcome = await super()._tool_outcome(call)
        _SINKS[workflow.info().namespace].tool_retries[call.tool_name] = outcome.max_retries
        return outcome


# -- histories -------------------------------------------------------------------------


async def _run_histories(client: Client, execution_id: str) -> list[WorkflowHistory]:
    """The histories of the execution's runs, first run first: from the latest run back
    along the continue-as-new chain (each run's start names the run before), which needs
    no visibility store (the time-skipping test server has little)."""
    histories: list[WorkflowHistory] = []
    run_id: str | None = None
    while True:
        try:
            history = await client.get_workflow_handle(execution_id, run_id=run_id).fetch_history()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                break  # unknown, or a run past the server's retention
            raise
        if not history.events:
            break
        start = history.events[0].workflow_execution_started_event_attributes
        if start.workflow_type.name != WORKFLOW_TYPE:
            return []
        histories.append(history)
        run_id = start.continued_execution_run_id
        if not run_id:
            break
    histories.reverse()
    return histories


async def _iterate(histories: list[WorkflowHistory]) -> AsyncIterator[WorkflowHistory]:
    for history in histories:
        yield history


def _replay_converter(client: Client) -> DataConverter:
    """The client's converter, reading from its payload store without writing to it:
    replay encodes again what the history already holds claims for."""
    converter = client.data_converter
    store = payload_store_of(client)
    if store is None:
        return converter
    return dataclasses.replace(converter, external_storage=external_storage(_ReadOnly(store)))


class _ReadOnly(PayloadStore):
    """A payload store's reads (through its cache of recent payloads); its writes are
    dropped."""

    def __init__(self, store: PayloadStore) -> None:
        super().__init__()
        self._store = store

    def name(self) -> str:
        return self._store.name()

    def type(self) -> str:
        return self._store.type()

    def describe(self) -> str:
        return self._store.describe()

    async def put_blob(self, digest: str, data: bytes) -> None:
        return None

    async def get_blob(self, digest: str) -> bytes:
        return await self._store.get_blob(digest)

    async def retrieve(
        self, context: StorageDriverRetrieveContext, claims: Sequence[StorageDriverClaim]
    ) -> list[Payload]:
        return await self._store.retrieve(context, claims)
