"""SOE's semantics as pure, deterministic code: no Temporal, no I/O.

The host (``soe_temporal.workflow``) creates an :class:`Execution`, delivers signals,
asks it to process them, carries out the commands it returns and feeds their outcomes
back. Everything here can be unit-tested without a server.
"""

from .commands import CallTool, Command, ToolOutcome
from .execution import Execution
from .state import EngineSettings, ExecutionState, Firing, NodeFailure, PendingBroadcast

__all__ = [
    "CallTool",
    "Command",
    "EngineSettings",
    "Execution",
    "ExecutionState",
    "Firing",
    "NodeFailure",
    "PendingBroadcast",
    "ToolOutcome",
]
