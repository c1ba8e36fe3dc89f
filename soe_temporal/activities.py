"""Activities: the I/O an execution needs. Names are stable (renaming one breaks running
executions); the UI shows which node each call serves through the activity summary."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from concurrent.futures import Executor
from typing import Any

from temporalio import activity
from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.service import RPCError

from .engine.builtins import is_builtin
from .engine.calls import ToolParameterError, builtin_arguments
from .engine.size import json_size
from .engine.state import EngineSettings
from .llm.providers import LlmAnswer, LlmProvider, LlmProviderError
from .llm.usage import TokenUsage
from .temporal.conversation import ConversationReader
from .temporal.payload_store import PayloadStore
from .temporal.payloads import (
    CONVERSATION_QUERY,
    LLM_ACTIVITY,
    LLM_CALL_ERROR,
    LLM_PROVIDER_ERROR,
    LLM_UNAVAILABLE,
    READ_HISTORY_ACTIVITY,
    TOOL_ACTIVITY,
    TOOL_ERROR,
    TOOL_NOT_FOUND,
    TOOL_PARAMETER_ERROR,
    TOOL_RESULT_INVALID,
    WORKER_OPTIONS_ACTIVITY,
    LlmCallInput,
    LlmCallResult,
    ToolCallInput,
    ToolCallResult,
    ToolFailureDetails,
    ToolOptions,
    WorkerOptions,
)
from .temporal.serialization import NotJsonData, to_json_data
from .tools.invoke import invoke
from .tools.io_builtins import run_io_builtin
from .tools.registry import (
    ToolEntry,
    agent_arguments,
    arguments_model,
    describe_tool,
    shape_arguments,
)

# No result is kept that no execution could hold (large ones go to the payload store).
MAX_RESULT_BYTES = EngineSettings().max_state_bytes
HEARTBEAT_EVERY_SECONDS = 1.0


class SoeActivities:
    """The activities of one worker, bound to its tools registry and LLM provider."""

    def __init__(
        self,
        tools: Mapping[str, ToolEntry],
        executor: Executor,
        llm: LlmProvider | None = None,
        tool_defaults: dict[str, Any] | None = None,
        llm_defaults: dict[str, Any] | None = None,
        payload_store: PayloadStore | None = None,
    ) -> None:
        self._tools = dict(tools)
        # Long conversations reach the LLM activity by reference (temporal/conversation.py).
        self._conversations = ConversationReader(payload_store) if payload_store else None
        self._descriptions = {name: describe_tool(entry) for name, entry in self._tools.items()}
        self._argument_models = {
            name: arguments_model(entry.function) for name, entry in self._tools.items()
        }
        self._executor = executor
        self._llm = llm
        self._tool_defaults = dict(tool_defaults or {})
        self._llm_defaults = dict(llm_defaults or {})

    def all(self) -> list[Any]:
        return [self.call_tool, self.call_llm, self.worker_options, self.read_history]

    @activity.defn(name=READ_HISTORY_ACTIVITY)
    async def read_history(self, main_execution_id: str) -> list[dict[str, Any]]:
        """The conversation history of a tree, from its main execution (F-HIST-1)."""
        handle = activity.client().get_workflow_handle(main_execution_id)
        return await handle.query(CONVERSATION_QUERY)

    @activity.defn(name=WORKER_OPTIONS_ACTIVITY)
    async def worker_options(self) -> WorkerOptions:
        return WorkerOptions(
            tools={
                name: ToolOptions(
                    max_retries=entry.max_retries,
                    failure_signal=entry.failure_signal,
                    temporal=entry.temporal,
                    process_accumulated=entry.process_accumulated,
                    function_name=self._descriptions[name].function_name,
                    signature=self._descriptions[name].signature,
                    arguments_schema=self._descriptions[name].arguments_schema,
                )
                for name, entry in self._tools.items()
            },
            tool_defaults=self._tool_defaults,
            llm_defaults=self._llm_defaults,
            conversation_by_reference=self._conversations is not None,
        )

    @activity.defn(name=LLM_ACTIVITY)
    async def call_llm(self, request: LlmCallInput) -> LlmCallResult:
        """One model call. SOE reads, validates and retries answers in the workflow."""
        if self._llm is None:
            raise ApplicationError(
                f"Node '{request.node_name}' of workflow '{request.workflow_name}' is an llm "
                "node, but this worker has no LLM provider. Give create_worker a call_llm, or "
                "set SOE_LLM (fake, openai, or module:callable) for `soe-temporal worker`.",
                type=LLM_UNAVAILABLE,
                non_retryable=True,
            )
        prompt = request.prompt
        if request.conversation_head:
            assert self._conversations is not None  # workers without a store are never asked
            conversation = await self._conversations.text(
                request.conversation_head, request.conversation_chunks
            )
            prompt = request.prompt_before + conversation + request.prompt_after
        try:
            answer = await _with_heartbeats(
                self._llm.complete(prompt, request.config, request.system_prompt)
            )
        except LlmProviderError as error:
            raise ApplicationError(
                str(error),
                type=LLM_PROVIDER_ERROR,
                non_retryable=not error.retryable,
                next_retry_delay=error.retry_after,
            ) from None
        except Exception as error:  # SOE never retries call_llm's own exceptions (F-PROTO-6)
            activity.logger.warning(
                "call_llm for node '%s' raised %s: %s",
                request.node_name,
                type(error).__name__,
                error,
            )
            raise ApplicationError(
                f"{type(error).__name__}: {error}", type=LLM_CALL_ERROR, non_retryable=True
            ) from None
        if not isinstance(answer, LlmAnswer):  # a provider that answers with the bare text
            answer = LlmAnswer(answer)
        if not isinstance(answer.text, str):
            raise ApplicationError(
                f"The LLM provider returned a {type(answer.text).__name__}, not text, for node "
                f"'{request.node_name}'; call_llm(prompt, config) must return a string.",
                type=LLM_CALL_ERROR,
                non_retryable=True,
            )
        return LlmCallResult(answer.text, _kept_usage(answer.usage, request.node_name))

    @activity.defn(name=TOOL_ACTIVITY)
    async def call_tool(self, request: ToolCallInput) -> ToolCallResult:
        entry = self._tools.get(request.tool_name)
        if entry is None and is_builtin(request.tool_name):
            return await self._call_io_builtin(request)
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
            if request.as_text:  # an agent's call: SOE's arguments model shapes them
                kwargs = agent_arguments(self._argument_models[request.tool_name], kwargs)
            result = await self._run(entry, args, kwargs)
        except ToolParameterError as error:
            raise ApplicationError(
                str(error), details, type=TOOL_PARAMETER_ERROR, non_retryable=True
            ) from None
        except Exception as error:  # the tool's own failure: one SOE attempt
            details.exception_type = type(error).__name__
            activity.logger.warning(
                "Tool '%s' (node '%s', attempt %d) raised %s: %s",
                request.tool_name,
                request.node_name,
                request.attempt,
                type(error).__name__,
                error,
            )
            # SOE handles it (retries, failure signal): no traceback in Temporal's log.
            raise ApplicationError(
                str(error),
                details,
                type=TOOL_ERROR,
                non_retryable=True,
                category=ApplicationErrorCategory.BENIGN,
            ) from None
        if request.as_text:  # an agent reads the result as text (F-AGENT-7)
            result = result if isinstance(result, str) else str(result)
        try:
            data, size = _as_kept(result, request.tool_name)
        except NotJsonData as error:
            raise ApplicationError(
                str(error), details, type=TOOL_RESULT_INVALID, non_retryable=True
            ) from None
        if size > MAX_RESULT_BYTES:
            raise ApplicationError(
                f"The result of tool '{request.tool_name}' is {size} bytes of JSON, over the "
                f"{MAX_RESULT_BYTES}-byte limit for values kept in an execution "
                "(max_state_bytes). Store large data elsewhere and return a reference.",
                details,
                type=TOOL_RESULT_INVALID,
                non_retryable=True,
            )
        return ToolCallResult(data, entry.max_retries, entry.failure_signal)

    async def _call_io_builtin(self, request: ToolCallInput) -> ToolCallResult:
        """A built-in that needs I/O (listing executions, the docs, another execution's
        context); its failure is one SOE attempt with no retries (F-BI-1)."""
        try:
            arguments = builtin_arguments(
                request.tool_name, request.parameters, request.parameter_history
            )
            result = await _with_heartbeats(
                run_io_builtin(
                    activity.client(), request.execution_id, request.tool_name, arguments
                )
            )
        except ToolParameterError as error:
            raise ApplicationError(
                str(error), ToolFailureDetails(), type=TOOL_PARAMETER_ERROR, non_retryable=True
            ) from None
        except (RPCError, RPCTimeoutOrCancelledError):
            raise  # the server or a worker is briefly unreachable: Temporal retries
        except Exception as error:  # the built-in refused its arguments
            raise ApplicationError(
                str(error),
                ToolFailureDetails(0, None, type(error).__name__),
                type=TOOL_ERROR,
                non_retryable=True,
                category=ApplicationErrorCategory.BENIGN,
            ) from None
        if request.as_text:
            result = result if isinstance(result, str) else str(result)
        return ToolCallResult(result, 0, None)

    async def _run(self, entry: ToolEntry, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Await an async tool, or run a plain one in the thread pool; heartbeat meanwhile."""
        return await _with_heartbeats(invoke(entry.function, args, kwargs, self._executor))


def _kept_usage(usage: Any, node_name: str) -> TokenUsage | None:
    """The provider's token usage, if the workflow can read it back from the history (a
    value it could not read would stop the execution): otherwise none, with a warning."""
    if usage is None or (isinstance(usage, TokenUsage) and usage.is_well_formed()):
        return usage
    activity.logger.warning(
        "The LLM provider reported token usage that is not counts of tokens for node '%s' "
        "(left out): %r",
        node_name,
        usage,
    )
    return None


def _as_kept(result: Any, tool_name: str) -> tuple[Any, int]:
    """A tool's result as the JSON data an execution keeps, and its size as JSON. Text,
    whole numbers, booleans and None are that already (most tools' results)."""
    if result is None or type(result) in (str, int, bool):
        return result, json_size(result)
    data = to_json_data(result, f"The result of tool '{tool_name}'")
    return data, json_size(data)


async def _with_heartbeats(work: Awaitable[Any]) -> Any:
    """Await ``work``, heartbeating meanwhile (remote activities only), so a call on a lost
    worker is retried within the heartbeat timeout."""
    if activity.info().is_local:
        return await work
    heartbeats = asyncio.create_task(_heartbeat_until_cancelled())
    try:
        return await work
    finally:
        heartbeats.cancel()


async def _heartbeat_until_cancelled() -> None:
    """Heartbeat while a tool runs, so a call on a lost worker is retried in seconds."""
    while True:
        await asyncio.sleep(HEARTBEAT_EVERY_SECONDS)
        activity.heartbeat()
