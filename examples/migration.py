"""The seed's "Strategy 3: Context Migration": move a running execution to a new version of
its workflow. Read its context, map the old fields to the new ones, start an execution of
the new config from there, and close the old one.

    new_id = await migrate(soe, old_id, "examples/approval_v2.yaml", "waiting_workflow")
"""

from __future__ import annotations

from typing import Any

from soe_temporal import SoeClient
from soe_temporal.engine.context import is_internal_field

FIELD_RENAMES = {"request": "purchase_request"}  # v1 name -> v2 name


def migrate_context_v1_to_v2(old_context: dict[str, Any]) -> dict[str, Any]:
    """Latest value of each ordinary field, under its v2 name."""
    return {
        FIELD_RENAMES.get(name, name): history[-1]
        for name, history in old_context.items()
        if not is_internal_field(name) and history
    }


async def migrate(soe: SoeClient, old_id: str, new_config: Any, workflow_name: str) -> str:
    old_context = await soe.get_context(old_id)
    new_id = await soe.orchestrate(
        new_config,
        workflow_name,
        ["RESUME"],  # a custom signal for migrations
        migrate_context_v1_to_v2(old_context),
    )
    await soe.close(old_id)  # mark the old execution: it is complete now
    return new_id
