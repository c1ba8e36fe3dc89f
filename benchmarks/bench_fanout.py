"""A fan-out of N children: soe_temporal's child node against a hand-written one.

Side by side, in one run, on one embedded dev server (in memory), workers in this process:
  (f) an SOE parent whose child node fans out over a list of N items; each child's router
      emits DONE, which goes up to the parent (signals_to_parent), where a router counts;
      timed until the whole tree is idle (orchestrate(wait=True));
  (g) a hand-written parent that starts N child workflows at once; each signals the
      parent, which returns once all have.
Each twice: keeping SOE's search attributes (as soe_temporal does by default; the
hand-written workflows then set and upsert the same ones), and without them; each pair
compared runs next to the other, in an order that alternates run by run. Reports wall
time and the dev server's own CPU per child, the parent's history (events across its
runs), and the ratios, run by run. Once all are timed, each soe_temporal tree is checked
whole (every child ran, reported DONE and is listed by `describe`, the last got its item):
this is where the scale goal of a 1,000-child fan-out that completes on the dev server is
shown (tests/test_scale.py runs a smaller one).

All runs share one server by default, as executions accumulate on a server in use: an SOE
fan-out leaves its children open (an execution that runs out of signals stops, it does not
end), and the runs after it, of either side, find the server holding them.
``--fresh-servers`` runs each fan-out on a dev server of its own instead (after its own
warm-up), which is each side's cost on an empty server.

    python -m benchmarks.bench_fanout --children 1000
    python -m benchmarks.bench_fanout --children 1000 --fresh-servers
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from benchmarks.hand_written import HandWrittenFanOut, HandWrittenFanOutChild, searchable_start
from benchmarks.stats import (
    machine,
    on_dev_server,
    print_on_dev_server,
    ratios,
    search_attribute_rows,
    server_cpu_seconds,
    spread,
)
from soe_temporal import SoeClient, create_worker, load_config

WARM_UP = 50


def fan_out_config(children: int) -> dict[str, Any]:
    return {
        "parent": {
            "SpawnWorkers": {
                "node_type": "child",
                "event_triggers": ["BEGIN"],
                "child_workflow_name": "worker",
                "child_initial_signals": ["WORK"],
                "fan_out_field": "items",
                "child_input_field": "item",
                "signals_to_parent": ["DONE"],
            },
            "Collect": {
                "node_type": "router",
                "event_triggers": ["DONE"],
                "event_emissions": [
                    {
                        "signal_name": "ALL_DONE",
                        "condition": "{{ context.__operational__.nodes.get('Collect', 0) == "
                        f"{children} }}}}",
                    }
                ],
            },
        },
        "worker": {
            "Work": {
                "node_type": "router",
                "event_triggers": ["WORK"],
                "event_emissions": [{"signal_name": "DONE"}],
            }
        },
    }


async def history_events(client: Client, workflow_id: str) -> tuple[int, int]:
    """(events across all runs, number of runs) of one workflow id."""
    events, runs, run_id = 0, 0, None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        events, runs = events + len(history.events), runs + 1
        started = history.events[0].workflow_execution_started_event_attributes
        run_id = started.continued_execution_run_id or None
        if run_id is None:
            return events, runs


# Each soe_temporal variant and the hand-written workflow it is compared with.
PAIRS = (("soe", "hand"), ("soe_plain", "hand_plain"))


def schedule(runs: int) -> list[str]:
    """The variants in the order they run: each pair compared next to each other, in an
    order that alternates run by run (whatever runs second finds the server still busy
    with the first's open children)."""
    return [
        name
        for round_ in range(runs)
        for pair in PAIRS
        for name in (pair if round_ % 2 == 0 else reversed(pair))
    ]


@dataclass
class Samples:
    """Per variant, run by run: wall seconds, the dev server's CPU seconds, and the
    parent's history events."""

    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    server: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    events: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


async def run_fan_outs(client: Client, children: int, order: list[str], samples: Samples) -> None:
    """On ``client``'s server: a small fan-out of each variant in ``order`` (to warm the
    server, the workers and the caches up), then a timed fan-out of ``children`` per entry
    of ``order``; each soe_temporal tree is checked whole once all are timed, so the
    checks' queries slow no run down."""
    soe_queue, hand_queue = f"fan-soe-{uuid.uuid4().hex[:6]}", f"fan-hand-{uuid.uuid4().hex[:6]}"
    configs = {count: load_config(fan_out_config(count)) for count in {WARM_UP, children}}
    searchable = SoeClient(client, soe_queue)
    plain = SoeClient(client, soe_queue, search_attributes=False)
    # Room in the workflow cache for the largest tree, the warm-up's too: a full cache
    # stalls the worker.
    cached = 2 * max(children, WARM_UP) + 10

    async def soe(client: SoeClient, workflow_id: str, count: int) -> None:
        await client.orchestrate(
            configs[count],
            "parent",
            ["BEGIN"],
            {"items": list(range(count))},
            execution_id=workflow_id,
        )

    async def check_tree(workflow_id: str, count: int) -> None:
        """The fan-out completed: every child ran once, reported DONE, and is listed."""
        signals = (await searchable.get_context(workflow_id))["__operational__"]["signals"]
        assert signals.count("DONE") == count and signals[-1] == "ALL_DONE", signals[-3:]
        children = (await searchable.describe(workflow_id))["children"]
        assert len(children) == count, len(children)
        assert children[-1] == f"{workflow_id}/SpawnWorkers-1-{count}", children[-1]
        last = await searchable.get_context(children[-1])
        assert last["item"] == [count - 1], last["item"]

    async def hand(workflow_id: str, search_attributes: bool, count: int) -> None:
        await client.execute_workflow(
            "HandWrittenFanOut",
            count,
            id=workflow_id,
            task_queue=hand_queue,
            search_attributes=(
                searchable_start("parent", workflow_id) if search_attributes else None
            ),
        )

    variants = {
        "soe": lambda workflow_id, count: soe(searchable, workflow_id, count),
        "hand": lambda workflow_id, count: hand(workflow_id, True, count),
        "soe_plain": lambda workflow_id, count: soe(plain, workflow_id, count),
        "hand_plain": lambda workflow_id, count: hand(workflow_id, False, count),
    }
    async with (
        create_worker(
            client,
            soe_queue,
            max_concurrent_workflow_tasks=200,
            max_cached_workflows=cached,
        ),
        Worker(
            client,
            task_queue=hand_queue,
            workflows=[HandWrittenFanOut, HandWrittenFanOutChild],
            max_concurrent_workflow_tasks=200,
            max_cached_workflows=cached,
        ),
    ):
        for name in dict.fromkeys(order):
            await variants[name](f"fan-warm-{name}-{uuid.uuid4().hex[:6]}", WARM_UP)
        trees: list[str] = []
        for name in order:
            workflow_id = f"fan-{name}-{uuid.uuid4().hex[:6]}"
            started, server_started = time.perf_counter(), server_cpu_seconds()
            await variants[name](workflow_id, children)
            samples.seconds[name].append(time.perf_counter() - started)
            samples.server[name].append(server_cpu_seconds() - server_started)
            samples.events[name].append((await history_events(client, workflow_id))[0])
            if name.startswith("soe"):
                trees.append(workflow_id)
        for workflow_id in trees:
            await check_tree(workflow_id, children)


async def benchmark(client: Client, children: int, runs: int = 3) -> str:
    """Every run on one server, as executions accumulate on a server in use."""
    samples = Samples()
    await run_fan_outs(client, children, schedule(runs), samples)
    return table(samples, children, runs, "all runs on one dev server")


async def fresh_servers_benchmark(port: int, children: int, runs: int = 3) -> str:
    """Each run on a dev server of its own, which holds nothing but its warm-up: no run
    finds another's children still open."""
    samples = Samples()
    for index, name in enumerate(schedule(runs)):
        async with on_dev_server(port, announce=index == 0) as client:
            await run_fan_outs(client, children, [name], samples)
    return table(samples, children, runs, "each run on a fresh dev server")


def table(samples: Samples, children: int, runs: int, servers: str) -> str:
    def row(label: str, name: str) -> str:
        return (
            f"| {label} | {spread(samples.seconds[name], 1000 / children)} | "
            f"{spread(samples.server[name], 1000 / children)} | "
            f"{spread(samples.events[name], digits=0)} |"
        )

    def ratio_row(label: str, ours: str, theirs: str) -> str:
        return (
            f"| {label} | {spread(ratios(samples.seconds[ours], samples.seconds[theirs]))} | "
            f"{spread(ratios(samples.server[ours], samples.server[theirs]))} | |"
        )

    return "\n".join(
        [
            f"soe_temporal fan-out benchmark: {children} children, min/median/max of {runs} "
            f"runs, {servers}",
            f"machine: {machine()}",
            "",
            "| fan-out | wall ms per child | the dev server's own CPU ms per child "
            "| parent history events |",
            "|---|---|---|---|",
            *search_attribute_rows(row, ratio_row),
        ]
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--children", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=int(os.environ.get("SOE_BENCH_PORT", "7298")))
    parser.add_argument(
        "--fresh-servers",
        action="store_true",
        help="run each fan-out on a dev server of its own (default: all on one)",
    )
    args = parser.parse_args()
    if args.fresh_servers:
        print(await fresh_servers_benchmark(args.port, args.children, args.runs))
        return
    await print_on_dev_server(args.port, lambda client: benchmark(client, args.children, args.runs))


if __name__ == "__main__":
    asyncio.run(main())
