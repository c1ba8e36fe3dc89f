"""A worker process: `python workers/worker.py` (what `soe-temporal worker` runs).

Environment: TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE (default),
SOE_TASK_QUEUE (soe), SOE_TOOLS (module:attribute of a tools registry),
OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME (tracing, with the [otel] extra).
"""

from __future__ import annotations

import asyncio
import os

from temporalio.client import Client

from soe_temporal import create_worker
from soe_temporal.cli import load_tools
from soe_temporal.worker import DEFAULT_TASK_QUEUE


async def main() -> None:
    client = await Client.connect(
        os.environ.get("TEMPORAL_ADDRESS", "localhost:7233"),
        namespace=os.environ.get("TEMPORAL_NAMESPACE", "default"),
    )
    worker = create_worker(
        client,
        os.environ.get("SOE_TASK_QUEUE", DEFAULT_TASK_QUEUE),
        tools_registry=load_tools(),
    )
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main())
