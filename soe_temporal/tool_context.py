"""What a tool can reach while it runs (it runs as a Temporal activity).

    from .tool_context import current_execution_id, current_soe_client

    async def notify_other_workflow(other_execution_id: str) -> dict:
        await current_soe_client().broadcast_signals(other_execution_id, ["EXTERNAL_EVENT"], wait=False)
        return {"notified": True, "by": current_execution_id()}

Use them from async tools (plain tools run in a thread, where the client's calls cannot be
awaited). ``wait=False`` is usually right: a tool that waits for another execution to go
idle holds its own node open meanwhile.

A call runs at least once: one that finished while the server was unreachable, or on a
worker that died before its completion was recorded, runs again. A tool with side effects
should make them idempotent, keyed by ``current_call_key()``, which stays the same across
Temporal's retries of one call (and differs between SOE's own attempts, ``max_retries``):

    def charge(order: dict) -> dict:
        return payments.charge(order["amount"], idempotency_key=current_call_key())
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


def current_activity_id() -> str:
    """The id of this call's activity: ``<node>/<call number>`` within its execution."""
    return activity.info().activity_id


def current_call_key() -> str:
    """A key naming this call of this node and nothing else: ``<execution id>/<activity
    id>``. Temporal's retries of the call keep it; an idempotency key for side effects."""
    info = activity.info()
    return f"{info.workflow_id}/{info.activity_id}"
