"""One SOE execution as a state machine: signals and outcomes in, commands out.

The broadcast algorithm of SOE_SPEC §6.2 runs here with an explicit stack, so router
cascades keep SOE's depth-first, declaration-order semantics (F-EXEC-5) with no recursion
limit. Nodes that need the outside world (tools, LLM calls, agents, children) answer with
calls; their outcomes come back through ``complete_call``, one at a time, and each
outcome's own cascade runs before the next is applied. Nodes of one broadcast therefore
run concurrently, as DESIGN.md intends, while counters, signal sets and final values
match SOE.

Every input answers with the commands to carry out: calls (whose outcomes come back) and
messages for other executions (a parent, the main execution), each naming its target.
The execution is the :class:`~soe_temporal.engine.host.NodeHost` of its nodes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ..llm.usage import TokenUsage
from .broadcast import Ended, Frame, TriggerIndex
from .builtins import is_builtin
from .commands import (
    AppendToHistory,
    Command,
    HistoryAppend,
    LlmOutcome,
    MessageToParent,
    Outcome,
    TellParent,
    TreeConfigChange,
)
from .context import (
    OPERATIONAL,
    PARENT,
    build_initial_context,
    inherit_context,
    is_internal_field,
    write_field,
)
from .dispatch import RUNNING_KINDS, fire
from .events import (
    ConfigInheritanceStarted,
    ContextInheritanceStarted,
    ContextMerged,
    Event,
    NodeErrored,
    NodeExecuted,
    OrchestrationStarted,
    SignalsBroadcast,
    SignalsToParent,
)
from .host import RunningCall, WorkflowsProblem
from .nodes import NODE_TYPES, NodeType
from .operational import (
    count_error,
    count_node,
    ensure_operational,
    lineage,
    main_execution_id,
    record_signals,
)
from .saved_state import PARTS, saved_context_problem, saved_mapping_problem
from .size import json_size
from .state import (
    EngineSettings,
    ExecutionState,
    Firing,
    NodeFailure,
    PendingBroadcast,
    RejectedInput,
    ToolFacts,
    unhandled_failures,
)
from .status import ExecutionStatus, execution_status, running_status
from .tokens import TokenAccount

# How many failures an execution remembers for `describe` and waiting callers.
FAILURES_KEPT = 100
# How many refused messages an execution remembers for `describe`.
REJECTED_KEPT = 20
# How much of a refused message's payload is kept (characters).
REJECTED_PAYLOAD_CHARS = 200
# How many request ids an execution remembers, so that a caller's retry is not applied
# twice (they are carried over continue-as-new).
REQUESTS_KEPT = 1_000


def _accept_any_registry(workflows: dict[str, Any]) -> str | None:
    return None


def _no_clock() -> str:
    return ""


# The tools an execution knows before its host tells it any, and its identities and
# context schema when it starts without: shared, since nothing changes them in place
# (tree config changes replace them), and a worker caches thousands of executions.
_NO_TOOLS: dict[str, ToolFacts] = {}
_NONE_YET: dict[str, Any] = {}


class Execution:
    """The SOE semantics of one execution, free of Temporal and of I/O.

    ``workflows_problem`` is the config's validation (F-VAL-3..10), which built-ins apply
    to what they inject (D-16); the host hands it in, since the config's rules live above
    the engine.
    """

    # Thousands of idle executions may wait on one worker: no per-instance dict.
    __slots__ = (
        "state",
        "context",
        "_workflows_problem",
        "_running",
        "_events",
        "_tools",
        "_to_parent",
        "_to_main",
        "clock",
        "_trigger_index",
        "_state_bytes",
        "_measured",
        "cascade_each_outcome",
    )

    def __init__(
        self, state: ExecutionState, workflows_problem: WorkflowsProblem | None = None
    ) -> None:
        self.state = state
        # The state's context, read at every firing: never replaced, only changed in
        # place (snapshots and frames hold it too).
        self.context: dict[str, Any] = state.context
        self._workflows_problem = workflows_problem or _accept_any_registry
        # Nodes waiting for a call's outcome; a resumed state brings them back.
        self._running: dict[str, RunningCall] = {
            call_id: RUNNING_KINDS[record["kind"]].from_dict(record)
            for call_id, record in state.running.items()
        }
        state.running = {}
        # SOE's events (F-TEL-3) since the host last took them.
        self._events: list[Event] = []
        # The tools registry, as far as the host has told (registry key -> facts).
        self._tools: dict[str, ToolFacts] = _NO_TOOLS
        # What this execution owes its parent since the last step (F-CHILD-8/9).
        self._to_parent: MessageToParent | None = None
        # History appends for the main execution, when this is a child (F-HIST).
        self._to_main: tuple[HistoryAppend, ...] = ()
        # The host's clock (workflow time, ISO 8601): deterministic on replay.
        self.clock: Callable[[], str] = _no_clock
        # Which nodes each signal triggers, for the registry as it is (broadcast.py).
        self._trigger_index: TriggerIndex | None = None
        # The state's size as JSON, kept up to date by each write (max_state_bytes).
        self._state_bytes = json_size(state.context) + json_size(state.conversation_history)
        # The last value found to fit (state_limit_problem), and its size: a node writes
        # the value it checked, which is then measured once.
        self._measured: tuple[Any, int] | None = None
        # SOE's one-outcome-at-a-time rule (see complete_call). Executions recorded before
        # soe_temporal kept it left an outcome's signals for the host's next
        # process_pending; their host turns it off so that they replay as recorded.
        self.cascade_each_outcome = True

    @classmethod
    def start(
        cls,
        execution_id: str,
        workflow_name: str,
        registry: dict[str, dict[str, dict[str, Any]]],
        initial_context: dict[str, Any],
        initial_signals: list[str],
        identities: dict[str, str] | None = None,
        context_schema: dict[str, Any] | None = None,
        settings: EngineSettings | None = None,
        inherited_context: dict[str, Any] | None = None,
        workflows_problem: WorkflowsProblem | None = None,
        inherited_config_from: str | None = None,
    ) -> Execution:
        """F-EXEC-1 steps 5-12: build the context, then queue the initial signals.

        ``registry`` is kept, not copied: nothing changes a registry in place (built-ins
        replace it, F-EXEC-6), so executions may share one.

        With ``inherited_context`` (F-INH-3/4) the context continues another execution's
        fields, with fresh operational state; ``inherited_config_from`` names the
        execution whose config it took (F-INH-1). The start is recorded in SOE's order
        (F-INH-7).
        """
        if inherited_context is not None:
            context = inherit_context(inherited_context, initial_context)
        else:
            context = build_initial_context(initial_context)
        ensure_operational(context, lineage(context, execution_id)[0])
        state = ExecutionState(
            execution_id=execution_id,
            workflow_name=workflow_name,
            registry=registry,
            context=context,
            identities=dict(identities) if identities else _NONE_YET,
            context_schema=copy.deepcopy(context_schema) if context_schema else _NONE_YET,
            settings=settings or EngineSettings(),
        )
        execution = cls(state, workflows_problem)
        if inherited_config_from:
            execution.record(ConfigInheritanceStarted(inherited_config_from))
        execution.record(OrchestrationStarted(workflow_name))
        if inherited_context is not None:
            execution.record(ContextInheritanceStarted())
            if initial_context:
                execution.record(ContextMerged(list(initial_context)))
        execution.deliver(initial_signals)
        return execution

    # -- what the host reads -------------------------------------------------------

    @property
    def idle(self) -> bool:
        """No signal waiting and no node running."""
        return not self.state.pending and not self._running

    @property
    def running_calls(self) -> int:
        return len(self._running)

    @property
    def calls_started(self) -> int:
        """Calls (tools, models, children, history reads) started since the execution
        began: a caller that sees this unchanged knows no call of it ran in between."""
        return self.state.next_call - 1

    @property
    def running_nodes(self) -> list[str]:
        """The nodes waiting for a call's outcome, in the order their calls started."""
        return [running.firing.node_name for running in self._running.values()]

    def status(self, busy: bool, closed: bool = False) -> ExecutionStatus:
        """What the execution is doing (status.py); ``busy`` when the host still has
        work of it in hand (messages on their way) though the engine is idle."""
        state = self.state
        busy = busy or not self.idle
        if busy and not closed:  # called after every call of a turn: only what runs
            return running_status(state.workflow_name, self.running_nodes)
        return execution_status(
            state.context,
            state.workflow_name,
            state.failures,
            state.turn_first_signal,
            state.turn_first_cascade,
            self.running_nodes,
            busy=busy,
            closed=closed,
            tokens=self.tokens.total,
        )

    @property
    def tokens(self) -> TokenAccount:
        """The tokens its model calls used, per node and per model (tokens.py)."""
        return self.state.token_usage or TokenAccount()

    def take_events(self) -> list[Event]:
        """What happened since the last call: broadcasts, node executions, errors."""
        events, self._events = self._events, []
        return events

    def resume_commands(self) -> list[Command]:
        """The calls waiting nodes need (again): after a continue-as-new, the new run
        issues them, since no call was in flight when the old run ended."""
        return [running.call for running in self._running.values()]

    def state_to_carry_over(self) -> ExecutionState:
        """The whole state, waiting nodes included, for continue-as-new."""
        self.state.running = {
            call_id: {"kind": running.kind, **running.to_dict()}
            for call_id, running in self._running.items()
        }
        return self.state

    def unhandled_failures(
        self, cascade: int | None = None, since: str | None = None
    ) -> list[NodeFailure]:
        """What a waiting caller is told: the unhandled failures of one cascade, or of
        everything since a moment (for executions below the one it signalled)."""
        return unhandled_failures(self.state.failures, cascade, since)

    def needs_worker_facts(self) -> bool:
        """Whether a node of this execution's workflow needs what the worker running it
        knows (its tools registry, its call options): a node whose calls run on that
        worker, or one that reads its tools wherever its calls run (an agent)."""
        for node, node_type in self._nodes_and_types():
            elsewhere = bool((node.get("temporal") or {}).get("task_queue"))
            if node_type.reads_tools or (node_type.calls_worker and not elsewhere):
                return True
        return False

    def needs_worker_facts_to_fire(self) -> bool:
        """Whether a node of this execution's workflow reads the worker's tools registry
        while it fires: an agent (its tools' signatures), or a tool node that names a
        built-in (a registry tool of that name goes first, Q-36; and
        soe_get_available_tools and soe_call_tool list and call registry tools). Other
        nodes fire without it (a tool node that has not heard whether its tool takes a
        field's whole history sends it, and the tool's worker takes what it needs)."""
        for node, node_type in self._nodes_and_types():
            if node_type.reads_tools:
                return True
            if node.get("node_type") == "tool" and is_builtin(node.get("tool_name", "")):
                return True
        return False

    def _nodes_and_types(self) -> list[tuple[dict[str, Any], NodeType]]:
        nodes = self.state.registry.get(self.state.workflow_name, {})
        return [
            (node, NODE_TYPES[node.get("node_type")])
            for node in nodes.values()
            if node.get("node_type") in NODE_TYPES
        ]

    # -- inputs ----------------------------------------------------------------------

    def deliver(self, signals: list[str], request_id: str | None = None) -> int:
        """Queue signals from outside (a start, an external signal); returns their cascade.

        A ``request_id`` already delivered (among the last ``REQUESTS_KEPT``) queues
        nothing: the caller is answered with the cascade its first delivery opened."""
        requests = self.state.requests
        if request_id is not None and request_id in requests:
            return requests[request_id]
        cascade = self._next_cascade()
        self.state.pending.append(PendingBroadcast(list(signals), cascade))
        self.state.progress += 1
        if request_id is not None:
            requests[request_id] = cascade
            if len(requests) > REQUESTS_KEPT:
                del requests[next(iter(requests))]
        return cascade

    def _next_cascade(self) -> int:
        """A new cascade for something from outside; waking an idle execution begins a
        turn (status.py)."""
        state = self.state
        cascade = state.next_cascade
        state.next_cascade += 1
        if self.idle:
            operational = state.context.get(OPERATIONAL)
            signals = operational.get("signals") if isinstance(operational, dict) else None
            state.turn_first_signal = len(signals) if isinstance(signals, list) else 0
            state.turn_first_cascade = cascade
        return cascade

    @property
    def forgets_requests(self) -> bool:
        """Whether request ids may have been forgotten (it keeps REQUESTS_KEPT, the newest):
        an id a caller asks about may then have been taken long ago."""
        return len(self.state.requests) >= REQUESTS_KEPT

    def request_cascade(self, request_id: str) -> int | None:
        """The cascade a delivered request opened; None if it has not arrived (or is
        older than the last ``REQUESTS_KEPT``)."""
        return self.state.requests.get(request_id)

    def process_pending(self) -> list[Command]:
        """Broadcast every queued signal list, in order; returns the work to start."""
        commands = self._broadcast_pending()
        return commands + self._messages()

    def complete_call(self, call_id: str, outcome: Outcome) -> list[Command]:
        """Apply the outcome of one command and run the cascade it causes to its end
        (F-EXEC-3); returns the work to start (a retry, the next call, what its signals
        trigger).

        SOE applies one outcome at a time: a node's output is written and its signals are
        broadcast before anything else happens. So signals queued before this outcome are
        broadcast first, and this outcome's own signals right after it is applied, before
        the host hands in the next one: a fan-in router that waits for several fields
        sees them arrive one by one, however many outcomes reach the host at once.
        """
        pending_first = self.cascade_each_outcome and self.state.pending
        commands = self._broadcast_pending() if pending_first else []
        running = self._running.pop(call_id)
        self.state.progress += 1
        try:
            if isinstance(outcome, LlmOutcome) and outcome.usage is not None:
                self._count_tokens(running.firing.node_name, outcome.usage)
            commands.extend(running.apply(self, outcome))
        except Exception as error:
            self._fail_unexpectedly(running.firing, error)
        self._measured = None  # a value checked and not written is not held on to
        if self.cascade_each_outcome:
            commands.extend(self._broadcast_pending())
        else:
            self._forget_finished_cascades()
        return commands + self._messages()

    def _count_tokens(self, node_name: str, usage: TokenUsage) -> None:
        """Every model call that reports usage counts, an agent's of every stage too."""
        if self.state.token_usage is None:
            self.state.token_usage = TokenAccount()
        self.state.token_usage.add(node_name, usage)

    def learn_tools(self, tools: dict[str, ToolFacts]) -> None:
        """What the worker's tools registry holds (F-API-6), keyed by registry name; kept
        as given (never changed here), so executions on one worker may share it."""
        self._tools = tools

    def receive_from_child(self, child_id: str, message: MessageToParent) -> list[Command]:
        """F-CHILD-8/9 on the parent's side: queued with the signals, in arrival order; the
        data is written just before its first broadcast. Tree config changes apply at once
        and go on up (the returned messages)."""
        for change in message.tree_changes:
            self.apply_tree_config_change(change)
        if message.updates or message.signals:
            cascade = self._next_cascade()
            self.state.progress += 1
            batches = message.signals or [[]]
            for index, signals in enumerate(batches):
                updates = [[k, v] for k, v in message.updates] if index == 0 else []
                self.state.pending.append(PendingBroadcast(list(signals), cascade, updates))
        return self._messages()

    def apply_history_append(self, append: HistoryAppend) -> None:
        """The main execution's side of an append, from this execution or a child."""
        history = self.state.conversation_history
        if append.opening and not history:
            history.append({"role": "system", "content": append.opening})
            self._state_bytes += len(append.opening)
        history.extend(append.entries)
        self._state_bytes += json_size(append.entries)

    def apply_tree_config_change(self, change: TreeConfigChange) -> None:
        state = self.state
        state.identities = _changed(state.identities, change.identities)
        state.context_schema = _changed(state.context_schema, change.context_schema)
        state.progress += 1
        if self._parent_link():
            self._owed_to_parent().tree_changes.append(copy.deepcopy(change))

    def replace_fields(self, histories: dict[str, list[Any]]) -> None:
        """Put whole field histories in place (soe_copy_context, F-BI-14); fields starting
        with ``__`` are never replaced."""
        for name, history in histories.items():
            if not is_internal_field(name) and isinstance(history, list):
                self._state_bytes += json_size(history) - json_size(self.context.get(name, []))
                self.context[name] = copy.deepcopy(history)
        self.state.progress += 1

    def state_part_problem(self, part: str, value: Any) -> str | None:
        """Why a backend write from outside (saved_state.py) cannot replace ``part``
        (``context``, ``identities`` or ``context_schema``) with ``value``, or None."""
        if part == "context":
            problem = saved_context_problem(self.context, value, self.execution_id)
            if problem is None:
                size = json_size(value) + json_size(self.state.conversation_history)
                if size > self.state.settings.max_state_bytes:
                    problem = (
                        f"the context would be {size} bytes of state, over the limit of "
                        f"{self.state.settings.max_state_bytes} (max_state_bytes)"
                    )
            return problem
        if part in ("identities", "context_schema"):
            return None if value is None else saved_mapping_problem(part, value)
        return f"an execution saves only {', '.join(PARTS)}, not '{part}'"

    def save_state_part(self, part: str, value: Any) -> None:
        """Replace ``part`` whole with ``value`` (``None`` deletes identities or the
        context schema); raises ValueError when ``state_part_problem`` says why not."""
        problem = self.state_part_problem(part, value)
        if problem is not None:
            raise ValueError(problem)
        if part == "context":
            # In place: snapshots and frames hold this mapping.
            self.context.clear()
            self.context.update(copy.deepcopy(value))
            self._state_bytes = json_size(self.context) + json_size(self.state.conversation_history)
        else:
            setattr(self.state, part, copy.deepcopy(value) if value is not None else {})
        self.state.progress += 1

    def reject_input(self, message: str, problem: str, payload: str) -> RejectedInput:
        """A message this execution cannot take (no such signal, not a list of signal
        names): kept, with its time and the start of its payload, for `describe`; the
        execution goes on as if it had not come."""
        rejected = RejectedInput(message, problem, self.clock(), payload[:REJECTED_PAYLOAD_CHARS])
        self.state.rejected_inputs.append(rejected.to_dict())
        del self.state.rejected_inputs[:-REJECTED_KEPT]
        return rejected

    def record_execution_problem(self, error: str) -> None:
        """A problem of the execution as a whole (no node), listed with its failures."""
        self.record(NodeErrored("", None, error, False))
        self.state.failures.append(
            NodeFailure(self.state.workflow_name, "", error, 0, handled=False, at=self.clock())
        )
        del self.state.failures[:-FAILURES_KEPT]

    # -- the NodeHost its nodes see ---------------------------------------------------

    @property
    def execution_id(self) -> str:
        return self.state.execution_id

    @property
    def main_execution_id(self) -> str:
        return main_execution_id(self.context)

    @property
    def registry(self) -> dict[str, dict[str, dict[str, Any]]]:
        return self.state.registry

    @property
    def identities(self) -> dict[str, str]:
        return self.state.identities

    @property
    def context_schema(self) -> dict[str, Any]:
        return self.state.context_schema

    @property
    def settings(self) -> EngineSettings:
        return self.state.settings

    @property
    def tools(self) -> dict[str, ToolFacts]:
        return self._tools

    def tool_takes_history(self, tool_name: str) -> bool:
        """Whether a tool call needs the parameter field's whole history; unknown tools get
        it, and their worker picks what the entry asks for."""
        facts = self._tools.get(tool_name)
        return facts.process_accumulated if facts is not None else True

    def conversation_history(self) -> list[dict[str, Any]]:
        """F-HIST-1: the history of this execution's tree, keyed by the main execution id."""
        return self.state.conversation_history

    def new_call_id(self) -> str:
        call_id = str(self.state.next_call)
        self.state.next_call += 1
        return call_id

    def await_call(self, running: RunningCall) -> None:
        self._running[running.call.call_id] = running

    def emit(self, signals: list[str], cascade: int) -> None:
        """A node's emission (F-NODE-3): queued as one broadcast of its cascade."""
        if signals:
            self.state.pending.append(PendingBroadcast(list(signals), cascade))

    def state_limit_problem(self, *values: Any) -> str | None:
        """Why keeping ``values`` would take the state past ``max_state_bytes``, or None."""
        if len(values) != 1:
            return self._limit_problem(sum(json_size(value) for value in values))
        size = json_size(values[0])
        problem = self._limit_problem(size)
        if problem is None:
            self._measured = (values[0], size)
        return problem

    def _limit_problem(self, added: int) -> str | None:
        total, limit = self._state_bytes + added, self.state.settings.max_state_bytes
        if total <= limit:
            return None
        return (
            f"Keeping this result ({added} bytes of JSON) would make the state of execution "
            f"'{self.execution_id}' {total} bytes, over its limit of {limit} (max_state_bytes). "
            "Keep large data outside the context (store it and keep a reference), or raise "
            "max_state_bytes."
        )

    def write_output(self, field_name: str, value: Any) -> None:
        """The output path of F-CTX-2; a field the parent asked for goes up (F-CHILD-9),
        each new value once (our Q-28 decision). A write past ``max_state_bytes`` raises
        :class:`StateLimitError` (nodes check ``state_limit_problem`` first, to take their
        failure paths)."""
        measured, self._measured = self._measured, None
        size = measured[1] if measured is not None and measured[0] is value else json_size(value)
        problem = self._limit_problem(size)
        if problem:
            raise StateLimitError(f"Writing '{field_name}': {problem}")
        self._state_bytes += size
        write_field(self.context, field_name, value)
        parent = self._parent_link()
        if parent is not None and field_name in (parent.get("context_updates_to_parent") or []):
            self._owed_to_parent().updates.append((field_name, copy.deepcopy(value)))

    def fail_node(
        self,
        firing: Firing,
        error: str,
        handled: bool = False,
        failure_signal: str | None = None,
        error_type: str = "",
    ) -> None:
        """A node error: counted (F-OPS-5), logged, listed with the failures (with the
        name of the exception soe-ai would raise, ``error_type``, when known); its failure
        signal, if it has one, goes out on the node's cascade."""
        count_error(self.context)
        self.record(NodeErrored(firing.node_name, firing.config.get("node_type"), error, handled))
        self.state.failures.append(
            NodeFailure(
                firing.workflow_name,
                firing.node_name,
                error,
                firing.cascade,
                handled,
                self.clock(),
                error_type,
            )
        )
        del self.state.failures[:-FAILURES_KEPT]
        if failure_signal:
            self.emit([failure_signal], firing.cascade)

    def record(self, event: Event) -> None:
        self._events.append(event)

    def append_conversation(
        self, entries: list[dict[str, Any]], opening: str | None = None
    ) -> None:
        """Add to the tree's history (F-HIST-2/3/5): here when this is the main execution,
        else in a message to it. ``opening`` starts an empty history (a system prompt)."""
        if self.main_execution_id == self.execution_id:
            self.apply_history_append(HistoryAppend(list(entries), opening))
        else:
            self._to_main += (HistoryAppend(copy.deepcopy(entries), opening),)

    def count_child_start(self, node_name: str) -> int:
        starts = self.state.child_starts.get(node_name, 0) + 1
        self.state.child_starts[node_name] = starts
        return starts

    def add_children(self, execution_ids: list[str]) -> None:
        self.state.children.extend(execution_ids)

    def replace_registry(self, registry: dict[str, dict[str, dict[str, Any]]]) -> None:
        """A built-in's edit (F-BI-3..8): later broadcasts see it (F-EXEC-6, F-BI-22);
        frames already walking keep the index of the registry they started with."""
        self.state.registry = registry
        self._trigger_index = None

    def workflows_problem(self, workflows: dict[str, Any]) -> str | None:
        return self._workflows_problem(workflows)

    def change_tree_config(
        self,
        identities: dict[str, str | None] | None = None,
        context_schema: dict[str, Any] | None = None,
    ) -> None:
        """Change the tree's identities or context schema (``None`` removes an entry): here,
        and up the tree to the main execution; each execution on the way hands them to the
        children it starts afterwards."""
        self.apply_tree_config_change(
            TreeConfigChange(dict(identities or {}), copy.deepcopy(context_schema or {}))
        )

    # -- the broadcast algorithm (F-EXEC-3) ----------------------------------------

    def _broadcast_pending(self) -> list[Command]:
        commands: list[Command] = []
        while self.state.pending:
            broadcast = self.state.pending.pop(0)
            try:
                for field_name, value in broadcast.updates:
                    self.write_output(field_name, value)
                # A child's data alone is no broadcast; an empty one from outside is
                # (F-API-2: logged, triggering nothing).
                if broadcast.signals or not broadcast.updates:
                    commands.extend(self._broadcast(broadcast.signals, broadcast.cascade))
            except Exception as error:  # never let the host's workflow task fail
                self.state.failures.append(
                    NodeFailure(
                        self.state.workflow_name,
                        "",
                        f"Broadcasting {broadcast.signals} failed: {type(error).__name__}: {error}",
                        broadcast.cascade,
                        handled=False,
                    )
                )
        self._forget_finished_cascades()
        return commands

    def _open(self, signals: list[str]) -> Frame:
        record_signals(self.context, signals)
        self.record(SignalsBroadcast(list(signals)))
        index = self._trigger_index
        if index is None:
            workflow = self.state.registry.get(self.state.workflow_name, {})
            index = self._trigger_index = TriggerIndex.of(workflow)
        return Frame(list(signals), index, index.triggered(signals))

    def _broadcast(self, signals: list[str], cascade: int) -> list[Command]:
        commands: list[Command] = []
        stack = [self._open(signals)]
        while stack:
            triggered = stack[-1].next_triggered()
            if triggered is None:
                done = stack.pop()
                self._forward_to_parent(done.signals)
                for ended in done.then_forward.all() if done.then_forward else ():
                    self._forward_to_parent(ended)
                continue
            node_name, config = triggered
            firing = Firing(self.state.workflow_name, node_name, config, cascade)
            if not self._may_fire(firing):
                continue
            count_node(self.context, node_name)
            self.record(NodeExecuted(node_name, config.get("node_type")))
            try:
                fired = fire(self, firing)
            except Exception as error:
                self._fail_unexpectedly(firing, error)
                continue
            if fired.signals:  # a router's signals, broadcast at once (nested)
                nested = self._open(list(fired.signals))
                if stack[-1].walked:  # nothing left here: the nested frame ends it
                    ended = stack.pop()
                    nested.then_forward = Ended(ended.signals, ended.then_forward)
                stack.append(nested)
            if fired.call is not None:
                commands.append(fired.call)
        return commands

    def _forward_to_parent(self, signals: list[str]) -> None:
        """F-EXEC-3 step 5: at the end of every broadcast in a child, the signals its
        parent asked for go up, in order (deeper broadcasts end, and so go, first)."""
        parent = self._parent_link()
        if parent is None:
            return
        wanted = parent.get("signals_to_parent") or []
        forwarded = [signal for signal in signals if signal in wanted]
        if forwarded:
            self.record(SignalsToParent(forwarded, parent["parent_execution_id"]))
            self._owed_to_parent().signals.append(forwarded)

    def _messages(self) -> list[Command]:
        """What to tell other executions now, each message naming its target.

        A child's new values wait for the signals that announce them while broadcasts are
        still queued here, so each travels with its signal (a fan-in then sees each
        child's data with that child's signal, F-PAT-8); changes to the tree's identities
        and schema go at once.
        """
        owed = self._to_parent
        if owed is None and not self._to_main:  # nothing owed: the common answer
            return []
        messages: list[Command] = []
        parent = self._parent_link()
        if parent is not None and owed is not None:
            target = parent["parent_execution_id"]
            if owed.signals or (owed.updates and not self.state.pending):
                messages.append(TellParent(target, owed))
                self._to_parent = None
            elif owed.tree_changes:
                changes, owed.tree_changes = owed.tree_changes, []
                messages.append(TellParent(target, MessageToParent(tree_changes=changes)))
        if self._to_main:
            for append in self._to_main:
                messages.append(AppendToHistory(self.main_execution_id, append))
            self._to_main = ()
        return messages

    def _owed_to_parent(self) -> MessageToParent:
        """What this child owes its parent since the last step (made when first owed)."""
        if self._to_parent is None:
            self._to_parent = MessageToParent()
        return self._to_parent

    def _parent_link(self) -> dict[str, Any] | None:
        """The ``__parent__`` entry when this execution is a child (F-CHILD-4), else None."""
        parent = self.context.get(PARENT)
        if isinstance(parent, dict) and parent.get("parent_execution_id"):
            return parent
        return None

    def _fail_unexpectedly(self, firing: Firing, error: Exception) -> None:
        """Whatever goes wrong inside a node fails that node, never the execution."""
        self.fail_node(
            firing,
            f"Workflow '{firing.workflow_name}', node '{firing.node_name}' failed: "
            f"{type(error).__name__}: {error}",
            error_type=type(error).__name__,
        )

    def _may_fire(self, firing: Firing) -> bool:
        """Q-29: a cascade may fire at most ``cascade_limit`` nodes, then it halts."""
        state = self.state
        if state.halted_cascades and firing.cascade in state.halted_cascades:
            return False
        key = str(firing.cascade)
        firings = state.cascade_firings
        fired = firings[key] = firings.get(key, 0) + 1
        limit = state.settings.cascade_limit
        if fired <= limit:
            return True
        state.halted_cascades.append(firing.cascade)
        self.fail_node(
            firing,
            f"Cascade limit reached: one incoming signal caused {limit} node firings, so "
            f"node '{firing.node_name}' was not run and this cascade stopped. A node that "
            "re-triggers itself needs a stop condition (e.g. "
            f"{{{{ context.__operational__.nodes.get('{firing.node_name}', 0) < 10 }}}}), "
            "or raise cascade_limit if the work is really that long.",
        )
        return False

    def _forget_finished_cascades(self) -> None:
        """Drop the firing counts (and halts) of cascades that have ended, once more
        cascades are counted than there are broadcasts waiting and calls running: each of
        those belongs to one live cascade, so the counts kept stay as many as what runs.
        An ended cascade never fires again, so keeping its count a while changes nothing,
        and asked after every outcome this is then one comparison, not a scan."""
        state = self.state
        if len(state.cascade_firings) <= len(state.pending) + len(self._running):
            return
        # Plain loops, since a comprehension is a call of its own here.
        live = set()
        for broadcast in state.pending:
            live.add(broadcast.cascade)
        for running in self._running.values():
            live.add(running.firing.cascade)
        firings = state.cascade_firings
        for key in [k for k in firings if int(k) not in live]:
            del firings[key]
        if state.halted_cascades:
            state.halted_cascades = [c for c in state.halted_cascades if c in live]


class StateLimitError(ValueError):
    """A write would take the execution's state past ``max_state_bytes``."""


def _changed(entries: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    result = dict(entries)
    for name, value in changes.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = copy.deepcopy(value)
    return result
