"""soe-ai 0.1.4's public API on Temporal: change ``soe`` to ``soe_temporal.soe`` in the
imports and the rest of the code stays as it is.

    from soe_temporal.soe import orchestrate, broadcast_signals, create_all_nodes
    from soe_temporal.soe.local_backends import create_in_memory_backends

Every function is synchronous, as soe-ai's are: it runs on a background event loop of this
package (``runtime.py``) and returns once the execution tree is idle. Nodes run on an
in-process Temporal worker; backends read from the executions, which live on an in-process
test server (``create_in_memory_backends``), the embedded dev server with its data in a
directory (``create_local_backends``) or a running Temporal service (``create_backends``).
"""

from __future__ import annotations

from .backends import TemporalBackends
from .broker import broadcast_signals, orchestrate
from .init import create_all_nodes, setup_orchestration
from .local_backends import (
    LocalBackends,
    create_backends,
    create_in_memory_backends,
    create_local_backends,
)
from .nodes import AgentRequest, AgentResponse, ToolNodeConfigurationError, ToolParameterError
from .servers import StorageDirInUseError
from .types import (
    Backends,
    CallLlm,
    ContextBackend,
    ContextSchemaBackend,
    ConversationHistoryBackend,
    EventTypes,
    IdentityBackend,
    SoeError,
    TelemetryBackend,
    WorkflowBackend,
    WorkflowValidationError,
)
from .validation import OperationalValidationError

__all__ = [
    "AgentRequest",
    "AgentResponse",
    "Backends",
    "CallLlm",
    "ContextBackend",
    "ContextSchemaBackend",
    "ConversationHistoryBackend",
    "EventTypes",
    "IdentityBackend",
    "LocalBackends",
    "OperationalValidationError",
    "SoeError",
    "StorageDirInUseError",
    "TelemetryBackend",
    "TemporalBackends",
    "ToolNodeConfigurationError",
    "ToolParameterError",
    "WorkflowBackend",
    "WorkflowValidationError",
    "broadcast_signals",
    "create_all_nodes",
    "create_backends",
    "create_in_memory_backends",
    "create_local_backends",
    "orchestrate",
    "setup_orchestration",
]
