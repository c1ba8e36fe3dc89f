"""What a tool can reach while it runs (it runs as a Temporal activity).

    from .tool_context import current_execution_id, current_soe_client

    async def notify_other_workflow(other_execution_id: str) -> dict:
        await current_soe_client().broadcast_signals(other_execution_id, ["EXTERNAL_EVENT"], wait=False)
        return {"notified": True, "by": current_execution_id()}

Use them from async tools (plain tools run in a thread, where the client's calls cannot be
awaited). ``wait=False`` is usually right: a tool that waits for another execution to go
idle holds its own node open meanwhile.
"""

from __future__ import annotations

from temporalio import activity

from .client import SoeClient


def current_soe_client() -> SoeClient:
    """A SoeClient on the worker's own connection, namespace and task queue."""
    return SoeClient(activity.client(), activity.info().task_queue)


def current_execution_id() -> str:
    """The id of the execution whose node called this tool."""
    return activity.info().workflow_id
