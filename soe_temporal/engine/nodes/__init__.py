"""SOE's node types, one module each, and NODE_TYPES: the one table of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..host import FireNode
from .agent import RunningAgent, fire_agent
from .child import RunningChildStart, fire_child
from .llm import RunningLlmCall, fire_llm
from .router import fire_router
from .tool import RunningToolCall, fire_tool


@dataclass(frozen=True)
class NodeType:
    """How a node type fires and what it keeps while it waits for a call.

    ``reads_conversation``: it reads the tree's conversation history when its node has an
    identity (F-HIST-1). ``calls_worker``: its calls run on a worker, with that worker's
    options, unless its node sends them to another task queue. ``reads_tools``: it needs
    the tool facts of the worker running the execution wherever its calls run (an agent
    reads the tools' signatures, F-AGENT-2/3).
    """

    fire: FireNode
    running: Any | None  # the RunningCall class its waiting records are made of
    reads_conversation: bool = False
    calls_worker: bool = False
    reads_tools: bool = False


NODE_TYPES: dict[str, NodeType] = {
    "router": NodeType(fire_router, None),
    "tool": NodeType(fire_tool, RunningToolCall, calls_worker=True),
    "llm": NodeType(fire_llm, RunningLlmCall, reads_conversation=True, calls_worker=True),
    "agent": NodeType(
        fire_agent, RunningAgent, reads_conversation=True, calls_worker=True, reads_tools=True
    ),
    "child": NodeType(fire_child, RunningChildStart),
}
