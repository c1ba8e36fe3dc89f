"""The hand-written temporalio workflows soe_temporal is measured against.

A workflow module is re-imported in the workflow sandbox: no side effects here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    SearchAttributeUpdate,
    TypedSearchAttributes,
)

TIMEOUT = timedelta(seconds=30)


# Search attributes kept by hand, as an SOE execution keeps them: the same names and
# values, set at start and upserted when they change. A workflow that keeps them pays the
# server's indexing as an SOE execution does; comparing with one that does not shows what
# the attributes cost. (Spelt out here: this module is re-imported in the sandbox.)
WORKFLOW_NAME = SearchAttributeKey.for_keyword("SoeWorkflowName")
STATUS = SearchAttributeKey.for_keyword("SoeStatus")
LAST_SIGNALS = SearchAttributeKey.for_keyword_list("SoeLastSignals")
MAIN_EXECUTION_ID = SearchAttributeKey.for_keyword("SoeMainExecutionId")
PARENT_EXECUTION_ID = SearchAttributeKey.for_keyword("SoeParentExecutionId")
TOOL_CALLS = SearchAttributeKey.for_int("SoeToolCalls")
# How many of a turn's signals SoeLastSignals lists.
LISTED_SIGNALS = 50


def searchable_start(
    name: str, main_id: str, parent_id: str | None = None
) -> TypedSearchAttributes:
    """What an SOE execution starts with: its workflow, ``running``, its tree."""
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(WORKFLOW_NAME, name),
        SearchAttributePair(STATUS, "running"),
        SearchAttributePair(MAIN_EXECUTION_ID, main_id),
    ]
    if parent_id:
        pairs.append(SearchAttributePair(PARENT_EXECUTION_ID, parent_id))
    return TypedSearchAttributes(pairs)


def upsert_idle(signals: Sequence[str], tool_calls: int = 0) -> None:
    """What an SOE execution upserts when a turn ends: the values that changed."""
    carried = workflow.info().typed_search_attributes
    updates: list[SearchAttributeUpdate[Any]] = []
    if carried.get(STATUS) != "idle":
        updates.append(STATUS.value_set("idle"))
    if list(carried.get(LAST_SIGNALS) or []) != list(signals):
        updates.append(LAST_SIGNALS.value_set(list(signals)))
    if tool_calls and carried.get(TOOL_CALLS) != tool_calls:
        updates.append(TOOL_CALLS.value_set(tool_calls))
    if updates:
        workflow.upsert_search_attributes(updates)


async def noop() -> str:
    """The no-op work: registered as an SOE tool and wrapped as a plain activity."""
    return "ok"


@activity.defn(name="bench.noop")
async def noop_activity() -> str:
    return await noop()


@workflow.defn(name="HandWrittenChain")
class HandWrittenChain:
    @workflow.run
    async def run(self, nodes: int) -> list[str]:
        return [
            await workflow.execute_activity(noop_activity, start_to_close_timeout=TIMEOUT)
            for _ in range(nodes)
        ]


@workflow.defn(name="HandWrittenLocalChain")
class HandWrittenLocalChain:
    @workflow.run
    async def run(self, nodes: int) -> list[str]:
        return [
            await workflow.execute_local_activity(noop_activity, start_to_close_timeout=TIMEOUT)
            for _ in range(nodes)
        ]


# The same two workflows outside temporalio's sandbox, as SoeWorkflow runs.


@workflow.defn(name="HandWrittenChainUnsandboxed", sandboxed=False)
class HandWrittenChainUnsandboxed:
    @workflow.run
    async def run(self, nodes: int) -> list[str]:
        return [
            await workflow.execute_activity(noop_activity, start_to_close_timeout=TIMEOUT)
            for _ in range(nodes)
        ]


@workflow.defn(name="HandWrittenLocalChainUnsandboxed", sandboxed=False)
class HandWrittenLocalChainUnsandboxed:
    @workflow.run
    async def run(self, nodes: int) -> list[str]:
        """Started with search attributes, it upserts as an SOE chain does when it ends:
        idle, the signals its turn broadcast (the first 50), its tool calls."""
        results = [
            await workflow.execute_local_activity(noop_activity, start_to_close_timeout=TIMEOUT)
            for _ in range(nodes)
        ]
        if workflow.info().typed_search_attributes.get(STATUS):
            signals = ["START", *(f"DONE_{index}" for index in range(nodes))]
            upsert_idle(signals[:LISTED_SIGNALS], tool_calls=nodes)
        return results


# The chains again, each call passing the input an SOE tool call sends (its execution,
# workflow, node, tool, attempt and parameters) and getting back what an SOE tool call
# does. Run with soe_temporal's data converter (external storage configured), they pay
# what temporalio spends on a call's input and result; the rest is SOE's workflow.


@activity.defn(name="bench.noop_with_input")
async def noop_with_input_activity(request: dict[str, Any]) -> dict[str, Any]:
    return {"result": await noop()}


def tool_call_input(node: int) -> dict[str, Any]:
    return {
        "execution_id": workflow.info().workflow_id,
        "workflow_name": "chain",
        "node_name": f"Step{node}",
        "tool_name": "noop",
        "attempt": 1,
        "parameters": {},
    }


async def _chain_with_input(
    execute: Callable[..., Awaitable[dict[str, Any]]], nodes: int
) -> list[dict[str, Any]]:
    return [
        await execute(
            noop_with_input_activity, tool_call_input(node), start_to_close_timeout=TIMEOUT
        )
        for node in range(nodes)
    ]


@workflow.defn(name="HandWrittenChainWithInput", sandboxed=False)
class HandWrittenChainWithInput:
    @workflow.run
    async def run(self, nodes: int) -> list[dict[str, Any]]:
        return await _chain_with_input(workflow.execute_activity, nodes)


@workflow.defn(name="HandWrittenLocalChainWithInput", sandboxed=False)
class HandWrittenLocalChainWithInput:
    @workflow.run
    async def run(self, nodes: int) -> list[dict[str, Any]]:
        return await _chain_with_input(workflow.execute_local_activity, nodes)


# The LLM-node comparison: the same `soe.llm` activity (on the fake provider), called N
# times with a fixed SOE prompt; soe_temporal adds prompt assembly and answer validation.

LLM_PROMPT = (
    '{"prompt":"Step","context":"","conversation_history":""}\n\n'
    "Respond with ONLY a valid JSON object that matches the following JSON Schema:\n"
    '{"properties": {"out": {"description": "The out value", "title": "Out"}}, '
    '"required": ["out"], "title": "OutResponse", "type": "object"}\n'
    "Do not repeat the schema itself: return a JSON instance of it (just the data), "
    "with no other text."
)


async def _llm_chain(nodes: int) -> list[str]:
    return [
        (
            await workflow.execute_activity(
                "soe.llm",
                {
                    "execution_id": "bench",
                    "workflow_name": "chain",
                    "node_name": f"Think{index}",
                    "attempt": 1,
                    "prompt": LLM_PROMPT,
                    "config": {"node_type": "llm", "name": f"Think{index}"},
                },
                start_to_close_timeout=TIMEOUT,
            )
        )["text"]
        for index in range(nodes)
    ]


@workflow.defn(name="HandWrittenLlmChain")
class HandWrittenLlmChain:
    @workflow.run
    async def run(self, nodes: int) -> list[str]:
        return await _llm_chain(nodes)


@workflow.defn(name="HandWrittenLlmChainUnsandboxed", sandboxed=False)
class HandWrittenLlmChainUnsandboxed:
    @workflow.run
    async def run(self, nodes: int) -> list[str]:
        return await _llm_chain(nodes)


# The fan-out comparison: a parent starts N children at once; each tells the parent it is
# done; the parent finishes when all have.


@workflow.defn(name="HandWrittenFanOutChild")
class HandWrittenFanOutChild:
    @workflow.run
    async def run(self, parent_id: str) -> None:
        if workflow.info().typed_search_attributes.get(STATUS):
            upsert_idle(["WORK", "DONE"])
        await workflow.get_external_workflow_handle(parent_id).signal("done")


@workflow.defn(name="HandWrittenFanOut")
class HandWrittenFanOut:
    def __init__(self) -> None:
        self.done = 0

    @workflow.signal
    def done(self) -> None:
        self.done += 1

    @workflow.run
    async def run(self, children: int) -> int:
        """Started with search attributes, it gives its children theirs and upserts as an
        SOE parent does when the fan-out is done."""
        parent_id = workflow.info().workflow_id
        searchable = bool(workflow.info().typed_search_attributes.get(STATUS))
        await asyncio.gather(
            *(
                workflow.start_child_workflow(
                    HandWrittenFanOutChild.run,
                    parent_id,
                    id=f"{parent_id}/child-{index}",
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    search_attributes=(
                        searchable_start("worker", parent_id, parent_id) if searchable else None
                    ),
                )
                for index in range(children)
            )
        )
        await workflow.wait_condition(lambda: self.done >= children)
        if searchable:
            upsert_idle(["BEGIN", "DONE", "ALL_DONE"])
        return self.done
