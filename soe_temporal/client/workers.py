"""Whether any worker polls a task queue: asked of the server, so a command that would
wait for a worker can say at once that none is there."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError

# How long a command waits for a worker to appear before it says none polls.
WORKER_GRACE_SECONDS = 10.0


async def workflow_pollers(client: Client, task_queue: str) -> int | None:
    """How many workers poll ``task_queue`` for workflow tasks (the server remembers a
    poller for a few minutes); None if the server would not say."""
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    try:
        response = await client.workflow_service.describe_task_queue(
            request, timeout=timedelta(seconds=5)
        )
    except RPCError:
        return None
    return len(response.pollers)


async def worker_appears(
    client: Client, task_queue: str, within: float = WORKER_GRACE_SECONDS
) -> bool:
    """Whether a worker polls ``task_queue`` now or within ``within`` seconds (a worker
    that is starting). A server that does not say counts as yes: nothing is refused on a
    guess."""
    deadline = time.monotonic() + within
    while True:
        pollers = await workflow_pollers(client, task_queue)
        if pollers is None or pollers > 0:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(1.0)
