"""create_worker(): the one place that registers SoeWorkflow and its activities."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from .activities import SoeActivities
from .llm.providers import LlmProvider, as_provider
from .temporal.converter import payload_store_of, soe_temporal_client
from .temporal.payload_store import PayloadStoreSpec
from .temporal.payloads import DEFAULT_TASK_QUEUE
from .temporal.tracing import worker_interceptors
from .tools.registry import check_temporal_options, normalize_registry
from .workflow import SoeWorkflow


def create_worker(
    client: Client,
    task_queue: str = DEFAULT_TASK_QUEUE,
    *,
    call_llm: Callable[[str, dict[str, Any]], Any] | LlmProvider | None = None,
    tools_registry: Mapping[str, Any] | None = None,
    tool_defaults: dict[str, Any] | None = None,
    llm_defaults: dict[str, Any] | None = None,
    activity_executor: Executor | None = None,
    payload_store: PayloadStoreSpec = None,
    tracing: bool | None = None,
    **worker_options: Any,
) -> Worker:
    """A Temporal worker that runs SOE executions, their tool calls and their LLM calls.

    ``call_llm`` is SOE's ``call_llm(prompt, config) -> str`` (plain or async) or a provider
    from ``soe_temporal.llm`` (``provider_from_environment()`` reads SOE_LLM).
    ``tools_registry`` has SOE's shape (F-API-6), plus an optional ``temporal`` mapping per
    entry. ``tool_defaults`` and ``llm_defaults`` hold Temporal options for every tool call
    and every LLM call of this worker (``start_to_close_timeout``, ``heartbeat_timeout``,
    ``retry_policy``, ``local``...). Plain tools and plain ``call_llm`` functions run in
    ``activity_executor`` (a thread pool by default), never on the worker's event loop.
    ``payload_store`` keeps payloads too large for a history (a directory,
    ``s3://bucket/prefix`` or a store; default: ``SOE_PAYLOAD_STORE``, else
    ``.soe-temporal/payloads``): clients of these executions must use the same one.
    ``tracing`` (the ``[otel]`` extra, ``temporal/tracing.py``): None traces when
    OpenTelemetry is configured (OTEL_EXPORTER_OTLP_ENDPOINT, or a global tracer provider)
    or the client already has temporalio's TracingInterceptor, True always, False adds
    nothing; tracing adds the interceptor the client lacks and a span per SOE node firing.
    Other keyword arguments go to :class:`temporalio.worker.Worker`.
    """
    tools = normalize_registry(tools_registry)
    check_temporal_options(tool_defaults or {}, "tool_defaults")
    check_temporal_options(llm_defaults or {}, "llm_defaults")
    executor = activity_executor or ThreadPoolExecutor(max_workers=32, thread_name_prefix="soe")
    temporal_client = soe_temporal_client(client, payload_store)
    activities = SoeActivities(
        tools,
        executor,
        llm=as_provider(call_llm, executor),
        tool_defaults=tool_defaults,
        llm_defaults=llm_defaults,
        payload_store=payload_store_of(temporal_client),
    )
    interceptors = list(worker_options.pop("interceptors", ()))
    interceptors += worker_interceptors(temporal_client, interceptors, tracing)
    return Worker(
        temporal_client,
        task_queue=task_queue,
        workflows=[SoeWorkflow],
        activities=activities.all(),
        interceptors=interceptors,
        **worker_options,
    )
