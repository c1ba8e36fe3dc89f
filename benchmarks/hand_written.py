"""The hand-written temporalio workflows soe_temporal is measured against.

A workflow module is re-imported in the workflow sandbox: no side effects here.
"""

from __future__ import annotations

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
