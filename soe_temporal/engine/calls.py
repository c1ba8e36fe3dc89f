"""How a node reaches a tool by name (F-TOOL-3, F-AGENT-3, F-BI-1, F-BI-20).

A tool of the worker's registry wins (user tools shadow built-ins) and runs as an activity.
A built-in that only touches this execution runs here, at once; one that needs I/O runs in
the activity too. ``soe_call_tool`` turns into a call of the registry tool it names, whose
outcome comes back wrapped the way SOE reports it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import yaml

from .builtins import call_builtin, check_arguments, is_builtin, runs_in_workflow
from .commands import CallTool, ToolOutcome
from .events import ToolDispatched
from .host import NodeHost
from .operational import count_tool_call
from .state import Firing

CALL_TOOL = "soe_call_tool"


@dataclass
class ToolStart:
    """The call, and its outcome when a built-in already ran it here; without an outcome
    the host runs the call."""

    call: CallTool
    outcome: ToolOutcome | None = None


def start_tool_call(
    host: NodeHost,
    firing: Firing,
    tool_name: str,
    parameters: dict[str, Any] | None,
    parameter_history: list[Any] | None,
    as_text: bool = False,
) -> ToolStart:
    temporal = firing.config.get("temporal")
    if tool_name in host.tools or not is_builtin(tool_name):
        return ToolStart(CallTool(host.new_call_id(), firing.workflow_name, firing.node_name,
                                  tool_name, 1, parameters, parameter_history, temporal,
                                  as_text))  # fmt: skip
    call = CallTool("", firing.workflow_name, firing.node_name, tool_name, 1, parameters,
                    parameter_history, temporal, as_text)  # fmt: skip
    # A built-in runs here, or as a call like any tool.
    try:
        arguments = builtin_arguments(tool_name, parameters, parameter_history)
    except ToolParameterError as error:
        return ToolStart(call, ToolOutcome("setup_failed", error=str(error)))
    except TypeError as error:
        return ToolStart(call, ToolOutcome("failed", error=str(error)))
    if tool_name == CALL_TOOL:
        return _call_tool(host, call, arguments)
    if runs_in_workflow(tool_name, arguments, host.execution_id):
        return ToolStart(call, _run_here(host, tool_name, arguments))
    return ToolStart(replace(call, call_id=host.new_call_id()))


class ToolParameterError(ValueError):
    """The parameter field is text but not valid JSON/YAML: the tool cannot be called at
    all (F-TOOL-6), a setup failure rather than an attempt."""


def parameter_value(value: Any, tool_name: str) -> Any:
    """F-TOOL-6: a parameter field holding text is read as JSON/YAML."""
    if not isinstance(value, str):
        return value
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError as error:
        raise ToolParameterError(
            f"Tool '{tool_name}': the parameter field is a string but not valid JSON/YAML: {error}"
        ) from None


def builtin_arguments(
    tool_name: str, parameters: dict[str, Any] | None, history: list[Any] | None
) -> dict[str, Any]:
    """F-TOOL-4/6 for a built-in: inline parameters, else the field's latest value."""
    if history is None:
        return dict(parameters or {})
    value = parameter_value(history[-1], tool_name)
    if not isinstance(value, dict):
        raise TypeError(
            f"{tool_name}() argument after ** must be a mapping, not {type(value).__name__}"
        )
    return value


def _run_here(host: NodeHost, name: str, arguments: dict[str, Any]) -> ToolOutcome:
    """A built-in's own exception is the attempt's failure (F-BI-1); max_retries is 0."""
    try:
        return ToolOutcome("ok", result=call_builtin(host, name, arguments))
    except Exception as error:  # e.g. an argument of the wrong type: the caller's failure
        return ToolOutcome("failed", error=str(error), exception_type=type(error).__name__)


def _call_tool(host: NodeHost, call: CallTool, arguments: dict[str, Any]) -> ToolStart:
    """F-BI-20: errors are returned as the result, never raised; only arguments that do
    not fit soe_call_tool itself fail the call."""
    try:
        check_arguments(CALL_TOOL, arguments)
    except TypeError as error:
        return ToolStart(call, ToolOutcome("failed", error=str(error), exception_type="TypeError"))
    target = arguments["tool_name"]
    text = arguments.get("arguments", "{}")
    if isinstance(text, dict):  # written as a mapping in YAML parameters: taken as is
        parsed: Any = text
    elif isinstance(text, str):
        try:
            parsed = json.loads(text or "{}")
        except json.JSONDecodeError as error:
            result = {"error": f"Invalid JSON arguments: {error}", "tool_name": target}
            return ToolStart(call, ToolOutcome("ok", result=result))
    else:
        error = f"soe_call_tool(): 'arguments' must be a JSON object as text, got {text!r}"
        return ToolStart(call, ToolOutcome("failed", error=error, exception_type="TypeError"))
    if target not in host.tools:  # Q-36 (kept): the registry only
        result = {
            "error": f"Tool '{target}' not found",
            "available_tools": list(host.tools)[:20],
        }
        if is_builtin(target):
            result["hint"] = (
                f"'{target}' is a built-in: call it directly (as a tool node's tool_name, "
                "or listed in an agent's tools), not through soe_call_tool"
            )
        return ToolStart(call, ToolOutcome("ok", result=result))
    count_tool_call(host.context)  # F-OPS-5: the dispatch counts too
    host.record(ToolDispatched(target, parsed))
    if not isinstance(parsed, dict):  # function(**args) refuses it: an argument error
        result = {
            "error": f"Argument error for '{target}': argument after ** must be a mapping, "
            f"not {type(parsed).__name__}",
            "tool_name": target,
        }
        return ToolStart(call, ToolOutcome("ok", result=result))
    dispatched = replace(
        call,
        call_id=host.new_call_id(),
        tool_name=target,
        parameters=parsed,
        parameter_history=None,
        as_text=False,
        via=CALL_TOOL,
    )
    return ToolStart(dispatched)


def settle(call: CallTool, outcome: ToolOutcome, as_text: bool = False) -> ToolOutcome:
    """The outcome a node sees: a call through soe_call_tool reports success or error as its
    result (F-BI-20); a tool it could not reach at all stays a failure."""
    if call.via != CALL_TOOL or outcome.status == "setup_failed":
        return outcome
    if outcome.status == "ok":
        result: Any = {"success": True, "tool_name": call.tool_name, "result": outcome.result}
    elif outcome.exception_type == "TypeError":
        result = {
            "error": f"Argument error for '{call.tool_name}': {outcome.error}",
            "tool_name": call.tool_name,
        }
    else:
        result = {
            "error": f"Tool '{call.tool_name}' failed: {outcome.error}",
            "tool_name": call.tool_name,
        }
    if as_text:
        result = str(result)
    return replace(outcome, status="ok", result=result, error="", max_retries=0, final=False)
