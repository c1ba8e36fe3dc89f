"""SoeWorkflow: the durable shell around one SOE execution (``soe_temporal.engine``).

It moves data and nothing else: signals in, engine commands out as activities, outcomes
back in. An execution that runs out of signals stays open and idle, costing nothing, until
the next signal; before its history grows large it continues as new with its whole state.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from .activity_options import DEFAULT_TOOL_OPTIONS, merge_options, plan_activity
from .engine import CallTool, Command, EngineSettings, Execution, ToolOutcome
from .payloads import (
    BROADCAST_UPDATE,
    CLOSE_UPDATE,
    CONFIG_QUERY,
    CONTEXT_QUERY,
    SIGNAL_NAME,
    STATUS_QUERY,
    TOOL_ACTIVITY,
    TOOLS_MANIFEST_ACTIVITY,
    WAIT_IDLE_UPDATE,
    WORKFLOW_TYPE,
    WORKFLOWS_QUERY,
    BroadcastRequest,
    IdleReport,
    SoeWorkflowInput,
    ToolCallInput,
    ToolCallResult,
    ToolFailureDetails,
    ToolManifestEntry,
    ToolsManifest,
)

SETUP_FAILURE_TYPES = ("ToolNotFound", "ToolParameterError")
_MANIFEST_TIMEOUT = timedelta(seconds=30)


# Not in temporalio's sandbox: everything this module runs is ours and deterministic by
# construction (the engine is pure; user templates render in Jinja's own sandbox with the
# nondeterministic `random` and `lipsum` removed; user tools never run here). The sandbox
# re-imports the module for every execution and runs sandboxed code for every payload,
# which measured about 4 ms per local-activity node on the benchmark machine. The replay
# tests guard determinism instead.
@workflow.defn(name=WORKFLOW_TYPE, sandboxed=False)
class SoeWorkflow:
    @workflow.init
    def __init__(self, start: SoeWorkflowInput) -> None:
        self._input = start
        info = workflow.info()
        if start.resumed is not None:
            self._execution = Execution(start.resumed)
        else:
            self._execution = Execution.start(
                execution_id=info.workflow_id,
                workflow_name=start.workflow_name,
                registry=start.registry,
                initial_context=start.initial_context,
                initial_signals=start.initial_signals,
                identities=start.identities,
                context_schema=start.context_schema,
                settings=EngineSettings(cascade_limit=start.cascade_limit),
                inherited_context=start.inherited_context,
            )
        self._manifest: ToolsManifest | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self._continuing = False

    @workflow.run
    async def run(self, start: SoeWorkflowInput) -> dict[str, Any]:
        execution = self._execution
        while True:
            if execution.idle:
                # A worker's tool options are read again each time an idle execution wakes.
                self._manifest = None
            await workflow.wait_condition(
                lambda: (
                    bool(execution.state.pending)
                    or (self._closing and execution.idle)
                    or self._history_is_long()
                )
            )
            if self._closing and execution.idle:
                await workflow.wait_condition(workflow.all_handlers_finished)
                return execution.context
            if self._history_is_long():
                await self._continue_as_new()
            await self._ensure_manifest()
            self._start(execution.process_pending())
            self._log_events()

    # -- messages -------------------------------------------------------------------

    @workflow.signal(name=SIGNAL_NAME)
    def soe_signal(self, signals: Any) -> None:
        """External SOE signals: a JSON list of names (a single name is accepted too)."""
        names = [signals] if isinstance(signals, str) else signals
        if not isinstance(names, list) or not names or not all(isinstance(s, str) for s in names):
            workflow.logger.warning(
                "Ignored soe_signal with input %r: send a JSON list of signal names, "
                "e.g. --input '[\"APPROVED\"]'",
                signals,
            )
            return
        self._execution.deliver(names)

    @workflow.update(name=BROADCAST_UPDATE)
    async def soe_broadcast(self, request: BroadcastRequest) -> IdleReport:
        cascade = self._execution.deliver(list(request.signals))
        if not request.wait:
            return self._report(cascade)
        return await self._wait_idle(cascade)

    @soe_broadcast.validator
    def _validate_broadcast(self, request: BroadcastRequest) -> None:
        signals = request.signals
        if (
            not isinstance(signals, list)
            or not signals
            or not all(isinstance(s, str) for s in signals)
        ):
            raise ApplicationError(
                f"signals must be a non-empty list of signal names, got {signals!r}",
                type="InvalidSignals",
            )
        if self._closing:
            raise ApplicationError(
                "the execution is closing and takes no more signals", type="Closing"
            )

    @workflow.update(name=WAIT_IDLE_UPDATE)
    async def soe_wait_idle(self, cascade: int | None = None) -> IdleReport:
        return await self._wait_idle(cascade)

    @workflow.update(name=CLOSE_UPDATE)
    def soe_close(self) -> None:
        """Complete the execution once it is idle; its result is the final context."""
        self._closing = True

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

    @workflow.query(name=STATUS_QUERY)
    def soe_status(self) -> dict[str, Any]:
        execution = self._execution
        state = execution.state
        return {
            "execution_id": state.execution_id,
            "workflow_name": state.workflow_name,
            "idle": execution.idle,
            "closing": self._closing,
            "pending_broadcasts": len(state.pending),
            "running_calls": execution.running_calls,
            "progress": state.progress,
            "failures": [vars(f) for f in state.failures],
        }

    def _log_events(self) -> None:
        """Each engine event as a log record (with ``soe_event``); not logged on replay."""
        events = self._execution.take_events()
        if not workflow.logger.isEnabledFor(logging.INFO):
            return
        for event in events:
            workflow.logger.info("SOE %s", event["event_type"], extra={"soe_event": event})

    # -- waiting --------------------------------------------------------------------

    async def _wait_idle(self, cascade: int | None) -> IdleReport:
        await workflow.wait_condition(lambda: self._execution.idle or self._continuing)
        return self._report(cascade)

    def _report(self, cascade: int | None) -> IdleReport:
        execution = self._execution
        failures = [] if cascade is None else execution.failures_of(cascade)
        return IdleReport(
            cascade=cascade,
            idle=execution.idle,
            retry=self._continuing,
            progress=execution.state.progress,
            failures=[vars(f) for f in failures if not f.handled],
        )

    # -- continue-as-new ------------------------------------------------------------

    def _history_is_long(self) -> bool:
        info = workflow.info()
        limit = self._input.continue_as_new_after_events
        return info.is_continue_as_new_suggested() or (
            limit is not None and info.get_current_history_length() >= limit
        )

    async def _continue_as_new(self) -> None:
        """Let running calls finish (their signals stay queued), then carry everything over."""
        self._continuing = True
        await workflow.wait_condition(
            lambda: self._execution.running_calls == 0 and workflow.all_handlers_finished()
        )
        workflow.continue_as_new(
            SoeWorkflowInput(
                workflow_name=self._input.workflow_name,
                registry={},
                initial_signals=[],
                initial_context={},
                cascade_limit=self._input.cascade_limit,
                continue_as_new_after_events=self._input.continue_as_new_after_events,
                resumed=self._execution.state,
            ),
            memo=workflow.memo(),
        )

    # -- tool calls -----------------------------------------------------------------

    async def _ensure_manifest(self) -> None:
        if self._manifest is not None or not self._uses_local_tools():
            return
        self._manifest = await workflow.execute_local_activity(
            TOOLS_MANIFEST_ACTIVITY,
            result_type=ToolsManifest,
            start_to_close_timeout=_MANIFEST_TIMEOUT,
            summary="read the worker's tool options",
        )

    def _uses_local_tools(self) -> bool:
        state = self._execution.state
        nodes = state.registry.get(state.workflow_name, {})
        return any(
            node.get("node_type") == "tool" and not (node.get("temporal") or {}).get("task_queue")
            for node in nodes.values()
        )

    def _start(self, commands: list[Command]) -> None:
        for command in commands:
            if isinstance(command, CallTool):
                task = asyncio.create_task(self._call_tool(command))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _call_tool(self, call: CallTool) -> None:
        outcome = await self._tool_outcome(call)
        self._start(self._execution.complete_tool_call(call.call_id, outcome))
        self._log_events()

    async def _tool_outcome(self, call: CallTool) -> ToolOutcome:
        manifest = self._manifest or ToolsManifest()
        known = manifest.tools.get(call.tool_name) or ToolManifestEntry()
        options = merge_options(
            DEFAULT_TOOL_OPTIONS, manifest.defaults, known.temporal, call.temporal
        )
        plan = plan_activity(options)
        request = ToolCallInput(
            execution_id=self._execution.state.execution_id,
            workflow_name=call.workflow_name,
            node_name=call.node_name,
            tool_name=call.tool_name,
            attempt=call.attempt,
            parameters=call.parameters,
            parameter_history=call.parameter_history,
        )
        start = workflow.execute_local_activity if plan.local else workflow.execute_activity
        try:
            result: ToolCallResult = await start(
                TOOL_ACTIVITY,
                request,
                result_type=ToolCallResult,
                activity_id=f"{call.node_name}/{call.call_id}",
                summary=f"{call.workflow_name}.{call.node_name}: {call.tool_name} (attempt {call.attempt})",
                **plan.kwargs,
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


def _failed_tool_outcome(
    call: CallTool, error: ActivityError, known: ToolManifestEntry
) -> ToolOutcome:
    cause = error.cause
    if isinstance(cause, ApplicationError):
        details = ToolFailureDetails()
        if cause.details:
            raw = cause.details[0]
            details = ToolFailureDetails(**raw) if isinstance(raw, dict) else raw
        status = "setup_failed" if cause.type in SETUP_FAILURE_TYPES else "failed"
        return ToolOutcome(
            status,
            error=cause.message,
            max_retries=details.max_retries,
            failure_signal=details.failure_signal,
        )
    # Temporal gave up (timeouts, lost workers): one failed SOE attempt.
    reason = f"{type(cause).__name__}: {cause}" if cause is not None else str(error)
    return ToolOutcome(
        "failed",
        error=f"Tool '{call.tool_name}' did not complete on Temporal ({reason}).",
        max_retries=known.max_retries,
        failure_signal=known.failure_signal,
    )
