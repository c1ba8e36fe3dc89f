"""A fan-out of N children: soe_temporal's child node against a hand-written one.

Side by side, in one run, on one embedded dev server (in memory), workers in this process:
  (f) an SOE parent whose child node fans out over a list of N items; each child's router
      emits DONE, which goes up to the parent (signals_to_parent), where a router counts;
      timed until the whole tree is idle (orchestrate(wait=True));
  (g) a hand-written parent that starts N child workflows at once; each signals the
      parent, which returns once all have.
Reports wall time per child, the parent's history (events across its runs), and (f)/(g).

    python -m benchmarks.bench_fanout --children 1000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from benchmarks.hand_written import HandWrittenFanOut, HandWrittenFanOutChild
from benchmarks.stats import machine, print_on_dev_server, ratios, server_cpu_seconds, spread
from soe_temporal import SoeClient, create_worker, load_config


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


async def benchmark(client: Client, children: int, runs: int = 3) -> str:
    soe_queue, hand_queue = f"fan-soe-{uuid.uuid4().hex[:6]}", f"fan-hand-{uuid.uuid4().hex[:6]}"
    config = load_config(fan_out_config(children))
    soe = SoeClient(client, soe_queue)
    async with (
        create_worker(
            client,
            soe_queue,
            max_concurrent_workflow_tasks=200,
            max_cached_workflows=2 * children + 10,
        ),
        Worker(
            client,
            task_queue=hand_queue,
            workflows=[HandWrittenFanOut, HandWrittenFanOutChild],
            max_concurrent_workflow_tasks=200,
            max_cached_workflows=2 * children + 10,
        ),
    ):
        soe_seconds, hand_seconds, soe_events, hand_events = [], [], [], []
        soe_server, hand_server = [], []
        for _ in range(runs):
            soe_id = f"fan-soe-{uuid.uuid4().hex[:6]}"
            started, server_started = time.perf_counter(), server_cpu_seconds()
            await soe.orchestrate(
                config, "parent", ["BEGIN"], {"items": list(range(children))}, execution_id=soe_id
            )
            soe_seconds.append(time.perf_counter() - started)
            soe_server.append(server_cpu_seconds() - server_started)
            context = await soe.get_context(soe_id)
            signals = context["__operational__"]["signals"]
            assert signals[-1] == "ALL_DONE", signals[-3:]

            hand_id = f"fan-hand-{uuid.uuid4().hex[:6]}"
            started, server_started = time.perf_counter(), server_cpu_seconds()
            await client.execute_workflow(
                "HandWrittenFanOut", children, id=hand_id, task_queue=hand_queue
            )
            hand_seconds.append(time.perf_counter() - started)
            hand_server.append(server_cpu_seconds() - server_started)
            soe_events.append((await history_events(client, soe_id))[0])
            hand_events.append((await history_events(client, hand_id))[0])
    return "\n".join(
        [
            f"soe_temporal fan-out benchmark: {children} children, min/median/max of {runs} runs",
            f"machine: {machine()}",
            "",
            f"(f) soe_temporal child node:  {spread(soe_seconds, 1000 / children)} ms/child, "
            f"parent history {spread(soe_events, digits=0)} events",
            f"(g) hand-written fan-out:     {spread(hand_seconds, 1000 / children)} ms/child, "
            f"parent history {spread(hand_events, digits=0)} events",
            f"ratio (f)/(g): {spread(ratios(soe_seconds, hand_seconds))}",
            f"the dev server's own CPU per child, ms: (f) {spread(soe_server, 1000 / children)}, "
            f"(g) {spread(hand_server, 1000 / children)}, "
            f"ratio {spread(ratios(soe_server, hand_server))}",
        ]
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--children", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=int(os.environ.get("SOE_BENCH_PORT", "7298")))
    args = parser.parse_args()
    await print_on_dev_server(args.port, lambda client: benchmark(client, args.children, args.runs))


if __name__ == "__main__":
    asyncio.run(main())
