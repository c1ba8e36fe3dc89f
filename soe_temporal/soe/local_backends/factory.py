"""soe-ai's ``soe.local_backends.factory``: the backends factories."""

from __future__ import annotations

from typing import Any

from ...errors import UnsupportedOperationError
from ..backends import TemporalBackends

__all__ = ["LocalBackends", "create_in_memory_backends", "create_local_backends"]

LocalBackends = TemporalBackends


def create_in_memory_backends() -> TemporalBackends:
    """Backends on a time-skipping Temporal test server in this process (shared by every
    in-memory backends of the process, started on first use). Executions live as long as
    the process, or until ``cleanup_all()``."""
    return TemporalBackends(_kind="memory")


def create_local_backends(*args: Any, **kwargs: Any) -> TemporalBackends:
    """Not available yet: backends on the embedded Temporal dev server, with its data in a
    directory, come next."""
    raise UnsupportedOperationError(
        "create_local_backends() and setup_orchestration(use_local_storage=True) are not "
        "available yet: backends on the embedded Temporal dev server, with their data in "
        "storage_dir, come next. Use create_in_memory_backends() meanwhile, or run "
        "`soe-temporal dev` and soe_temporal's SoeClient for executions that outlive the "
        "process."
    )
