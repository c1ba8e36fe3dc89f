"""soe_temporal: SOE workflows, run durably on Temporal.

The public names are loaded on first use, so the workflow sandbox (which re-imports this
package for every workflow run) imports only what the workflow needs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = [
    "ConfigError",
    "ExecutionClosedError",
    "ExecutionNotFoundError",
    "NodeFailedError",
    "RequestRefusedError",
    "ServerBusyError",
    "SoeClient",
    "SoeConfig",
    "SoeError",
    "WaitTimeoutError",
    "WorkerUnavailableError",
    "create_worker",
    "load_config",
]

_HOMES = {
    "SoeClient": "soe_temporal.client",
    "create_worker": "soe_temporal.worker",
    "load_config": "soe_temporal.config",
    "SoeConfig": "soe_temporal.config",
    "ConfigError": "soe_temporal.errors",
    "ExecutionClosedError": "soe_temporal.errors",
    "ExecutionNotFoundError": "soe_temporal.errors",
    "NodeFailedError": "soe_temporal.errors",
    "RequestRefusedError": "soe_temporal.errors",
    "ServerBusyError": "soe_temporal.errors",
    "SoeError": "soe_temporal.errors",
    "WaitTimeoutError": "soe_temporal.errors",
    "WorkerUnavailableError": "soe_temporal.errors",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'soe_temporal' has no attribute {name!r}")
    return getattr(import_module(home), name)


if TYPE_CHECKING:
    from .client import SoeClient
    from .config import SoeConfig, load_config
    from .errors import (
        ConfigError,
        ExecutionClosedError,
        ExecutionNotFoundError,
        NodeFailedError,
        RequestRefusedError,
        ServerBusyError,
        SoeError,
        WaitTimeoutError,
        WorkerUnavailableError,
    )
    from .worker import create_worker
