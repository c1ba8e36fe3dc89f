"""The built-ins that need I/O, run by the tool activity (F-BI-2, F-BI-14, F-BI-15).

Listing executions uses Temporal's visibility API and a small query on each; copying
context between executions queries the source and signals the target. What they compute
is the engine's (``plan_copy``, ``context_summary``), so the rules live in one place.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio.client import Client, RPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from ..engine.builtins import BuiltinError, check_arguments, plan_copy
from ..temporal.payloads import CONTEXT_QUERY, REPLACE_FIELDS_SIGNAL, SUMMARY_QUERY, WORKFLOW_TYPE
from .docs_index import explore_docs

# soe_list_contexts shows the most recently started executions, at most this many.
LIST_CONTEXTS_LIMIT = 100
_QUERY_CONCURRENCY = 16
# An execution whose worker is gone cannot answer a query: it is skipped after this long.
QUERY_TIMEOUT = timedelta(seconds=2)
SOURCE_QUERY_TIMEOUT = timedelta(seconds=10)


async def run_io_builtin(
    client: Client, execution_id: str, name: str, arguments: dict[str, Any]
) -> Any:
    """One call of an I/O built-in for the execution ``execution_id``; a TypeError means
    the arguments do not fit it."""
    check_arguments(name, arguments)
    if name == "soe_explore_docs":
        return explore_docs(**arguments)
    if name == "soe_list_contexts":
        return await list_contexts(client, execution_id, **arguments)
    if name == "soe_copy_context":
        return await copy_context(client, execution_id, **arguments)
    raise BuiltinError(f"'{name}' is not a built-in that runs in the tool activity")


async def list_contexts(
    client: Client, execution_id: str, include_current: bool = True
) -> dict[str, Any]:
    """F-BI-15: the executions of this namespace, newest first; unreadable ones skipped."""
    listing = client.list_workflows(f'WorkflowType = "{WORKFLOW_TYPE}"', limit=LIST_CONTEXTS_LIMIT)
    try:
        ids = [entry.id async for entry in listing]
    except RPCError as error:
        if error.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        return {
            "current_execution_id": execution_id,
            "contexts": [],
            "note": "This Temporal server cannot list workflows (no visibility API, as on the "
            "time-skipping test server), so no execution is listed.",
        }
    ids = list(dict.fromkeys(ids))  # one entry per execution, not per run
    if not include_current:
        ids = [i for i in ids if i != execution_id]
    gate = asyncio.Semaphore(_QUERY_CONCURRENCY)

    async def summary(other: str) -> dict[str, Any] | None:
        async with gate:
            try:
                shown = await client.get_workflow_handle(other).query(
                    SUMMARY_QUERY, rpc_timeout=QUERY_TIMEOUT
                )
            except Exception:
                return None
        return {"execution_id": other, "is_current": other == execution_id, **shown}

    found = await asyncio.gather(*(summary(other) for other in ids))
    return {"current_execution_id": execution_id, "contexts": [s for s in found if s]}


async def copy_context(
    client: Client,
    execution_id: str,
    source_execution_id: str | None = None,
    fields: dict[str, str] | None = None,
    all_fields: bool = False,
    target_execution_id: str | None = None,
) -> dict[str, Any]:
    """F-BI-14 between executions: read the source's context, then put the histories in
    the target (a signal it applies before anything that happens after this call)."""
    source = source_execution_id or execution_id
    target = target_execution_id or execution_id
    try:
        context = await client.get_workflow_handle(source).query(
            CONTEXT_QUERY, rpc_timeout=SOURCE_QUERY_TIMEOUT
        )
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        return {"error": f"Source execution '{source}' not found"}
    except RPCTimeoutOrCancelledError:
        return {
            "error": f"Source execution '{source}' did not answer within "
            f"{SOURCE_QUERY_TIMEOUT.seconds}s: is a worker running on its task queue?"
        }
    copied, result = plan_copy(context, source, target, fields, all_fields)
    if copied:
        try:
            await client.get_workflow_handle(target).signal(REPLACE_FIELDS_SIGNAL, copied)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return {"error": f"Target execution '{target}' not found or closed"}
            raise
    return result
