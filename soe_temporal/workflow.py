"""SoeWorkflow: the durable shell around one SOE execution (``soe_temporal.engine``).

It moves data and nothing else: signals in, engine commands out as activities, outcomes
back in. An execution that runs out of signals stays open and idle, costing nothing, until
the next signal; before its history grows large it continues as new with its whole state.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ActivityError, ApplicationError

from .config import workflows_problem
from .engine import CallTool, Command, Execution, ToolOutcome
from .engine.builtins import context_summary
from .engine.commands import (
    AppendToHistory,
    Call,
    CallLlm,
    ChildrenStarted,
    ChildSpec,
    HistoryAppend,
    HistoryRead,
    LlmOutcome,
    MessageToParent,
    Outcome,
    ReadHistory,
    StartChildren,
    TellParent,
)
from .engine.context import PARENT
from .engine.signals import read_external_signals, signal_list_problem
from .engine.state import VALIDATION_ERROR, ToolFacts
from .engine.status import RUNNING, running_details
from .temporal.activity_options import (
    DEFAULT_LLM_OPTIONS,
    DEFAULT_TOOL_OPTIONS,
    ActivityPlan,
    merge_options,
    plan_activity,
)
from .temporal.conversation import SplitPrompt, split_prompt
from .temporal.payloads import (
    BROADCAST_UPDATE,
    CASCADE_EACH_OUTCOME_VERSION,
    CHILD_MESSAGE_SIGNAL,
    CLOSE_UPDATE,
    CLOSING_REFUSAL,
    COMPACT_START_VERSION,
    CONFIG_QUERY,
    CONTEXT_QUERY,
    CONVERSATION_QUERY,
    HISTORY_APPEND_SIGNAL,
    INVALID_SAVE,
    INVALID_SIGNALS,
    LAZY_WORKER_OPTIONS_VERSION,
    LLM_ACTIVITY,
    OPTIONS_ONCE_PER_RUN_VERSION,
    READ_HISTORY_ACTIVITY,
    REPLACE_FIELDS_SIGNAL,
    SAVE_UPDATE,
    SIGNAL_NAME,
    STATUS_QUERY,
    SUMMARY_QUERY,
    TOOL_ACTIVITY,
    TOOL_NOT_FOUND,
    TOOL_PARAMETER_ERROR,
    TOOL_RESULT_INVALID,
    WAIT_IDLE_UPDATE,
    WORKER_OPTIONS_ACTIVITY,
    WORKFLOW_TYPE,
    WORKFLOWS_QUERY,
    BroadcastRequest,
    ChildMessage,
    IdleReport,
    LlmCallInput,
    LlmCallResult,
    SaveRequest,
    SoeWorkflowInput,
    ToolCallInput,
    ToolCallResult,
    ToolFailureDetails,
    ToolOptions,
    WaitRequest,
    WorkerOptions,
    WorkflowArguments,
    compact_parent_link,
    complete_parent_link,
    lineage_memo,
)
from .temporal.search_attributes import (
    carries_search_attributes,
    changes,
    registration_commands,
    start_attributes,
)
from .temporal.shared import derived, shared_registry, shared_value
from .temporal.tracing import trace_node_events

# A tool that could not be called at all: SOE raises before its attempt loop.
SETUP_FAILURE_TYPES = (TOOL_NOT_FOUND, TOOL_PARAMETER_ERROR)
_WORKER_OPTIONS_TIMEOUT = timedelta(seconds=30)
# The patch (workflow.patched) under which a soe_signal of an empty list is a broadcast of
# nothing; histories recorded before it refused one, and replay that way.
EMPTY_SIGNAL_LIST_PATCH = "soe-empty-signal-list-broadcasts"
# Continue as new here even if the server never suggests it (its hard limits are 51,200
# events and 50 MiB).
HISTORY_EVENT_LIMIT = 10_000
# How many conversations' stored heads a run remembers (the agents and identities it serves).
STORED_HEADS_KEPT = 32
HISTORY_BYTE_LIMIT = 20 * 1024 * 1024
# The outbox of an execution that has sent nothing yet: shared (a worker caches thousands
# of executions), replaced by one of its own at the first message.
_NO_MESSAGES: dict[str, list[tuple[str, Any]]] = {}


# Not in temporalio's sandbox: everything this module runs is ours and deterministic by
# construction (the engine is pure; user templates render in Jinja's own sandbox with the
# nondeterministic `random` and `lipsum` removed; user tools never run here). The sandbox
# re-imports the module for every execution and runs sandboxed code for every payload,
# which measured about 4 ms per local-activity node on the benchmark machine. The replay
# tests guard determinism instead.
@workflow.defn(name=WORKFLOW_TYPE, sandboxed=False)
class SoeWorkflow:
    # A worker caches thousands of idle executions: no per-instance dict.
    __slots__ = (
        "_version",
        "_resumed",
        "_continue_as_new_after_events",
        "_execution",
        "_worker_options",
        "_reading_options",
        "_closing",
        "_continuing",
        "_executing",
        "_outbox",
        "_stored_heads",
        "_searchable",
        "_search_attributes_declined",
        "_shown_running",
        "_short_at_length",
    )

    @workflow.init
    def __init__(self, start: Any, *pieces: Any) -> None:
        """``pieces`` are the large values of the input, each a payload of its own
        (``WorkflowArguments``), so each is stored once while it stays the same."""
        arguments = start
        start = WorkflowArguments.read(arguments, pieces)
        WorkflowArguments.release(arguments, pieces)
        # What later steps read of the input; the rest now lives in the execution's state.
        self._version = start.version
        self._resumed = start.resumed is not None
        self._continue_as_new_after_events = start.continue_as_new_after_events
        info = workflow.info()
        if start.resumed is not None:
            start.resumed.registry = shared_registry(start.resumed.registry)
            self._execution = Execution(start.resumed, workflows_problem)
        else:
            initial_context = start.initial_context
            if start.version >= COMPACT_START_VERSION and info.parent is not None:
                initial_context = _with_parent_link(initial_context, info)
            self._execution = Execution.start(
                execution_id=info.workflow_id,
                workflow_name=start.workflow_name,
                registry=shared_registry(start.registry),
                initial_context=initial_context,
                initial_signals=start.initial_signals,
                identities=start.identities,
                context_schema=start.context_schema,
                settings=start.settings,
                inherited_context=start.inherited_context,
                workflows_problem=workflows_problem,
                inherited_config_from=start.inherit_config_from_id,
            )
        self._execution.clock = _workflow_time
        self._execution.cascade_each_outcome = start.version >= CASCADE_EACH_OUTCOME_VERSION
        self._worker_options: WorkerOptions | None = None
        self._reading_options: asyncio.Task[None] | None = None
        self._closing = start.closing
        self._continuing = False
        # Activity calls started and not finished (the engine also counts nodes whose
        # next call is held back while continuing as new).
        self._executing = 0
        # Signals for other executions (a parent, the main execution), per target, in order.
        self._outbox: dict[str, list[tuple[str, Any]]] = _NO_MESSAGES
        # The last chunks of conversations LLM calls have stored, newest last: a stored
        # chunk's predecessors are stored too (conversation.py). Carried over.
        self._stored_heads: tuple[str, ...] = tuple(start.stored_conversation_heads)
        # Whether it keeps SOE's search attributes: when its start carried them (a server
        # without them registered would refuse them), as the start event records.
        self._searchable = carries_search_attributes(info.typed_search_attributes)
        self._search_attributes_declined = start.search_attributes_declined
        # Whether it shows the running status (its UI details, and its search attributes
        # when it keeps them, say ``running``).
        self._shown_running = False
        # The history length at which it was last found short (_history_is_long).
        self._short_at_length = -1
        if not self._searchable and not self._search_attributes_declined:
            _say_once_how_to_register(info.namespace)

    @workflow.run
    async def run(self, start: Any, *pieces: Any) -> dict[str, Any]:
        execution = self._execution
        if self._resumed:
            # Nodes that were waiting when the last run continued as new call again.
            await self._ensure_worker_options()
            self._start(execution.resume_commands())
        while True:
            if execution.idle and self._version < OPTIONS_ONCE_PER_RUN_VERSION:
                # Version 2 read a worker's tool options again each time it woke.
                self._worker_options = None
            await workflow.wait_condition(self._has_work)
            if self._closing and self._quiet:
                await workflow.wait_condition(workflow.all_handlers_finished)
                self._show_status(closed=True)
                return execution.context
            if self._history_is_long():
                await self._continue_as_new()
            await self._ensure_worker_options()
            self._start(execution.process_pending())
            self._log_events()
            self._show_status()

    def _has_work(self) -> bool:
        """Signals to broadcast, a close to finish, or a history to start anew."""
        return (
            bool(self._execution.state.pending)
            or (self._closing and self._quiet)
            or self._history_is_long()
        )

    @property
    def _quiet(self) -> bool:
        """Idle, and nothing left to tell other executions."""
        return self._execution.idle and not self._outbox

    # -- messages -------------------------------------------------------------------

    @workflow.signal(name=HISTORY_APPEND_SIGNAL)
    def soe_history_append(self, append: HistoryAppend) -> None:
        """Turns for the tree's conversation history, from a node in a child (F-HIST)."""
        self._execution.apply_history_append(append)

    @workflow.signal(name=REPLACE_FIELDS_SIGNAL)
    def soe_replace_fields(self, histories: dict[str, list[Any]]) -> None:
        """Whole field histories copied here from another execution (F-BI-14)."""
        self._execution.replace_fields(histories)

    @workflow.query(name=CONVERSATION_QUERY)
    def soe_conversation(self) -> list[dict[str, Any]]:
        """The tree's conversation history (kept by the main execution)."""
        return self._execution.state.conversation_history

    @workflow.signal(name=CHILD_MESSAGE_SIGNAL)
    def soe_child_message(self, message: ChildMessage) -> None:
        """A child's context updates and forwarded signals (F-CHILD-8/9)."""
        self._start(
            self._execution.receive_from_child(
                message.child_execution_id,
                MessageToParent(
                    [(k, v) for k, v in message.updates], message.signals, message.tree_changes
                ),
            )
        )

    @workflow.signal(name=SIGNAL_NAME)
    def soe_signal(self, signals: Any) -> None:
        """External SOE signals: a JSON list of names (a single name is accepted too), or
        ``{"signals": [...], "request_id": "..."}``, which is delivered once per id."""
        external = read_external_signals(signals)
        if external.problem:
            self._reject(
                SIGNAL_NAME,
                f"{external.problem} (with the temporal CLI: --input '[\"APPROVED\"]')",
                _payload_text(signals),
            )
            return
        if not external.signals and not workflow.patched(EMPTY_SIGNAL_LIST_PATCH):
            # Recorded before an empty list was a broadcast: it was refused then.
            self._reject(SIGNAL_NAME, "signals must not be empty", _payload_text(signals))
            return
        self._execution.deliver(external.signals, external.request_id)

    @workflow.signal(dynamic=True)
    def soe_other_signal(self, name: str, args: Sequence[RawValue]) -> None:
        """A Temporal signal under a name SoeWorkflow does not take: kept as refused."""
        payload = args[0].payload.data.decode(errors="replace") if args else ""
        self._reject(
            name,
            f"an SOE execution takes no signal named '{name}': send SOE signals in "
            f"'{SIGNAL_NAME}', e.g. --name {SIGNAL_NAME} --input '[\"{name}\"]'",
            payload,
        )

    def _reject(self, message: str, problem: str, payload: str) -> None:
        rejected = self._execution.reject_input(message, problem, payload)
        workflow.logger.warning(
            "Refused %s: %s (payload %s)", rejected.message, rejected.problem, rejected.payload
        )

    @workflow.update(name=BROADCAST_UPDATE)
    async def soe_broadcast(self, request: BroadcastRequest) -> IdleReport:
        cascade = self._execution.deliver(list(request.signals), request.request_id)
        if not request.wait:
            return self._report(WaitRequest(cascade))
        return await self._wait_idle(WaitRequest(cascade))

    @soe_broadcast.validator
    def _validate_broadcast(self, request: BroadcastRequest) -> None:
        problem = signal_list_problem(request.signals)
        if problem:
            raise ApplicationError(problem, type=INVALID_SIGNALS)
        if self._closing:
            raise ApplicationError(
                "the execution is closing and takes no more signals", type=CLOSING_REFUSAL
            )

    @workflow.update(name=WAIT_IDLE_UPDATE)
    async def soe_wait_idle(self, request: WaitRequest) -> IdleReport:
        return await self._wait_idle(request)

    @workflow.update(name=CLOSE_UPDATE)
    def soe_close(self) -> None:
        """Complete the execution once it is idle; its result is the final context."""
        self._closing = True

    @workflow.update(name=SAVE_UPDATE)
    def soe_save(self, request: SaveRequest) -> None:
        """soe-ai's backend writes (save_context, save_identities, ...), applied at once:
        the nodes see them from their next firing."""
        self._execution.save_state_part(request.part, request.value)

    @soe_save.validator
    def _validate_save(self, request: SaveRequest) -> None:
        problem = self._execution.state_part_problem(request.part, request.value)
        if problem:
            raise ApplicationError(problem, type=INVALID_SAVE)
        if self._closing:
            raise ApplicationError("the execution is closing", type=CLOSING_REFUSAL)

    @workflow.query(name=CONTEXT_QUERY)
    def soe_context(self) -> dict[str, Any]:
        return self._execution.context

    @workflow.query(name=WORKFLOWS_QUERY)
    def soe_workflows(self) -> dict[str, Any]:
        return self._execution.state.registry

    @workflow.query(name=CONFIG_QUERY)
    def soe_config(self) -> dict[str, Any]:
        state = self._execution.state
        return {
            "workflows": state.registry,
            "context_schema": state.context_schema,
            "identities": state.identities,
        }

    @workflow.query(name=SUMMARY_QUERY)
    def soe_summary(self) -> dict[str, Any]:
        """What soe_list_contexts shows of this execution (F-BI-15)."""
        return context_summary(self._execution.context)

    @workflow.query(name=STATUS_QUERY)
    def soe_status(self) -> dict[str, Any]:
        execution = self._execution
        state = execution.state
        return {
            "execution_id": state.execution_id,
            "workflow_name": state.workflow_name,
            "idle": self._quiet,
            "closing": self._closing,
            "pending_broadcasts": len(state.pending),
            "running_calls": execution.running_calls,
            "progress": state.progress,
            "calls": execution.calls_started,
            "children": list(state.children),
            "failures": [f.to_dict() for f in state.failures],
            "rejected_inputs": list(state.rejected_inputs),
            "soe": execution.status(busy=bool(self._outbox)).describe(),
            "tokens": execution.tokens.describe(),
        }

    def _show_status(self, closed: bool = False) -> None:
        """What Temporal shows of the execution: its current details in the UI (kept in
        the worker, no history), and its search attributes, upserted (one history event)
        only when one changes: when a turn starts and when it ends."""
        execution = self._execution
        busy = bool(self._outbox)
        if self._shown_running and not closed and (busy or not execution.idle):
            # Every call of a turn: it shows running already, only the nodes that run
            # change. Executions of one workflow in one state show the same text: held
            # once (running_details shares it).
            workflow.set_current_details(
                running_details(execution.state.workflow_name, execution.running_nodes)
            )
            return
        status = execution.status(busy=busy, closed=closed)
        workflow.set_current_details(sys.intern(status.details()))
        self._shown_running = status.status == RUNNING
        if not self._searchable:
            return
        updates = changes(workflow.info().typed_search_attributes, status)
        if updates:
            workflow.upsert_search_attributes(updates)

    def _log_events(self) -> None:
        """SOE's events since the last step, through the workflow logger (replay-safe),
        and as node spans when the worker traces (temporal/tracing.py)."""
        events = self._execution.take_events()
        trace_node_events(self._execution, events)
        if not workflow.logger.isEnabledFor(logging.INFO):
            return
        for event in events:
            workflow.logger.info("SOE %s", event.event_type, extra={"soe_event": event})

    def _send(self, execution_id: str, signal: str, payload: Any) -> None:
        """Queue a signal to another execution; one sender per target keeps them in order."""
        if self._outbox is _NO_MESSAGES:
            self._outbox = {}
        queue = self._outbox.setdefault(execution_id, [])
        queue.append((signal, payload))
        if len(queue) == 1:
            self._executing += 1
            # temporalio holds on to the tasks a workflow creates until they are done.
            asyncio.create_task(self._drain_outbox(execution_id))

    async def _drain_outbox(self, execution_id: str) -> None:
        target = workflow.get_external_workflow_handle(execution_id)
        queue = self._outbox[execution_id]
        try:
            while queue:
                signal, payload = queue[0]
                try:
                    await target.signal(signal, payload)
                except Exception as error:  # a closed execution: this one goes on alone
                    workflow.logger.warning(
                        "Could not signal execution '%s' (%s): %s", execution_id, signal, error
                    )
                queue.pop(0)
        finally:
            del self._outbox[execution_id]
            self._executing -= 1
        self._show_status()

    # -- waiting --------------------------------------------------------------------

    async def _wait_idle(self, request: WaitRequest) -> IdleReport:
        # While continuing as new, answer only once the running calls are done, so that
        # the caller's next question reaches the new run instead of spinning on this one.
        # Signals sent before the wait are taken before it (Temporal keeps their order), so
        # an id the execution does not know was forgotten, not lost: it stops waiting for
        # those once it has forgotten any.
        execution = self._execution

        def taken(request_id: str) -> bool:
            return execution.request_cascade(request_id) is not None

        await workflow.wait_condition(
            lambda: (
                (
                    self._quiet
                    and (execution.forgets_requests or all(map(taken, request.request_ids)))
                )
                or (self._continuing and self._executing == 0)
            )
        )
        return self._report(request)

    def _report(self, request: WaitRequest) -> IdleReport:
        """Idleness, progress and children; the unhandled failures of a cascade (or of the
        cascades of the requests named), or of everything since a moment (for executions
        below the one the caller signalled)."""
        execution = self._execution
        requests = {
            request_id: cascade
            for request_id in request.request_ids
            if (cascade := execution.request_cascade(request_id)) is not None
        }
        failures = execution.unhandled_failures(request.cascade, request.since)
        for cascade in sorted(set(requests.values()) - {request.cascade}):
            failures += execution.unhandled_failures(cascade)
        return IdleReport(
            cascade=request.cascade,
            idle=self._quiet,
            retry=self._continuing,
            progress=execution.state.progress,
            failures=[f.to_dict() for f in failures],
            children=list(execution.state.children),
            now=workflow.now().isoformat(),
            requests=requests,
            calls=execution.calls_started,
        )

    # -- continue-as-new ------------------------------------------------------------

    def _history_is_long(self) -> bool:
        """When the server suggests it, or (for servers that never do) past our limits.

        Asked at every step of every workflow task: a task's history length, size and
        suggestion change together, with the task, so an answer holds while the length
        stays the same (a chain of local activities takes one task)."""
        info = workflow.info()
        length = info.get_current_history_length()
        if length == self._short_at_length:
            return False
        limit = self._continue_as_new_after_events or HISTORY_EVENT_LIMIT
        long = (
            info.is_continue_as_new_suggested()
            or length >= limit
            or info.get_current_history_size() >= HISTORY_BYTE_LIMIT
        )
        if not long:
            self._short_at_length = length
        return long

    async def _continue_as_new(self) -> None:
        """Let the calls in flight finish, start nothing new (queued signals and the calls
        waiting nodes need are carried over), then continue as new with everything."""
        self._continuing = True
        await workflow.wait_condition(
            lambda: self._executing == 0 and workflow.all_handlers_finished()
        )
        # The state travels as claims on the payload store, whatever its size, in pieces
        # so that what did not change since the last run is not stored again.
        carried = SoeWorkflowInput.resuming(
            self._execution.state_to_carry_over(),
            self._continue_as_new_after_events,
            self._closing,
            self._search_attributes_declined,
        )
        carried.stored_conversation_heads = list(self._stored_heads)
        workflow.continue_as_new(
            args=WorkflowArguments.write(carried),
            memo=workflow.memo(),
            search_attributes=workflow.info().typed_search_attributes if self._searchable else None,
        )

    # -- carrying out the engine's commands --------------------------------------------

    async def _ensure_worker_options(self) -> None:
        """Before a broadcast: the worker's options, if a node may need them to fire
        (from version 5; before, if any node of the workflow may call this worker)."""
        if self._worker_options is not None:
            return
        execution = self._execution
        if self._version >= LAZY_WORKER_OPTIONS_VERSION:
            needed = execution.needs_worker_facts_to_fire()
        else:
            needed = execution.needs_worker_facts()
        if needed:
            await self._read_worker_options()

    async def _options_for(self, temporal: dict[str, Any] | None) -> WorkerOptions:
        """The worker's options for a call: from version 5 read when the first call that
        runs on this worker's task queue needs them, so an execution that only waits never
        reads them."""
        if (
            self._worker_options is None
            and self._version >= LAZY_WORKER_OPTIONS_VERSION
            and not (temporal or {}).get("task_queue")
        ):
            await self._read_worker_options()
        return self._worker_options or WorkerOptions()

    async def _read_worker_options(self) -> None:
        """One read per run, however many calls wait for it."""
        reading = self._reading_options
        if reading is None or (reading.done() and self._worker_options is None):
            self._reading_options = asyncio.create_task(self._fetch_worker_options())
        await self._reading_options

    async def _fetch_worker_options(self) -> None:
        self._worker_options = shared_value(
            await workflow.execute_local_activity(
                WORKER_OPTIONS_ACTIVITY,
                result_type=WorkerOptions,
                start_to_close_timeout=_WORKER_OPTIONS_TIMEOUT,
                summary="read the worker's tool and LLM options",
            )
        )
        self._execution.learn_tools(derived(self._worker_options, _tool_facts))

    def _start(self, commands: list[Command], keep_last_call: bool = False) -> Call | None:
        """Carry out the engine's commands: messages are sent (in order, per target);
        calls run, and their outcomes go back to the engine. While continuing as new,
        calls wait: the engine keeps their nodes waiting and the next run issues them.

        With ``keep_last_call``, a call that comes last is counted as running but handed
        back, for the task that finished the call before it to carry out (a chain's next
        call needs no task of its own)."""
        for index, command in enumerate(commands):
            if isinstance(command, TellParent):
                self._send(command.parent_execution_id, CHILD_MESSAGE_SIGNAL,
                           _child_message(self._execution.execution_id, command))  # fmt: skip
            elif isinstance(command, AppendToHistory):
                self._send(command.main_execution_id, HISTORY_APPEND_SIGNAL, command.append)
            elif not self._continuing:
                self._executing += 1
                if keep_last_call and index == len(commands) - 1:
                    return command
                asyncio.create_task(self._carry_out(command))
        return None

    async def _carry_out(self, call: Call) -> None:
        """One call, then each call that comes last of what its outcome starts."""
        while True:
            try:
                if isinstance(call, CallTool):
                    outcome: Outcome = await self._tool_outcome(call)
                elif isinstance(call, CallLlm):
                    outcome = await self._llm_outcome(call)
                elif isinstance(call, ReadHistory):
                    outcome = await self._read_history(call)
                else:
                    outcome = await self._start_children(call)
            finally:
                self._executing -= 1
            following = self._start(
                self._execution.complete_call(call.call_id, outcome), keep_last_call=True
            )
            self._log_events()
            self._show_status()
            if following is None:
                return
            # A task of its own would first run after everything ready now: so does this
            # one, and the calls start in the order, and with the ids, they always had.
            await asyncio.sleep(0)
            call = following

    async def _read_history(self, command: ReadHistory) -> HistoryRead:
        """The tree's history, read from the main execution by a local activity."""
        try:
            entries = await workflow.execute_local_activity(
                READ_HISTORY_ACTIVITY,
                command.main_execution_id,
                result_type=list[dict[str, Any]],
                start_to_close_timeout=_WORKER_OPTIONS_TIMEOUT,
                summary=f"{command.workflow_name}.{command.node_name}: read the conversation",
            )
        except Exception as error:  # the main execution is gone: start from nothing
            workflow.logger.warning("Could not read the conversation history: %s", error)
            entries = []
        return HistoryRead(entries)

    async def _start_children(self, command: StartChildren) -> ChildrenStarted:
        """Child workflows of the same type, abandoned by their parent's close so they
        outlive its continue-as-new; fan-out children ``spawn_interval`` apart (timers)."""
        started: list[str] = []
        errors: list[str] = []
        parent_id, root_id = workflow.info().workflow_id, _temporal_root_id()

        async def start(child: ChildSpec) -> None:
            try:
                await workflow.start_child_workflow(
                    WORKFLOW_TYPE,
                    args=WorkflowArguments.write(self._child_input(command, child)),
                    id=child.execution_id,
                    task_queue=workflow.info().task_queue,
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    memo=lineage_memo(
                        command.child_workflow_name,
                        self._execution.main_execution_id,
                        self._execution.execution_id,
                        temporal_root_id=root_id,
                        temporal_parent_id=parent_id,
                    ),
                    static_summary=f"{command.workflow_name}.{command.node_name} -> "
                    f"{command.child_workflow_name}",
                    search_attributes=start_attributes(
                        command.child_workflow_name,
                        self._execution.main_execution_id,
                        self._execution.execution_id,
                    )
                    if self._searchable
                    else None,
                )
                started.append(child.execution_id)
            except Exception as error:
                errors.append(f"Child execution '{child.execution_id}' could not start: {error}")

        if command.spawn_interval > 0:
            for index, child in enumerate(command.children):
                if index:
                    await workflow.sleep(timedelta(seconds=command.spawn_interval))
                await start(child)
        else:
            await asyncio.gather(*(start(child) for child in command.children))
        order = {child.execution_id: index for index, child in enumerate(command.children)}
        return ChildrenStarted(sorted(started, key=order.__getitem__), errors)

    def _child_input(self, command: StartChildren, child: ChildSpec) -> SoeWorkflowInput:
        """A child's start, as small as it can be (a fan-out writes one per child, twice):
        what Temporal records of the child, and the default limits, are left out."""
        context = child.initial_context
        link = context.get(PARENT)
        if isinstance(link, dict):
            context = {**context, PARENT: compact_parent_link(link, _temporal_root_id())}
        start = SoeWorkflowInput(
            workflow_name=command.child_workflow_name,
            registry=command.registry,
            initial_signals=list(command.initial_signals),
            initial_context=context,
            identities=command.identities,
            context_schema=command.context_schema,
            continue_as_new_after_events=self._continue_as_new_after_events,
            search_attributes_declined=self._search_attributes_declined,
        )
        start.settings = self._execution.settings
        return start

    async def _llm_outcome(self, call: CallLlm) -> LlmOutcome:
        options = await self._options_for(call.temporal)
        plan = plan_activity(
            merge_options(DEFAULT_LLM_OPTIONS, options.llm_defaults, call.temporal)
        )
        request = LlmCallInput(
            execution_id=self._execution.state.execution_id,
            workflow_name=call.workflow_name,
            node_name=call.node_name,
            attempt=call.attempt,
            prompt=call.prompt,
            config=call.config,
            system_prompt=call.system_prompt,
        )
        split = split_prompt(call.prompt) if options.conversation_by_reference else None
        if split is not None:
            stored = set(self._stored_heads)
            known = max((i for i, c in enumerate(split.chunks) if c.id in stored), default=-1)
            request.prompt = ""
            request.prompt_before, request.prompt_after = split.before, split.after
            request.conversation_head = split.head
            request.conversation_chunks = split.chunks[known + 1 :]
        try:
            result = await _start_call(
                plan,
                LLM_ACTIVITY,
                request,
                LlmCallResult,
                call,
                f"agent {call.stage} stage, LLM call (attempt {call.attempt})"
                if call.stage
                else f"LLM call (attempt {call.attempt})",
            )
        except ActivityError as error:
            return LlmOutcome("failed", error=_activity_failure_text(error))
        except Exception as error:  # never leave a call running forever
            return LlmOutcome("failed", error=f"The LLM call could not run: {error}")
        if split is not None:
            self._remember_stored(split)
        return LlmOutcome("ok", text=result.text, usage=result.usage)

    def _remember_stored(self, split: SplitPrompt) -> None:
        """The call stored its conversation: remember its last chunk and the one before,
        since the last is usually partial and grows into another chunk next time, while
        the one before stays the ancestor of every longer version of the conversation."""
        remembered = [chunk.id for chunk in split.chunks[-2:]]
        kept = [head for head in self._stored_heads if head not in remembered]
        self._stored_heads = (*kept, *remembered)[-STORED_HEADS_KEPT:]

    async def _tool_outcome(self, call: CallTool) -> ToolOutcome:
        worker_options = self._worker_options
        if worker_options is None:
            worker_options = await self._options_for(call.temporal)
        known = worker_options.tools.get(call.tool_name) or ToolOptions()
        plan = _tool_plan(worker_options, known, call)
        request = ToolCallInput(
            execution_id=self._execution.state.execution_id,
            workflow_name=call.workflow_name,
            node_name=call.node_name,
            tool_name=call.tool_name,
            attempt=call.attempt,
            parameters=call.parameters,
            parameter_history=call.parameter_history,
            as_text=call.as_text,
        )
        try:
            result = await _start_call(
                plan,
                TOOL_ACTIVITY,
                request,
                ToolCallResult,
                call,
                None,
            )
        except ActivityError as error:
            return _failed_tool_outcome(call, error, known)
        except Exception as error:  # never leave a call running forever
            return ToolOutcome(
                "failed",
                error=f"Tool '{call.tool_name}' could not run: {error}",
                max_retries=known.max_retries,
                failure_signal=known.failure_signal,
            )
        return ToolOutcome(
            "ok",
            result=result.result,
            max_retries=result.max_retries,
            failure_signal=result.failure_signal,
        )


ResultT = TypeVar("ResultT")


async def _start_call(
    plan: ActivityPlan,
    activity_name: str,
    request: Any,
    result_type: type[ResultT],
    call: CallTool | CallLlm,
    what: str | None,
) -> ResultT:
    """One node's call as an activity, local or not as its options say. The id names the
    node, so the Temporal UI shows which node made the call, and a tool call's input names
    its tool; a remote LLM call's summary names its workflow and what it does too. The
    others go without: a summary is written into the history and encoded again on every
    replay, for every call of a chain."""
    start = workflow.execute_local_activity if plan.local else workflow.execute_activity
    summary = (
        None if plan.local or what is None else f"{call.workflow_name}.{call.node_name}: {what}"
    )
    return await start(
        activity_name,
        request,
        result_type=result_type,
        activity_id=f"{call.node_name}/{call.call_id}",
        summary=summary,
        **plan.kwargs,
    )


def _tool_plan(worker_options: WorkerOptions, known: ToolOptions, call: CallTool) -> ActivityPlan:
    """How a tool call runs: the same for every call of one tool from nodes with the same
    ``temporal`` options, so planned once per worker options (which the worker's
    executions share) instead of once per call."""
    plans = derived(worker_options, _no_plans)
    key = (call.tool_name, repr(call.temporal) if call.temporal else "")
    plan = plans.get(key)
    if plan is None:
        plan = plans[key] = plan_activity(
            merge_options(
                DEFAULT_TOOL_OPTIONS, worker_options.tool_defaults, known.temporal, call.temporal
            )
        )
    return plan


def _no_plans(options: WorkerOptions) -> dict[tuple[str, str], ActivityPlan]:
    return {}


def _tool_facts(options: WorkerOptions) -> dict[str, ToolFacts]:
    """What the engine needs to know of a worker's tools (held once per worker options)."""
    return {
        name: ToolFacts(
            tool.process_accumulated, tool.function_name, tool.signature, tool.arguments_schema
        )
        for name, tool in options.tools.items()
    }


def _payload_text(value: Any) -> str:
    """A refused payload, as JSON where it is JSON (the engine keeps how it begins)."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


_registration_said: list[bool] = []


def _say_once_how_to_register(namespace: str) -> None:
    """Once per worker process: an execution without SOE's search attributes cannot be
    found by SOE workflow or status (a log line, not workflow state: replay-safe)."""
    if _registration_said or workflow.unsafe.is_replaying():
        return
    _registration_said.append(True)
    workflow.logger.warning(
        "Execution %s was started without SOE's search attributes, so `temporal workflow "
        "list` and `soe-temporal list` cannot find it by SOE workflow or status. Register "
        "them on the server (soe-temporal's embedded servers do) with: %s, then start "
        "executions with soe-temporal or SoeClient.",
        workflow.info().workflow_id,
        registration_commands(namespace),
    )


def _workflow_time() -> str:
    """The engine's clock: workflow time, the same on replay."""
    return workflow.now().isoformat()


def _temporal_root_id() -> str:
    """The root of this workflow's Temporal tree (so of the children it starts)."""
    info = workflow.info()
    return info.root.workflow_id if info.root is not None else info.workflow_id


def _with_parent_link(context: dict[str, Any], info: workflow.Info) -> dict[str, Any]:
    """A child's initial context with its ``__parent__`` completed from what Temporal
    records (compact_parent_link); SOE's key order is kept."""
    link = context.get(PARENT)
    if not isinstance(link, dict) or info.parent is None:
        return context
    root = info.root.workflow_id if info.root is not None else info.parent.workflow_id
    completed = complete_parent_link(link, info.parent.workflow_id, root)
    return {key: completed if key == PARENT else value for key, value in context.items()}


def _child_message(child_execution_id: str, command: TellParent) -> ChildMessage:
    message = command.message
    return ChildMessage(
        child_execution_id,
        [[name, value] for name, value in message.updates],
        message.signals,
        message.tree_changes,
    )


def _failed_tool_outcome(call: CallTool, error: ActivityError, known: ToolOptions) -> ToolOutcome:
    cause = error.cause
    if isinstance(cause, ApplicationError):
        details = ToolFailureDetails(known.max_retries, known.failure_signal)
        if cause.details:
            raw = cause.details[0]
            details = ToolFailureDetails(**raw) if isinstance(raw, dict) else raw
        status = "setup_failed" if cause.type in SETUP_FAILURE_TYPES else "failed"
        return ToolOutcome(
            status,
            error=cause.message,
            max_retries=details.max_retries,
            failure_signal=details.failure_signal,
            final=cause.type == TOOL_RESULT_INVALID,
            # F-API-8: an unknown tool at run time is soe-ai's WorkflowValidationError.
            exception_type=VALIDATION_ERROR
            if cause.type == TOOL_NOT_FOUND
            else details.exception_type,
        )
    # Temporal gave up (timeouts, lost workers): one failed SOE attempt.
    return ToolOutcome(
        "failed",
        error=f"Tool '{call.tool_name}' did not complete: {_activity_failure_text(error)}",
        max_retries=known.max_retries,
        failure_signal=known.failure_signal,
    )


def _activity_failure_text(error: ActivityError) -> str:
    """The cause of a failed activity, as a user reads it."""
    cause = error.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    if cause is None:
        return str(error)
    return f"{type(cause).__name__}: {cause} (after Temporal's retries)"
