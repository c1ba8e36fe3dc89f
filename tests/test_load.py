"""Signals under load and several workers, on the embedded dev server (real time).

Every signal is counted once, whichever way it comes (broadcast_signals that waits, one
that does not, the temporal CLI) and however many come at once; a fan-out spreads over
several workers, and losing one loses nothing and repeats no recorded call.
"""

from __future__ import annotations

import asyncio
import collections
import json
import signal
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client

from soe_temporal import SoeClient, create_worker, load_config
from soe_temporal.servers.binaries import temporal_cli_path
from soe_temporal.temporal.payloads import SIGNAL_NAME

from .conftest import BIN, DevServerInfo, Spawn
from .test_signals import COUNTER, counted

EXECUTIONS = 50
SIGNALS = 1000
CLI_SIGNALS = 100  # each a process of its own


async def _temporal_signal(address: str, execution_id: str, request_id: str) -> None:
    """What an operator types: temporal workflow signal ... --name soe_signal. Under this
    load the server may answer "Workflow is busy"; the operator sends the same command
    again, and its request id makes that safe."""
    payload = json.dumps({"signals": ["PING"], "request_id": request_id})
    for _ in range(20):
        process = await asyncio.create_subprocess_exec(
            temporal_cli_path(), "workflow", "signal", "--address", address,
            "--workflow-id", execution_id, "--name", SIGNAL_NAME, "--input", payload,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, error = await process.communicate()
        if process.returncode == 0:
            return
        assert "busy" in error.decode().lower(), error.decode()
        await asyncio.sleep(0.5)
    raise AssertionError(f"the temporal CLI could not signal {execution_id}")


async def test_a_thousand_signals_to_fifty_executions_are_each_counted_once(
    dev_server: DevServerInfo,
):
    """Waiting broadcasts, fire-and-forget broadcasts and temporal CLI signals, all at
    once: every call succeeds and each execution counts exactly what it was sent."""
    client = dev_server.server.client
    queue = f"load-{uuid.uuid4().hex[:6]}"
    soe = SoeClient(client, queue, wait_timeout=timedelta(minutes=3),
                    payload_store=dev_server.payloads)  # fmt: skip
    config = load_config(COUNTER)
    async with create_worker(client, queue, payload_store=dev_server.payloads):
        ids = list(
            await asyncio.gather(
                *(soe.orchestrate(config, "counter", ["START"], {}) for _ in range(EXECUTIONS))
            )
        )
        sent: collections.Counter[str] = collections.Counter()
        cli_limit = asyncio.Semaphore(8)

        async def send(index: int) -> None:
            execution_id = ids[index % EXECUTIONS]
            sent[execution_id] += 1
            if index < CLI_SIGNALS:
                async with cli_limit:
                    await _temporal_signal(dev_server.address, execution_id, f"cli-{index}")
            elif index % 2:
                await soe.broadcast_signals(execution_id, ["PING"], wait=True)
            else:
                await soe.broadcast_signals(execution_id, ["PING"], wait=False)

        started = time.perf_counter()
        await asyncio.gather(*(send(index) for index in range(SIGNALS)))
        await asyncio.gather(*(soe.wait_idle(execution_id) for execution_id in ids))
        seconds = time.perf_counter() - started
        contexts = await asyncio.gather(*(soe.get_context(execution_id) for execution_id in ids))
    counts = {
        execution_id: counted(c, "Count") for execution_id, c in zip(ids, contexts, strict=True)
    }
    assert counts == dict(sent)
    assert sum(counts.values()) == SIGNALS
    assert seconds < 120, seconds


async def _until(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


SPREAD = {
    "parent": {
        "Spawn": {
            "node_type": "child",
            "event_triggers": ["BEGIN"],
            "child_workflow_name": "worker",
            "child_initial_signals": ["WORK"],
            "fan_out_field": "items",
            "child_input_field": "item",
            "signals_to_parent": ["DONE"],
            "context_updates_to_parent": ["pid"],
        },
    },
    "worker": {
        "Work": {
            "node_type": "tool",
            "event_triggers": ["WORK"],
            "tool_name": "shared",
            "parameters": {"item": "{{ context.item }}"},
            "output_field": "pid",
            "temporal": {"heartbeat_timeout": "2s"},
            "event_emissions": [{"signal_name": "DONE"}],
        }
    },
}
CHILDREN = 30


async def test_three_workers_share_a_fan_out_and_losing_one_loses_nothing(
    dev_server: DevServerInfo, spawn: Spawn, tmp_path: Path
):
    ledger = tmp_path / "ledger.txt"
    ledger.touch()
    queue = f"several-{uuid.uuid4().hex[:6]}"
    env = dev_server.env(
        SOE_TASK_QUEUE=queue,
        SOE_TOOLS="tests.durability_tools:TOOLS",
        SOE_TEST_LEDGER=str(ledger),
        SOE_TEST_RELEASE=str(tmp_path / "unused"),
    )
    workers = [
        spawn([str(BIN / "soe-temporal"), "worker"], env, stderr=subprocess.DEVNULL)
        for _ in range(3)
    ]
    soe = SoeClient(await Client.connect(dev_server.address), queue,
                    wait_timeout=timedelta(minutes=3), payload_store=dev_server.payloads)  # fmt: skip
    eid = await soe.orchestrate(
        SPREAD, "parent", ["BEGIN"], {"items": list(range(CHILDREN))}, wait=False
    )

    def lines(kind: str) -> list[tuple[str, int]]:
        return [
            (key, int(pid))
            for word, key, pid in (line.split() for line in ledger.read_text().splitlines())
            if word == kind
        ]

    victim = workers[0]
    await _until(lambda: any(pid == victim.pid for _, pid in lines("start")), "a call on worker 1")
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    await soe.wait_idle(eid)

    context = await soe.get_context(eid)
    assert context["__operational__"]["signals"].count("DONE") == CHILDREN
    assert len(context["pid"]) == CHILDREN
    ended = lines("end")
    assert len({key for key, _ in ended}) == CHILDREN  # every call finished
    assert len({pid for _, pid in ended}) >= 2  # spread over the workers
    # A call runs again only if the worker it ran on was lost before its end was recorded.
    runs = collections.Counter(key for key, _ in lines("start"))
    for key, count in runs.items():
        if count > 1:
            assert (key, victim.pid) in lines("start"), key
    survivors_ends = collections.Counter(key for key, pid in ended if pid != victim.pid)
    assert max(survivors_ends.values()) == 1
