"""The seed's ecosystem claims: executions are immutable, can be migrated, can signal each
other, and wait for signals for months."""

from __future__ import annotations

from datetime import timedelta

from examples.migration import migrate
from examples.tools import TOOLS
from soe_temporal.testing import SoeTestEnvironment

from .conftest import EXAMPLES


async def test_seed_cross_execution_a_tool_signals_an_execution_waiting_for_90_days():
    async with SoeTestEnvironment(tools_registry=TOOLS) as env:
        listener = await env.soe.orchestrate(
            EXAMPLES / "cross_execution.yaml", "listener", ["START"], {}
        )
        await env.sleep(timedelta(days=90))
        notifier = await env.soe.orchestrate(
            EXAMPLES / "cross_execution.yaml", "notifier", ["START"], {"listener_id": listener}
        )
        await env.soe.wait_idle(listener)
        heard = await env.soe.get_context(listener)
        receipt = (await env.soe.get_context(notifier))["receipt"]
    assert heard["__operational__"]["signals"] == ["START", "LISTENING", "EXTERNAL_EVENT", "HEARD"]
    assert receipt == [{"notified": listener, "by": notifier}]


async def test_seed_context_migration_moves_an_execution_to_version_2():
    """F-PAT-13: phase 2 is a new execution that continues phase 1's data."""
    async with SoeTestEnvironment(tools_registry=TOOLS) as env:
        old = await env.soe.orchestrate(
            EXAMPLES / "approval.yaml", "waiting_workflow", ["START"], {"request": "laptop"}
        )
        new = await migrate(env.soe, old, EXAMPLES / "approval_v2.yaml", "waiting_workflow")
        await env.soe.broadcast_signals(new, ["APPROVED"])
        migrated = await env.soe.get_context(new)
        assert (await env.soe.describe(old))["status"] == "COMPLETED"
        assert list(await env.soe.get_workflows(new)) == ["waiting_workflow"]
    assert migrated["purchase_request"] == ["laptop"]
    assert migrated["__operational__"]["signals"] == [
        "RESUME",
        "WAITING_FOR_APPROVAL",
        "APPROVED",
        "PROCESS_APPROVED",
        "COMPLETE",
    ]


async def test_seed_immutability_each_execution_runs_the_config_it_started_with(tmp_path):
    """Execution 001 keeps v1 after the file changes; a new execution runs v2, and
    get_workflows shows each exactly what it runs."""
    path = tmp_path / "workflow.yaml"
    path.write_text((EXAMPLES / "approval.yaml").read_text())
    async with SoeTestEnvironment(tools_registry=TOOLS) as env:
        first = await env.soe.orchestrate(path, "waiting_workflow", ["START"], {})
        path.write_text((EXAMPLES / "approval_v2.yaml").read_text())
        second = await env.soe.orchestrate(path, "waiting_workflow", ["RESUME"], {})
        first_workflows = await env.soe.get_workflows(first)
        second_workflows = await env.soe.get_workflows(second)
        await env.soe.broadcast_signals(first, ["REJECTED"])
        rejected = await env.soe.get_context(first)
    assert "HandleRejection" in first_workflows["waiting_workflow"]
    assert "HandleRejection" not in second_workflows["waiting_workflow"]
    assert rejected["rejection_notice"] == [{"status": "rejected", "notified": True}]
