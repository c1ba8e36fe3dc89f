"""SoeTestEnvironment: Temporal's time-skipping test server with an in-process worker.

async with SoeTestEnvironment(tools_registry={"greet": greet}) as env:
    eid = await env.soe.orchestrate(config, "main", ["START"], {})
    await env.sleep(timedelta(days=3))       # durable time passes at once
    await env.soe.broadcast_signals(eid, ["APPROVED"])
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from types import TracebackType
from typing import Any

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from .client import SoeClient
from .engine.state import EngineSettings
from .servers.binaries import test_server_path
from .temporal.payload_store import PayloadStoreSpec, payload_store_from
from .temporal.search_attributes import register_search_attributes
from .worker import create_worker


class SoeTestEnvironment:
    """A time-skipping Temporal server, a worker on its own task queue, and a SoeClient."""

    def __init__(
        self,
        call_llm: Callable[[str, dict[str, Any]], Any] | None = None,
        tools_registry: Mapping[str, Any] | None = None,
        *,
        tool_defaults: dict[str, Any] | None = None,
        llm_defaults: dict[str, Any] | None = None,
        continue_as_new_after_events: int | None = None,
        cascade_limit: int = 10_000,
        agent_iteration_limit: int = 500,
        max_state_bytes: int = EngineSettings().max_state_bytes,
        wait_timeout: timedelta = timedelta(minutes=2),
        environment: WorkflowEnvironment | None = None,
        payload_store: PayloadStoreSpec = None,
        interceptors: Sequence[Any] = (),
        search_attributes: bool = True,
    ) -> None:
        """``interceptors`` go on the environment's client, as ``Client.connect`` takes
        them, so its worker and its SoeClient use them (e.g. temporalio's
        ``TracingInterceptor``: the worker then adds SOE's node spans)."""
        self._call_llm = call_llm
        self._tools_registry = tools_registry
        self._tool_defaults = tool_defaults
        self._llm_defaults = llm_defaults
        self._client_options = {
            "continue_as_new_after_events": continue_as_new_after_events,
            "cascade_limit": cascade_limit,
            "agent_iteration_limit": agent_iteration_limit,
            "max_state_bytes": max_state_bytes,
            "wait_timeout": wait_timeout,
            "search_attributes": search_attributes,
        }
        self._shared_environment = environment
        self._interceptors = list(interceptors)
        # None: a temporary directory, removed when the environment closes.
        self._payload_store = payload_store
        self._temporary_store: tempfile.TemporaryDirectory[str] | None = None
        self.task_queue = f"soe-test-{uuid.uuid4().hex[:8]}"
        self.environment: WorkflowEnvironment | None = None
        self.worker: Worker | None = None
        self.soe: SoeClient | None = None  # type: ignore[assignment]

    @property
    def client(self) -> Client:
        """A Temporal client of the environment, with soe_temporal's data converter and
        payload store (so it reads what the executions store)."""
        assert self.soe is not None, "use `async with SoeTestEnvironment(...)`"
        return self.soe.temporal

    async def __aenter__(self) -> SoeTestEnvironment:
        store = self._payload_store
        if store is None:
            self._temporary_store = tempfile.TemporaryDirectory(prefix="soe-payloads-")
            store = self._temporary_store.name
        self.payload_store = payload_store_from(store)
        if self._shared_environment is None:
            self.environment = await WorkflowEnvironment.start_time_skipping(
                test_server_existing_path=test_server_path()
            )
            await register_search_attributes(self.environment.client)
        else:
            self.environment = self._shared_environment
        client = self.environment.client
        if self._interceptors:
            config = client.config()
            config["interceptors"] = [*config["interceptors"], *self._interceptors]
            client = Client(**config)
        self.worker = create_worker(
            client,
            self.task_queue,
            call_llm=self._call_llm,
            tools_registry=self._tools_registry,
            tool_defaults=self._tool_defaults,
            llm_defaults=self._llm_defaults,
            payload_store=self.payload_store,
        )
        await self.worker.__aenter__()
        self.soe = SoeClient(
            client,
            self.task_queue,
            payload_store=self.payload_store,
            **self._client_options,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.worker is not None:
            await self.worker.__aexit__(exc_type, exc, traceback)
        if self.environment is not None and self._shared_environment is None:
            await self.environment.shutdown()
        if self._temporary_store is not None:
            self._temporary_store.cleanup()

    async def sleep(self, duration: timedelta) -> None:
        """Let durable time pass at once (timers fire, waiting executions stay waiting)."""
        assert self.environment is not None
        await self.environment.sleep(duration)
