"""Tool nodes (SOE_SPEC §11): one host call per SOE attempt, results applied here."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, replace
from typing import Any, ClassVar

from ..calls import settle, start_tool_call
from ..commands import CallTool, ToolOutcome
from ..context import is_internal_field
from ..emissions import has_jinja_condition, programmatic_emission
from ..events import ToolCalled
from ..host import NOTHING, Fired, NodeHost
from ..operational import count_error, count_tool_call
from ..state import Firing
from ..templates import render_prompt


@dataclass
class RunningToolCall:
    firing: Firing
    call: CallTool
    # F-TOOL-8: conditions see the context as it was before the tool ran. Kept only
    # when a condition could read it.
    snapshot: dict[str, Any] | None

    kind: ClassVar[str] = "tool"

    def apply(self, host: NodeHost, outcome: ToolOutcome) -> list[CallTool]:
        return apply_tool_outcome(host, self, outcome)

    def to_dict(self) -> dict[str, Any]:
        return {"firing": asdict(self.firing), "call": asdict(self.call), "snapshot": self.snapshot}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunningToolCall:
        return cls(Firing(**data["firing"]), CallTool(**data["call"]), data["snapshot"])


def render_parameters(value: Any, context: dict[str, Any]) -> Any:
    """F-TOOL-5: walk mappings and lists; strings with ``{{`` render to strings."""
    if isinstance(value, dict):
        return {key: render_parameters(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [render_parameters(item, context) for item in value]
    if isinstance(value, str) and "{{" in value:
        return render_prompt(value, context)[0]
    return value


def fire_tool(host: NodeHost, firing: Firing, conversation: list[dict[str, Any]] | None) -> Fired:
    """F-TOOL-2 steps 2-3: resolve the parameters (F-TOOL-4) and ask for the first attempt
    (a built-in that runs here has its outcome at once)."""
    config = firing.config
    context = host.context
    parameters: dict[str, Any] | None = None
    parameter_history: list[Any] | None = None
    field = config.get("context_parameter_field")
    if config.get("parameters") is not None:
        parameters = render_parameters(config["parameters"], context)
    elif field and field in context:
        raw = context[field]
        history = [raw] if is_internal_field(field) else raw
        if not host.tool_takes_history(config["tool_name"]):
            history = history[-1:]  # the tool reads only the latest value (F-TOOL-6)
        parameter_history = copy.deepcopy(history)
    else:
        parameters = {}
    needs_snapshot = has_jinja_condition(config.get("event_emissions"))
    snapshot = copy.deepcopy(context) if needs_snapshot else None
    start = start_tool_call(host, firing, config["tool_name"], parameters, parameter_history)
    running = RunningToolCall(firing, start.call, snapshot)
    if start.outcome is not None:  # a built-in ran here
        apply_tool_outcome(host, running, start.outcome)
        return NOTHING
    host.await_call(running)
    return Fired(call=start.call)


def apply_tool_outcome(
    host: NodeHost, running: RunningToolCall, outcome: ToolOutcome
) -> list[CallTool]:
    """F-TOOL-7..11 for one finished attempt; returns the next attempt, if any."""
    firing, call = running.firing, running.call
    outcome = settle(call, outcome)
    context = host.context
    output_field = firing.config.get("output_field")

    if outcome.status == "setup_failed":
        # SOE raises these before its attempt loop (F-VAL-9, F-TOOL-6): no retry, no
        # failure signal. We keep the execution usable and show the error (DESIGN).
        if output_field:
            host.write_output(output_field, outcome.error)
        host.fail_node(firing, outcome.error, error_type=outcome.exception_type)
        return []

    if outcome.status == "ok" and output_field and outcome.result is not None:
        problem = host.state_limit_problem(outcome.result)
        if problem:  # running the tool again would not make it fit
            outcome = replace(outcome, status="failed", error=problem, result=None, final=True)

    if call.attempt == 1:
        count_tool_call(context)
    host.record(
        ToolCalled(firing.node_name, call.tool_name, call.attempt, outcome.status, outcome.error)
    )

    if outcome.status == "ok":
        result = outcome.result
        if output_field and result is not None:
            host.write_output(output_field, result)
        conditions_context = running.snapshot if running.snapshot is not None else context
        signals = programmatic_emission(
            firing.config.get("event_emissions"), conditions_context, result=result
        )
        host.emit(signals, firing.cascade)
        return []

    if call.attempt <= outcome.max_retries and not outcome.final:
        count_error(context)
        retry = replace(call, call_id=host.new_call_id(), attempt=call.attempt + 1)
        host.await_call(RunningToolCall(firing, retry, running.snapshot))
        return [retry]

    # F-TOOL-10: the last attempt failed.
    if output_field:
        host.write_output(output_field, outcome.error)
    host.fail_node(firing, outcome.error, handled=True, failure_signal=outcome.failure_signal)
    return []
