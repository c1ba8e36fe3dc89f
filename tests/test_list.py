"""Finding executions on the embedded dev server (which has a visibility store): SOE's
search attributes answer `temporal workflow list --query` and `SoeClient.list_executions`."""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import time
import uuid

import pytest
from temporalio.client import Client

from soe_temporal import SoeClient, create_worker
from soe_temporal.client import soe_client as soe_client_module
from soe_temporal.servers.devserver import DevServer, DevServerSettings
from soe_temporal.temporal.search_attributes import WORKFLOW_NAME

from .conftest import BIN, EXAMPLES, DevServerInfo, free_port
from .test_workflow import APPROVAL_TOOLS

pytestmark = pytest.mark.devserver
APPROVAL = EXAMPLES / "approval.yaml"
WAITING = (
    "SoeWorkflowName='waiting_workflow' AND SoeStatus='idle' "
    "AND SoeLastSignals='WAITING_FOR_APPROVAL'"
)


async def eventually(check, seconds: float = 15.0):
    """The search index follows the executions by a moment: ask until it agrees."""
    deadline = time.monotonic() + seconds
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.2)


async def test_the_seed_query_finds_exactly_the_approvals_waiting_for_a_decision(
    dev_server: DevServerInfo,
):
    client = dev_server.server.client
    queue = f"list-{uuid.uuid4().hex[:6]}"
    soe = SoeClient(client, queue, payload_store=dev_server.payloads)
    tag = uuid.uuid4().hex[:6]
    async with create_worker(
        client, queue, tools_registry=APPROVAL_TOOLS, payload_store=dev_server.payloads
    ):
        waiting = [
            await soe.orchestrate(
                APPROVAL, "waiting_workflow", ["START"], {}, execution_id=f"{tag}-w{n}"
            )
            for n in range(3)
        ]
        approved = await soe.orchestrate(
            APPROVAL, "waiting_workflow", ["START"], {}, execution_id=f"{tag}-approved"
        )
        await soe.broadcast_signals(approved, ["APPROVED"])
    query = f"{WAITING} AND WorkflowId STARTS_WITH '{tag}'"

    async def listed_by_temporal() -> list[str]:
        output = subprocess.run(
            [str(BIN / "temporal"), "workflow", "list", "--address", dev_server.address,
             "--query", query, "--output", "json"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        found = json.loads(output or "[]")
        ids = sorted(row["execution"]["workflowId"] for row in found)
        return ids if ids == sorted(waiting) else []

    assert await eventually(listed_by_temporal) == sorted(waiting)

    async def listed_by_soe() -> list[dict]:
        rows = await soe.list_executions(
            workflow_name="waiting_workflow",
            status="idle",
            last_signal="WAITING_FOR_APPROVAL",
            query=f"WorkflowId STARTS_WITH '{tag}'",
        )
        return rows if len(rows) == 3 else []

    rows = await eventually(listed_by_soe)
    assert sorted(row["execution_id"] for row in rows) == sorted(waiting)
    assert rows[0]["last_signals"] == ["START", "WAITING_FOR_APPROVAL"]
    assert rows[0]["status"] == "RUNNING" and rows[0]["soe_status"] == "idle"

    async def approved_listed() -> list[dict]:
        return await soe.list_executions(
            status="idle", last_signal="COMPLETE", query=f"WorkflowId = '{approved}'"
        )

    [row] = await eventually(approved_listed)
    assert row["tool_calls"] == 1


async def test_list_refuses_a_status_soe_does_not_have(dev_server: DevServerInfo):
    from soe_temporal import ConfigError

    soe = SoeClient(dev_server.server.client, "any")
    with pytest.raises(ConfigError, match="running, idle, failed, closed"):
        await soe.list_executions(status="waiting")


async def test_a_server_without_the_attributes_runs_executions_without_them(
    tmp_path, monkeypatch, caplog
):
    """A real server refuses a start that sets an unregistered search attribute: the
    client finds them missing (or, when it could not ask, is refused once), says how to
    register them, and starts without; the refusal it answered leaves nothing behind for
    asyncio to report."""
    settings = DevServerSettings(
        database=None, port=free_port(), ui_port=free_port(), search_attributes=False
    )
    async with DevServer(settings) as server:
        client: Client = server.client
        asked = SoeClient(client, "bare", payload_store=tmp_path)
        refused = SoeClient(client, "bare", payload_store=tmp_path)
        async with create_worker(
            client, "bare", tools_registry=APPROVAL_TOOLS, payload_store=tmp_path
        ):
            first = await asked.orchestrate(APPROVAL, "waiting_workflow", ["START"], {})
            await asked.broadcast_signals(first, ["APPROVED"])
            assert (await asked.get_context(first))["final_result"]

            async def could_not_ask(client) -> bool:
                return True

            monkeypatch.setattr(soe_client_module, "search_attributes_available", could_not_ask)
            second = await refused.orchestrate(
                APPROVAL, "waiting_workflow", ["START"], {}, execution_id=f"bare-{uuid.uuid4()}"
            )
            await refused.broadcast_signals(second, ["APPROVED"])
            assert (await refused.get_context(second))["final_result"]
            gc.collect()
            await asyncio.sleep(0)
            assert "never retrieved" not in caplog.text
        for eid in (first, second):
            description = await client.get_workflow_handle(eid).describe()
            assert description.typed_search_attributes.get(WORKFLOW_NAME) is None
