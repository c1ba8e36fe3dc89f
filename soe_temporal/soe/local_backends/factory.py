"""soe-ai's ``soe.local_backends.factory``: the backends factories, each on a Temporal
server of its kind (``soe_temporal/soe/servers.py``)."""

from __future__ import annotations

import os
from pathlib import Path

from ..backends import TemporalBackends
from ..servers import LocalServer, MemoryServer, RemoteService

__all__ = ["LocalBackends", "create_backends", "create_in_memory_backends", "create_local_backends"]

LocalBackends = TemporalBackends
DEFAULT_STORAGE_DIR = "./orchestration_data"
LOCAL_TASK_QUEUE = "soe-local"


def create_in_memory_backends() -> TemporalBackends:
    """Backends on a time-skipping Temporal test server in this process (shared by every
    in-memory backends of the process, started on first use). Executions live as long as
    the process, or until ``cleanup_all()``."""
    return TemporalBackends(_server=MemoryServer())


def create_local_backends(
    storage_dir: str | os.PathLike[str] | None = None,
    *,
    context_storage_dir: str | None = None,
    workflow_storage_dir: str | None = None,
    telemetry_storage_dir: str | None = None,
    conversation_history_storage_dir: str | None = None,
    context_schema_storage_dir: str | None = None,
    identity_storage_dir: str | None = None,
) -> TemporalBackends:
    """Backends on the embedded Temporal dev server (the ``server`` extra), with its
    database, payloads and log in ``storage_dir``: executions outlive the process, and a
    later process with the same directory reads and signals them. The server starts on
    first use and stops with ``cleanup_all()`` or the process.

    soe-ai's per-facet directories are accepted: Temporal keeps every facet in one
    database, so with no ``storage_dir`` the parent of ``context_storage_dir`` is used
    (``./orchestration_data`` for soe-ai's defaults) and the others are ignored."""
    del workflow_storage_dir, telemetry_storage_dir, conversation_history_storage_dir
    del context_schema_storage_dir, identity_storage_dir
    if storage_dir is None:
        storage_dir = (
            Path(context_storage_dir).parent if context_storage_dir else DEFAULT_STORAGE_DIR
        )
    return TemporalBackends(_server=LocalServer(storage_dir), _task_queue=LOCAL_TASK_QUEUE)


def create_backends(
    address: str | None = None,
    namespace: str | None = None,
    task_queue: str | None = None,
    payload_store: str | None = None,
) -> TemporalBackends:
    """Backends on a running Temporal service: ``address`` and ``namespace`` over
    temporalio's environment configuration (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
    profiles, API keys, TLS, as the ``temporal`` CLI reads them; else localhost:7233).
    ``task_queue`` (else SOE_TASK_QUEUE, else ``soe``) is where ``orchestrate`` without a
    node set starts executions, for workers you run (``soe-temporal worker``); node sets
    from ``create_all_nodes`` run on workers of this process, on queues named after it.
    ``payload_store`` (else SOE_PAYLOAD_STORE) must be the workers' store."""
    queue = task_queue or os.environ.get("SOE_TASK_QUEUE") or "soe"
    return TemporalBackends(
        _server=RemoteService(address, namespace, payload_store), _task_queue=queue
    )
