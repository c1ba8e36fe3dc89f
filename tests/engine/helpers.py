"""The scripted host every engine test drives: it carries out an Execution's commands the
way the Temporal workflow does, with no Temporal at all.

- tool calls are answered by plain Python callables (or SOE's ``{"function",
  "max_retries", "failure_signal"}`` entries), as the tool activity would;
- model calls by a scripted ``call_llm(prompt, config) -> str``;
- a child node's children start as Executions of their own, wired to their parent;
- messages (a child's values and signals, history appends) reach the execution they
  name, and a history read answers from the main execution.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import yaml

from soe_temporal.engine import CallTool, Execution, ToolOutcome
from soe_temporal.engine.commands import (
    AppendToHistory,
    CallLlm,
    ChildrenStarted,
    Command,
    HistoryRead,
    LlmOutcome,
    ReadHistory,
    StartChildren,
    TellParent,
)
from soe_temporal.engine.state import EngineSettings

EXECUTION_ID = "exec-1"


def start(
    registry: dict[str, Any],
    signals: list[str],
    context: dict[str, Any] | None = None,
    workflow: str = "wf",
    **kwargs: Any,
) -> Execution:
    return Execution.start(EXECUTION_ID, workflow, registry, dict(context or {}), signals, **kwargs)


def ops(execution: Execution) -> dict[str, Any]:
    return execution.context["__operational__"]


def taken_events(execution: Execution) -> list[dict[str, Any]]:
    """The events since the last take, as SOE's telemetry records them (F-TEL-3)."""
    return [event.to_dict() for event in execution.take_events()]


def answer(call: CallTool, tools: Mapping[str, Any]) -> ToolOutcome:
    """Play one attempt of ``call`` the way the host's tool activity would."""
    spec = tools.get(call.tool_name)
    if spec is None:
        return ToolOutcome("setup_failed", error=f"Tool '{call.tool_name}' not found")
    entry = spec if isinstance(spec, Mapping) else {"function": spec}
    function: Callable[..., Any] = entry["function"]
    shape = {
        "max_retries": entry.get("max_retries", 0),
        "failure_signal": entry.get("failure_signal"),
    }
    if call.parameters is not None:
        arguments = call.parameters
    else:
        arguments = (call.parameter_history or [{}])[-1]
        if isinstance(arguments, str):
            arguments = yaml.safe_load(arguments)
    try:
        result = function(**arguments)
    except Exception as error:
        return ToolOutcome("failed", error=str(error), **shape)
    if call.as_text and not isinstance(result, str):
        result = str(result)
    return ToolOutcome("ok", result=result, **shape)


class ScriptedHost:
    """Runs one execution tree to idle; every command kind has its answer here."""

    def __init__(
        self,
        tools: Mapping[str, Any] | None = None,
        call_llm: Callable[[str, dict[str, Any]], str] | None = None,
        settings: EngineSettings | None = None,
    ) -> None:
        self.tools = dict(tools or {})
        self.call_llm = call_llm
        self.settings = settings
        self.executions: dict[str, Execution] = {}
        # Every call carried out, in order, with the execution that made it.
        self.calls: list[tuple[str, Command]] = []
        # Messages to executions this host does not hold (a parent outside the test).
        self.undelivered: list[Command] = []
        self._queue: list[tuple[str, Command]] = []

    def start(
        self,
        registry: dict[str, Any],
        signals: list[str],
        context: dict[str, Any] | None = None,
        workflow: str = "wf",
        execution_id: str = EXECUTION_ID,
        **kwargs: Any,
    ) -> Execution:
        if self.settings is not None:
            kwargs.setdefault("settings", self.settings)
        execution = Execution.start(
            execution_id, workflow, registry, dict(context or {}), signals, **kwargs
        )
        return self.hold(execution)

    def hold(self, execution: Execution) -> Execution:
        self.executions[execution.execution_id] = execution
        self._queue += [(execution.execution_id, c) for c in execution.process_pending()]
        return execution

    def deliver(self, execution_id: str, signals: list[str]) -> None:
        execution = self.executions[execution_id]
        execution.deliver(signals)
        self._queue += [(execution_id, c) for c in execution.process_pending()]

    def run(self) -> list[tuple[str, Command]]:
        """Carry out commands until every execution is idle; returns the calls made."""
        made: list[tuple[str, Command]] = []
        while self._queue:
            execution_id, command = self._queue.pop(0)
            follow_ups = self._carry_out(self.executions[execution_id], command)
            if not isinstance(command, (TellParent, AppendToHistory)):
                made.append((execution_id, command))
            self._queue += follow_ups
        self.calls += made
        assert all(execution.idle for execution in self.executions.values())
        return made

    def _carry_out(self, execution: Execution, command: Command) -> list[tuple[str, Command]]:
        if isinstance(command, TellParent):
            parent = self.executions.get(command.parent_execution_id)
            if parent is None:
                self.undelivered.append(command)
                return []
            commands = parent.receive_from_child(execution.execution_id, command.message)
            return [(parent.execution_id, c) for c in commands + parent.process_pending()]
        if isinstance(command, AppendToHistory):
            main = self.executions.get(command.main_execution_id)
            if main is None:
                self.undelivered.append(command)
            else:
                main.apply_history_append(command.append)
            return []
        outcome = self._outcome(execution, command)
        return [
            (execution.execution_id, c) for c in execution.complete_call(command.call_id, outcome)
        ]

    def _outcome(self, execution: Execution, call: Any) -> Any:
        if isinstance(call, CallTool):
            return answer(call, self.tools)
        if isinstance(call, CallLlm):
            if self.call_llm is None:
                return LlmOutcome("failed", error="this test host has no call_llm")
            try:
                return LlmOutcome("ok", text=self.call_llm(call.prompt, call.config))
            except Exception as error:
                return LlmOutcome("failed", error=f"{type(error).__name__}: {error}")
        if isinstance(call, ReadHistory):
            main = self.executions.get(call.main_execution_id)
            return HistoryRead(list(main.conversation_history()) if main else [])
        assert isinstance(call, StartChildren)
        return self._start_children(execution, call)

    def _start_children(self, parent: Execution, call: StartChildren) -> ChildrenStarted:
        started = []
        for child in call.children:
            self.hold(
                Execution.start(
                    child.execution_id,
                    call.child_workflow_name,
                    call.registry,
                    child.initial_context,
                    list(call.initial_signals),
                    identities=call.identities,
                    context_schema=call.context_schema,
                    settings=self.settings,
                )
            )
            started.append(child.execution_id)
        return ChildrenStarted(started)


def run(execution: Execution, tools: Mapping[str, Any] | None = None) -> list[CallTool]:
    """Run one execution to idle on a scripted host with ``tools``; returns its tool calls."""
    host = ScriptedHost(tools)
    host.hold(execution)
    return [call for _, call in host.run() if isinstance(call, CallTool)]
