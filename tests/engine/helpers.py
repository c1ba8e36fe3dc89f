"""A tiny host for engine tests: runs an Execution to idle, answering its tool calls
from a dict of plain Python callables (or ``{"function", "max_retries",
"failure_signal"}`` entries, SOE's registry shape)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import yaml

from soe_temporal.engine import CallTool, Execution, ToolOutcome

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
    return ToolOutcome("ok", result=result, **shape)


def run(execution: Execution, tools: Mapping[str, Any] | None = None) -> list[CallTool]:
    """Process signals and answer tool calls until idle; returns every call made."""
    tools = tools or {}
    calls: list[CallTool] = []
    commands = list(execution.process_pending())
    while commands:
        call = commands.pop(0)
        calls.append(call)
        commands.extend(execution.complete_call(call.call_id, answer(call, tools)))
        commands.extend(execution.process_pending())
    assert execution.idle
    return calls
