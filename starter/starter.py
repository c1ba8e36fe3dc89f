"""Start an execution from a YAML file and print its id (what `soe-temporal start` does).

python starter/starter.py examples/approval.yaml waiting_workflow START '{"request": "laptop"}'
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from temporalio.client import Client

from soe_temporal import SoeClient, load_config
from soe_temporal.temporal import tracing
from soe_temporal.worker import DEFAULT_TASK_QUEUE


async def main(config_path: str, workflow: str, signal: str, context: str = "{}") -> None:
    config = load_config(config_path)  # refuses a bad config before connecting
    client = await Client.connect(
        os.environ.get("TEMPORAL_ADDRESS", "localhost:7233"),
        namespace=os.environ.get("TEMPORAL_NAMESPACE", "default"),
        # temporalio's TracingInterceptor with the [otel] extra and OTEL_EXPORTER_OTLP_ENDPOINT
        interceptors=tracing.client_interceptors(),
    )
    soe = SoeClient(client, os.environ.get("SOE_TASK_QUEUE", DEFAULT_TASK_QUEUE))
    execution_id = await soe.orchestrate(
        config, workflow, [signal], json.loads(context), wait=False
    )
    print(execution_id)


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    asyncio.run(main(*sys.argv[1:]))
    tracing.shutdown()  # export the spans still buffered
    # A short-lived process with a Temporal client can abort while the interpreter
    # finalizes (temporalio/sdk-python#300); leave once the output is out.
    sys.stdout.flush()
    os._exit(0)
