"""Signal-to-idle cost on many waiting executions, soe_temporal against a hand-written
temporalio workflow that takes the same signal by an update and runs the same tool.

N executions wait (SOE's approval pattern: "executions stop, not pause"); each round sends
every one of them a signal that triggers a router and a tool node (``broadcast_signals(...,
wait=True)``), against an update to a hand-written workflow whose handler calls the same
no-op activity. Reported per signal: latency (median of the round), history events, and
the CPU time of this process (client and workers both run here), min/median/max over the
rounds, after a round that warms them up. Each twice: keeping SOE's search attributes (as
soe_temporal does by default; the hand-written workflow then sets and upserts the same
ones) and without them. Side by side on one embedded dev server:

    python -m benchmarks.bench_signals --executions 2000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

from benchmarks.hand_written import STATUS, searchable_start, upsert_idle
from benchmarks.stats import machine, print_on_dev_server, ratios, search_attribute_rows, spread
from soe_temporal import SoeClient, create_worker, load_config

CONFIG = """
waiting:
  Wait: {node_type: router, event_triggers: [START], event_emissions: [{signal_name: WAITING}]}
  Route: {node_type: router, event_triggers: [PING], event_emissions: [{signal_name: WORK}]}
  Work: {node_type: tool, event_triggers: [WORK], tool_name: noop, output_field: out}
"""


async def noop() -> str:
    return "ok"


@activity.defn(name="bench.signal_noop")
async def noop_activity() -> str:
    return "ok"


@workflow.defn(name="HandWrittenWaiting", sandboxed=False)
class HandWrittenWaiting:
    """Waits; an update runs the router's decision and the tool, then answers. Started
    with SOE's search attributes, it keeps them as an SOE execution does: ``running``
    while the tool runs, then ``idle`` with the turn's signals and the calls counted."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.closing = False

    @property
    def searchable(self) -> bool:
        return bool(workflow.info().typed_search_attributes.get(STATUS))

    @workflow.update
    async def ping(self) -> int:
        if self.searchable:
            workflow.upsert_search_attributes([STATUS.value_set("running")])
        self.out.append(
            await workflow.execute_activity(
                noop_activity, start_to_close_timeout=timedelta(seconds=30)
            )
        )
        if self.searchable:
            upsert_idle(["PING", "WORK"], tool_calls=len(self.out))
        return len(self.out)

    @workflow.update
    def ready(self) -> int:
        """Answers once the workflow runs (bench_footprint: it is then cached)."""
        return len(self.out)

    @workflow.signal
    def close(self) -> None:
        self.closing = True

    @workflow.run
    async def run(self) -> int:
        if self.searchable:
            upsert_idle(["START", "WAITING"])
        await workflow.wait_condition(lambda: self.closing and workflow.all_handlers_finished())
        return len(self.out)


@dataclass
class Round:
    latency: float
    events: float
    cpu: float


async def _events(client: Client, ids: list[str]) -> int:
    return sum(
        [len((await client.get_workflow_handle(i).fetch_history()).events) for i in ids[:20]]
    )


async def _round(client: Client, ids: list[str], send, concurrency: int) -> Round:
    before = await _events(client, ids)
    limit = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one(execution_id: str) -> None:
        async with limit:
            started = time.perf_counter()
            await send(execution_id)
            latencies.append(time.perf_counter() - started)

    cpu = time.process_time()
    await asyncio.gather(*(one(i) for i in ids))
    cpu = time.process_time() - cpu
    after = await _events(client, ids)
    return Round(statistics.median(latencies), (after - before) / min(20, len(ids)), cpu / len(ids))


async def benchmark(client: Client, executions: int, rounds: int, concurrency: int) -> str:
    soe_queue, hand_queue = f"bench-sig-{uuid.uuid4().hex[:6]}", f"bench-hw-{uuid.uuid4().hex[:6]}"
    config = load_config(CONFIG)
    cache = 4 * executions + 100
    starting = asyncio.Semaphore(concurrency)

    def soe_variant(search_attributes: bool) -> tuple[Callable, Callable]:
        soe = SoeClient(
            client,
            soe_queue,
            wait_timeout=timedelta(minutes=10),
            search_attributes=search_attributes,
        )

        async def start() -> str:
            async with starting:
                return await soe.orchestrate(config, "waiting", ["START"], {})

        async def signal(execution_id: str) -> None:
            await soe.broadcast_signals(execution_id, ["PING"])

        return start, signal

    def hand_variant(search_attributes: bool) -> tuple[Callable, Callable]:
        async def start() -> str:
            workflow_id = f"hw-{uuid.uuid4().hex}"
            async with starting:
                await client.start_workflow(
                    HandWrittenWaiting.run,
                    id=workflow_id,
                    task_queue=hand_queue,
                    search_attributes=(
                        searchable_start("waiting", workflow_id) if search_attributes else None
                    ),
                )
            return workflow_id

        async def update(workflow_id: str) -> None:
            await client.get_workflow_handle(workflow_id).execute_update(HandWrittenWaiting.ping)

        return start, update

    variants = {
        "soe": soe_variant(True),
        "hand": hand_variant(True),
        "soe_plain": soe_variant(False),
        "hand_plain": hand_variant(False),
    }
    measured: dict[str, list[Round]] = {name: [] for name in variants}
    async with (
        create_worker(client, soe_queue, tools_registry={"noop": noop}, max_cached_workflows=cache),
        Worker(
            client,
            task_queue=hand_queue,
            workflows=[HandWrittenWaiting],
            activities=[noop_activity],
            max_cached_workflows=cache,
        ),  # fmt: skip
    ):
        waiting = {
            name: list(await asyncio.gather(*(start() for _ in range(executions))))
            for name, (start, _) in variants.items()
        }
        # A first round warms them up and is dropped: an SOE execution reads its worker's
        # tool options at its first call (one local activity per run), and the caches fill.
        for name, (_, send) in variants.items():
            await _round(client, waiting[name], send, concurrency)
        for _ in range(rounds):
            for name, (_, send) in variants.items():
                measured[name].append(await _round(client, waiting[name], send, concurrency))

    def row(label: str, name: str) -> str:
        done = measured[name]
        return (
            f"| {label} | {spread([r.latency for r in done], 1000, 1)} | "
            f"{spread([r.events for r in done], digits=1)} | "
            f"{spread([r.cpu for r in done], 1000, 2)} |"
        )

    def ratio_row(label: str, ours: str, theirs: str) -> str:
        latency = ratios([r.latency for r in measured[ours]], [r.latency for r in measured[theirs]])
        cpu = ratios([r.cpu for r in measured[ours]], [r.cpu for r in measured[theirs]])
        return f"| {label} | {spread(latency)} | | {spread(cpu)} |"

    return "\n".join(
        [
            f"{machine()}; {executions} waiting executions each, {concurrency} signals at a time, "
            f"min/median/max of {rounds} rounds",
            "| per signal | latency to idle, ms | history events "
            "| CPU of this process (client + worker), ms |",
            "|---|---|---|---|",
            *search_attribute_rows(row, ratio_row),
        ]
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    await print_on_dev_server(
        17933, lambda client: benchmark(client, args.executions, args.rounds, args.concurrency)
    )


if __name__ == "__main__":
    asyncio.run(main())
