"""create_worker(): the one place that registers SoeWorkflow and its activities."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from .activities import SoeActivities
from .converter import soe_temporal_client
from .tools import check_temporal_options, normalize_registry
from .workflow import SoeWorkflow

DEFAULT_TASK_QUEUE = "soe"


def create_worker(
    client: Client,
    task_queue: str = DEFAULT_TASK_QUEUE,
    *,
    call_llm: Callable[[str, dict[str, Any]], Any] | None = None,
    tools_registry: Mapping[str, Any] | None = None,
    tool_defaults: dict[str, Any] | None = None,
    activity_executor: Executor | None = None,
    **worker_options: Any,
) -> Worker:
    """A Temporal worker that runs SOE executions and their tool calls.

    ``tools_registry`` has SOE's shape (F-API-6), plus an optional ``temporal`` mapping per
    entry; ``tool_defaults`` holds Temporal options for every tool call of this worker
    (``start_to_close_timeout``, ``heartbeat_timeout``, ``retry_policy``, ``local``...).
    Plain tools run in ``activity_executor`` (a thread pool by default) so they never block
    the worker's event loop. ``call_llm`` is SOE's LLM caller; llm and agent nodes use it
    once they are implemented (until then such nodes fail with a clear error).
    Other keyword arguments go to :class:`temporalio.worker.Worker`.
    """
    tools = normalize_registry(tools_registry)
    check_temporal_options(tool_defaults or {}, "tool_defaults")
    executor = activity_executor or ThreadPoolExecutor(
        max_workers=32, thread_name_prefix="soe-tool"
    )
    activities = SoeActivities(tools, tool_defaults, executor)
    return Worker(
        soe_temporal_client(client),
        task_queue=task_queue,
        workflows=[SoeWorkflow],
        activities=activities.all(),
        **worker_options,
    )
