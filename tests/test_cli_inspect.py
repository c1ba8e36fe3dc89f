"""The CLI's commands for finding and seeing executions and configs: `list` (by SOE
workflow, status, last signal, a Temporal query), `graph` (of a config or an execution)
and `validate` (errors, warnings, entry and exit points; no server)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from pathlib import Path

from soe_temporal import SoeClient, create_worker

from .conftest import ROOT, DevServerInfo
from .test_cli_e2e import CLI, _cli
from .test_workflow import APPROVAL_TOOLS

APPROVAL = ROOT / "examples" / "approval.yaml"


async def _cli_async(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """The CLI in a subprocess while this process's worker goes on answering."""
    process = await asyncio.create_subprocess_exec(
        CLI, *args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, out.decode(), err.decode()


def test_validate_says_valid_and_lists_entry_and_exit_points():
    checked = _cli(["validate", str(APPROVAL)], {})
    assert checked.returncode == 0, checked.stderr
    assert "waiting_workflow: START, APPROVED, REJECTED" in checked.stdout
    assert "valid (0 error(s), 0 warning(s))" in checked.stdout


def test_validate_exits_2_with_every_error_and_a_did_you_mean(tmp_path: Path):
    config = tmp_path / "typo.yaml"
    config.write_text(
        "wf:\n"
        "  Start: {node_type: router, event_trigers: [START]}\n"
        "  Other: {node_type: tool, event_triggers: [GO]}\n"
    )
    checked = _cli(["validate", str(config)], {})
    assert checked.returncode == 2
    assert "did you mean 'event_triggers'" in checked.stderr
    assert "tool_name" in checked.stderr  # the second error too
    assert "invalid (3 error(s)" in checked.stderr  # and tool_name is required


def test_validate_warns_of_an_unknown_key_and_still_exits_0(tmp_path: Path):
    config = tmp_path / "warn.yaml"
    config.write_text(
        "wf:\n  Start:\n    node_type: router\n    event_triggers: [START]\n"
        "    event_emissions: [{signal_name: DONE, conditon: 'x'}]\n"
    )
    checked = _cli(["validate", str(config)], {})
    assert checked.returncode == 0, checked.stderr
    assert "warning:" in checked.stderr and "condition" in checked.stderr


def test_graph_of_a_config_is_mermaid_or_dot():
    mermaid = _cli(["graph", str(APPROVAL)], {})
    assert mermaid.returncode == 0, mermaid.stderr
    assert mermaid.stdout.startswith("flowchart LR")
    assert '-->|"PROCESS_APPROVED"|' in mermaid.stdout
    dot = _cli(["graph", str(APPROVAL), "--format", "dot"], {})
    assert dot.stdout.startswith("digraph soe {")


def test_graph_takes_a_config_or_an_execution_not_both():
    both = _cli(["graph", str(APPROVAL), "--execution", "x"], {})
    assert both.returncode == 2 and "one of them" in both.stderr


async def test_list_and_graph_of_executions_on_the_dev_server(dev_server: DevServerInfo):
    client = dev_server.server.client
    queue = f"inspect-{uuid.uuid4().hex[:6]}"
    tag = uuid.uuid4().hex[:6]
    soe = SoeClient(client, queue, payload_store=dev_server.payloads)
    env = dev_server.env()
    flags = ["--address", dev_server.address, "--task-queue", queue]
    async with create_worker(
        client, queue, tools_registry=APPROVAL_TOOLS, payload_store=dev_server.payloads
    ):
        waiting = await soe.orchestrate(
            APPROVAL, "waiting_workflow", ["START"], {}, execution_id=f"{tag}-waiting"
        )
        done = await soe.orchestrate(
            APPROVAL, "waiting_workflow", ["START"], {}, execution_id=f"{tag}-done"
        )
        await soe.broadcast_signals(done, ["APPROVED"])
        listing = [
            "list", "--workflow", "waiting_workflow", "--status", "idle",
            "--last-signal", "WAITING_FOR_APPROVAL", "--query", f"WorkflowId STARTS_WITH '{tag}'",
        ]  # fmt: skip
        deadline = time.monotonic() + 15
        while True:  # the search index follows the executions by a moment
            code, out, err = await _cli_async([*listing, "--json", *flags], env)
            assert code == 0, err
            rows = json.loads(out)
            if len(rows) == 1 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert [row["execution_id"] for row in rows] == [waiting]
        code, table, err = await _cli_async([*listing, *flags], env)
        assert table.splitlines()[0].split() == [
            "execution_id", "workflow_name", "soe_status", "last_signals", "started"
        ]  # fmt: skip
        assert waiting in table and "START,WAITING_FOR_APPROVAL" in table

        code, drawn, err = await _cli_async(["graph", "--execution", done, *flags], env)
        assert code == 0, err
        assert '"HandleApproval ×1"' in drawn and '"HandleRejection"' in drawn
