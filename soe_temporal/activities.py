"""Activities: the I/O an execution needs. Names are stable (renaming one breaks running
executions); the UI shows which node each call serves through the activity summary."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
from collections.abc import Awaitable, Mapping
from concurrent.futures import Executor
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from .payloads import (
    TOOL_ACTIVITY,
    TOOLS_MANIFEST_ACTIVITY,
    ToolCallInput,
    ToolCallResult,
    ToolFailureDetails,
    ToolManifestEntry,
    ToolsManifest,
)
from .serialization import NotJsonData, json_size, to_json_data
from .tools import ToolEntry, ToolParameterError, shape_arguments

# Temporal refuses payloads over 2 MiB; stay well under it.
MAX_RESULT_BYTES = 1_500_000
HEARTBEAT_EVERY_SECONDS = 1.0

# ApplicationError types the workflow tells apart.
TOOL_NOT_FOUND = "ToolNotFound"
TOOL_PARAMETER_ERROR = "ToolParameterError"
TOOL_ERROR = "ToolError"
TOOL_RESULT_INVALID = "ToolResultInvalid"


class SoeActivities:
    """The activities of one worker, bound to its tools registry."""

    def __init__(
        self,
        tools: Mapping[str, ToolEntry],
        tool_defaults: dict[str, Any] | None,
        executor: Executor,
    ) -> None:
        self._tools = dict(tools)
        self._tool_defaults = dict(tool_defaults or {})
        self._executor = executor

    def all(self) -> list[Any]:
        return [self.call_tool, self.tools_manifest]

    @activity.defn(name=TOOLS_MANIFEST_ACTIVITY)
    async def tools_manifest(self) -> ToolsManifest:
        return ToolsManifest(
            tools={
                name: ToolManifestEntry(entry.max_retries, entry.failure_signal, entry.temporal)
                for name, entry in self._tools.items()
            },
            defaults=self._tool_defaults,
        )

    @activity.defn(name=TOOL_ACTIVITY)
    async def call_tool(self, request: ToolCallInput) -> ToolCallResult:
        entry = self._tools.get(request.tool_name)
        if entry is None:
            raise ApplicationError(
                f"Tool '{request.tool_name}' not found in tools_registry or builtin tools "
                f"(node '{request.node_name}' of workflow '{request.workflow_name}'). "
                f"Tools this worker has: {sorted(self._tools) or 'none'}. Add it to the "
                "tools_registry given to create_worker (or SOE_TOOLS).",
                type=TOOL_NOT_FOUND,
                non_retryable=True,
            )
        details = ToolFailureDetails(entry.max_retries, entry.failure_signal)
        try:
            args, kwargs = shape_arguments(entry, request.parameters, request.parameter_history)
        except ToolParameterError as error:
            raise ApplicationError(
                str(error), details, type=TOOL_PARAMETER_ERROR, non_retryable=True
            ) from None
        try:
            result = await self._run(entry, args, kwargs)
        except Exception as error:  # the tool's own failure: one SOE attempt
            details.exception_type = type(error).__name__
            raise ApplicationError(
                str(error), details, type=TOOL_ERROR, non_retryable=True
            ) from None
        try:
            data = to_json_data(result, f"The result of tool '{request.tool_name}'")
        except NotJsonData as error:
            raise ApplicationError(
                str(error), details, type=TOOL_RESULT_INVALID, non_retryable=True
            ) from None
        size = json_size(data)
        if size > MAX_RESULT_BYTES:
            raise ApplicationError(
                f"The result of tool '{request.tool_name}' is {size} bytes of JSON, over the "
                f"{MAX_RESULT_BYTES}-byte limit for values kept in an execution (Temporal "
                "refuses payloads over 2 MiB). Store large data elsewhere and return a reference.",
                details,
                type=TOOL_RESULT_INVALID,
                non_retryable=True,
            )
        return ToolCallResult(data, entry.max_retries, entry.failure_signal)

    async def _run(self, entry: ToolEntry, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Await an async tool, or run a plain one in the thread pool; heartbeat meanwhile."""
        if inspect.iscoroutinefunction(entry.function):
            work: Awaitable[Any] = entry.function(*args, **kwargs)
        else:
            call = functools.partial(entry.function, *args, **kwargs)
            context = contextvars.copy_context()
            work = asyncio.get_running_loop().run_in_executor(self._executor, context.run, call)
        if activity.info().is_local:
            result = await work
        else:
            heartbeats = asyncio.create_task(_heartbeat_until_cancelled())
            try:
                result = await work
            finally:
                heartbeats.cancel()
        return await result if inspect.isawaitable(result) else result


async def _heartbeat_until_cancelled() -> None:
    """Heartbeat while a tool runs, so a call on a lost worker is retried in seconds."""
    while True:
        await asyncio.sleep(HEARTBEAT_EVERY_SECONDS)
        activity.heartbeat()
