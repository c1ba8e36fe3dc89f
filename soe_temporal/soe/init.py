"""soe-ai's ``soe.init``: ``create_all_nodes`` and ``setup_orchestration``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..tools.registry import normalize_registry
from .backends import TemporalBackends
from .broker import (
    SoeBroadcastCaller,
    SoeNodes,
    _checked_backends,
    broadcast_signals,
    orchestrate,
    soe_ai_errors,
)
from .local_backends.factory import create_in_memory_backends, create_local_backends
from .runtime import run

__all__ = ["create_all_nodes", "setup_orchestration"]
_ = (broadcast_signals, orchestrate, create_local_backends)  # importable from here, as in soe-ai


def create_all_nodes(
    backends: Any,
    call_llm: Callable[[str, dict[str, Any]], Any] | None = None,
    tools_registry: Mapping[str, Any] | None = None,
) -> tuple[SoeNodes, SoeBroadcastCaller]:
    """soe-ai's node set: ``router`` and ``child`` always, ``llm`` and ``agent`` with a
    ``call_llm``, ``tool`` with a ``tools_registry``. Here the nodes run on an in-process
    Temporal worker started for these callables on the backends' server (its own task
    queue, so node sets stay independent). The registry is checked at once (SOE's F-VAL-9
    rules), raising WorkflowValidationError. Returns ``(nodes, broadcast_signals_caller)``."""
    owner = _checked_backends(backends)
    with soe_ai_errors():
        normalize_registry(tools_registry)
    node_types = ["router", "child"]
    if call_llm is not None:
        node_types += ["llm", "agent"]
    if tools_registry is not None:
        node_types.append("tool")
    node_worker = owner.add_node_set(
        {"call_llm": call_llm, "tools_registry": tools_registry}, node_types
    )
    run(owner.serve(node_worker.task_queue))
    nodes = SoeNodes(owner, node_worker, node_types)
    return nodes, SoeBroadcastCaller(nodes)


def setup_orchestration(
    call_llm: Callable[[str, dict[str, Any]], Any] | None = None,
    tools_registry: Mapping[str, Any] | None = None,
    use_local_storage: bool = False,
    storage_dir: str = "./orchestration_data",
) -> tuple[TemporalBackends, SoeBroadcastCaller]:
    """Backends plus a node set in one call: ``(backends, broadcast_signals_caller)``."""
    if use_local_storage:
        backends = create_local_backends(storage_dir=storage_dir)
    else:
        backends = create_in_memory_backends()
    _, caller = create_all_nodes(backends, call_llm=call_llm, tools_registry=tools_registry)
    return backends, caller
