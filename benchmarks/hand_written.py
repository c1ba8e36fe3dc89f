"""The hand-written temporalio workflows soe_temporal is measured against.

A workflow module is re-imported in the workflow sandbox: no side effects here.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow

TIMEOUT = timedelta(seconds=30)


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
        return [
            await workflow.execute_local_activity(noop_activity, start_to_close_timeout=TIMEOUT)
            for _ in range(nodes)
        ]


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
        parent_id = workflow.info().workflow_id
        await asyncio.gather(
            *(
                workflow.start_child_workflow(
                    HandWrittenFanOutChild.run,
                    parent_id,
                    id=f"{parent_id}/child-{index}",
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                )
                for index in range(children)
            )
        )
        await workflow.wait_condition(lambda: self.done >= children)
        return self.done
