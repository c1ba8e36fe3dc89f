"""``__operational__``: the per-execution counters of SOE_SPEC §9 (F-OPS-1..11)."""

from __future__ import annotations

from typing import Any

from .context import OPERATIONAL, PARENT

REQUIRED_FIELDS = ("signals", "nodes", "llm_calls", "tool_calls", "errors", "main_execution_id")


def new_operational(main_execution_id: str) -> dict[str, Any]:
    """F-OPS-1: the structure every execution starts with."""
    return {
        "signals": [],
        "nodes": {},
        "llm_calls": 0,
        "tool_calls": 0,
        "errors": 0,
        "main_execution_id": main_execution_id,
    }


def ensure_operational(context: dict[str, Any], main_execution_id: str) -> None:
    """F-OPS-11: a pre-existing ``__operational__`` is kept as it is."""
    if OPERATIONAL not in context:
        context[OPERATIONAL] = new_operational(main_execution_id)


def operational_problem(context: dict[str, Any], execution_id: str) -> str | None:
    """F-VAL-14: why ``context`` cannot run nodes, or ``None`` when it can."""
    if not context:
        return (
            f"No context found for execution_id '{execution_id}'. "
            "Context must be initialized before node execution."
        )
    ops = context.get(OPERATIONAL)
    if ops is None:
        return (
            f"Missing '__operational__' in context for execution_id '{execution_id}'. "
            "Call initialize_operational_context() before node execution."
        )
    if not isinstance(ops, dict):
        return f"Invalid '__operational__' in context for execution_id '{execution_id}': must be a dict"
    missing = [name for name in REQUIRED_FIELDS if name not in ops]
    if missing:
        return (
            f"Invalid '__operational__' structure for execution_id '{execution_id}'. "
            f"Missing fields: {missing}"
        )
    if not isinstance(ops["signals"], list):
        return f"Invalid '__operational__.signals' - must be a list, got {type(ops['signals']).__name__}"
    if not all(isinstance(signal, str) for signal in ops["signals"]):
        return "Invalid '__operational__.signals' - must be a list of signal names (strings)"
    if not isinstance(ops["nodes"], dict):
        return (
            f"Invalid '__operational__.nodes' - must be a dict, got {type(ops['nodes']).__name__}"
        )
    for node_name, count in ops["nodes"].items():
        if not isinstance(count, int) or isinstance(count, bool):
            return (
                f"Invalid '__operational__.nodes.{node_name}' - must be an int, "
                f"got {type(count).__name__}"
            )
    for name in ("llm_calls", "tool_calls", "errors"):
        if not isinstance(ops[name], int) or isinstance(ops[name], bool):
            return (
                f"Invalid '__operational__.{name}' - must be an int, got {type(ops[name]).__name__}"
            )
    return None


def record_signals(context: dict[str, Any], signals: list[str]) -> None:
    """F-OPS-2: every broadcast appends its whole list, duplicates kept."""
    context[OPERATIONAL]["signals"].extend(signals)


def count_node(context: dict[str, Any], node_name: str) -> None:
    """F-OPS-3: once per dispatch, before the node runs."""
    nodes = context[OPERATIONAL]["nodes"]
    nodes[node_name] = nodes.get(node_name, 0) + 1


def count_llm_call(context: dict[str, Any]) -> None:
    """F-OPS-4: once per LLM node execution (and per agent run), whatever the retries."""
    context[OPERATIONAL]["llm_calls"] += 1


def count_tool_call(context: dict[str, Any]) -> None:
    """F-OPS-5."""
    context[OPERATIONAL]["tool_calls"] += 1


def count_error(context: dict[str, Any]) -> None:
    """F-OPS-6."""
    context[OPERATIONAL]["errors"] += 1


def main_execution_id(context: dict[str, Any]) -> str:
    """F-OPS-7: the root of this execution's tree (its own id for a root)."""
    return context[OPERATIONAL]["main_execution_id"]


def lineage(context: dict[str, Any], execution_id: str) -> tuple[str, str | None]:
    """F-OPS-7, F-OPS-10: the main and the parent execution id of an execution that
    starts with ``context``. A child's ``__parent__`` names both; a root is its own main."""
    parent = context.get(PARENT)
    if not isinstance(parent, dict):
        return execution_id, None
    return parent.get("main_execution_id") or execution_id, parent.get("parent_execution_id")


def initial_operational_problem(context: dict[str, Any]) -> str | None:
    """F-OPS-11: an initial context may bring its own ``__operational__``, kept as it is;
    why it cannot run nodes (F-VAL-14), or None."""
    if OPERATIONAL not in context:
        return None
    problem = operational_problem(context, "(new execution)")
    return f"initial_context['__operational__'] is invalid: {problem}" if problem else None
