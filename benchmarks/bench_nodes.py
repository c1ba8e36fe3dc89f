"""Per-node overhead of soe_temporal against hand-written temporalio workflows.

Side by side, in one run, on one embedded dev server (in memory), with the workers in this
process:
  (a) a chain of N tool nodes calling a no-op tool       vs  (b) a hand-written workflow
      calling the same no-op activity N times;
  (a') the same chain with `temporal: {local: true}`     vs  (b') N local activities;
  (c) a chain of N router nodes (no activity at all).
SOE executions keep their search attributes (set at start, upserted when the turn ends):
the local chains, where that fixed cost shows, are also compared with a hand-written chain
keeping the same attributes, and without them on both sides.
Each case runs `--repeats` times; the cases compared run next to each other, in an order
that alternates round by round; medians are reported. Wall time is from the client's
start call until the execution is idle (ours) or has returned (hand-written).

    python -m benchmarks.bench_nodes --nodes 50 --repeats 7
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from benchmarks.hand_written import (
    HandWrittenChain,
    HandWrittenChainUnsandboxed,
    HandWrittenLlmChain,
    HandWrittenLlmChainUnsandboxed,
    HandWrittenLocalChain,
    HandWrittenLocalChainUnsandboxed,
    noop,
    noop_activity,
    searchable_start,
)
from benchmarks.stats import machine, print_on_dev_server, ratios, spread
from soe_temporal import SoeClient, SoeConfig, create_worker, load_config
from soe_temporal.activities import SoeActivities
from soe_temporal.llm.providers.fake import FakeProvider


def tool_chain(nodes: int, local: bool = False) -> dict[str, Any]:
    chain: dict[str, Any] = {}
    for index in range(nodes):
        node: dict[str, Any] = {
            "node_type": "tool",
            "event_triggers": ["START" if index == 0 else f"DONE_{index - 1}"],
            "tool_name": "noop",
            "output_field": "out",
            "event_emissions": [{"signal_name": f"DONE_{index}"}],
        }
        if local:
            node["temporal"] = {"local": True}
        chain[f"Step{index}"] = node
    return {"chain": chain}


def llm_chain(nodes: int) -> dict[str, Any]:
    return {
        "chain": {
            f"Think{index}": {
                "node_type": "llm",
                "event_triggers": ["START" if index == 0 else f"DONE_{index - 1}"],
                "prompt": "Step",
                "output_field": "out",
                "event_emissions": [{"signal_name": f"DONE_{index}"}],
            }
            for index in range(nodes)
        }
    }


def router_chain(nodes: int) -> dict[str, Any]:
    return {
        "chain": {
            f"Route{index}": {
                "node_type": "router",
                "event_triggers": ["START" if index == 0 else f"DONE_{index - 1}"],
                "event_emissions": [{"signal_name": f"DONE_{index}"}],
            }
            for index in range(nodes)
        }
    }


@dataclass
class Sample:
    seconds: float
    events: int


async def _events(client: Client, workflow_id: str) -> int:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return len(history.events)


async def run_soe(soe: SoeClient, config: SoeConfig) -> Sample:
    execution_id = f"bench-soe-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    await soe.orchestrate(config, "chain", ["START"], {}, execution_id=execution_id)
    elapsed = time.perf_counter() - started
    return Sample(elapsed, await _events(soe.temporal, execution_id))


async def run_hand_written(
    client: Client, workflow_type: str, nodes: int, queue: str, searchable: bool = False
) -> Sample:
    workflow_id = f"bench-hand-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    await client.execute_workflow(
        workflow_type,
        nodes,
        id=workflow_id,
        task_queue=queue,
        search_attributes=searchable_start("chain", workflow_id) if searchable else None,
    )
    elapsed = time.perf_counter() - started
    return Sample(elapsed, await _events(client, workflow_id))


@dataclass
class Report:
    nodes: int
    repeats: int
    runs: dict[str, list[Sample]]
    validation_seconds: float

    @property
    def medians(self) -> dict[str, Sample]:
        return {
            key: Sample(
                statistics.median(s.seconds for s in samples),
                int(statistics.median(s.events for s in samples)),
            )
            for key, samples in self.runs.items()
        }

    def ratio(self, ours: str, theirs: str) -> str:
        """min/median/max of the round-by-round ratio (each round runs every case once)."""
        return spread(
            ratios([s.seconds for s in self.runs[ours]], [s.seconds for s in self.runs[theirs]])
        )

    def text(self) -> str:
        n = self.nodes
        lines = [
            f"soe_temporal benchmark: N={n} nodes, {self.repeats} rounds (min/median/max)",
            f"machine: {machine()}",
            "",
            f"{'case':<40} {'ms/node':>9} {'events/node':>12} {'events':>7}",
        ]
        medians = self.medians
        for key in CASES:
            if key not in medians:
                continue
            sample = medians[key]
            lines.append(
                f"{CASES[key]:<40} {1000 * sample.seconds / n:>9.2f} {sample.events / n:>12.2f} {sample.events:>7}"
            )
        lines.append("")
        for ours, theirs, bare, label in RATIOS:
            if ours in self.runs:
                lines.append(
                    f"{label:<62} {self.ratio(ours, theirs)}"
                    f"   (outside the sandbox: {self.ratio(ours, bare)})"
                )
        for ours, theirs, label in LIKE_FOR_LIKE:
            if ours in self.runs:
                lines.append(f"{label:<62} {self.ratio(ours, theirs)}")
        lines += [
            f"router nodes: {medians['c'].events} events for the whole chain of {n} "
            f"({(medians['c'].events) / n:.2f} per node)",
            f"loading and validating a config (client side, once per config): "
            f"{1000 * self.validation_seconds / n:.2f} ms per node",
        ]
        return "\n".join(lines)


RATIOS = [
    ("a", "b", "b_bare", "ratio (a)/(b)   tool chain / hand-written activities:"),
    (
        "a_local",
        "b_local",
        "b_local_bare",
        "ratio (a')/(b') local tool chain / hand-written local acts:",
    ),
    ("d", "e", "e_bare", "ratio (d)/(e)   llm chain / hand-written soe.llm activities:"),
]
# The local chains against the hand-written one outside the sandbox (as SoeWorkflow runs),
# both keeping SOE's search attributes, and neither.
LIKE_FOR_LIKE = [
    ("a_local", "b_local_kept", "local tool chain / unsandboxed, both search attributes:"),
    ("a_local_plain", "b_local_bare", "local tool chain / unsandboxed, neither:"),
]
# Each group's cases run one after the other (ours and the hand-written ones it is
# compared with), alternating their order round by round.
GROUPS = [
    ("a", "b", "b_bare"),
    ("a_local", "b_local_kept", "a_local_plain", "b_local_bare", "b_local"),
    ("c",),
    ("d", "e", "e_bare"),
]
# The cases of --local-only: the chains that do not wait ~50 ms a node for the dev server.
LOCAL_CASES = {"a_local", "a_local_plain", "b_local", "b_local_bare", "b_local_kept", "c"}


CASES = {
    "a": "(a) soe_temporal: N tool nodes",
    "b": "(b) hand-written: N activities",
    "b_bare": "    same, outside the sandbox",
    "a_local": "(a') soe_temporal: N tool nodes, local",
    "b_local": "(b') hand-written: N local activities",
    "b_local_bare": "    same, outside the sandbox",
    "a_local_plain": "(a') without search attributes",
    "b_local_kept": "(b') outside the sandbox, keeping them",
    "c": "(c) soe_temporal: N router nodes",
    "d": "(d) soe_temporal: N llm nodes (fake LLM)",
    "e": "(e) hand-written: N soe.llm activities",
    "e_bare": "    same, outside the sandbox",
}
HAND_WRITTEN = {
    "b": "HandWrittenChain",
    "b_bare": "HandWrittenChainUnsandboxed",
    "b_local": "HandWrittenLocalChain",
    "b_local_bare": "HandWrittenLocalChainUnsandboxed",
    "b_local_kept": "HandWrittenLocalChainUnsandboxed",
    "e": "HandWrittenLlmChain",
    "e_bare": "HandWrittenLlmChainUnsandboxed",
}


async def benchmark(client: Client, nodes: int, repeats: int, local_only: bool = False) -> Report:
    soe_queue, hand_queue = (
        f"bench-soe-{uuid.uuid4().hex[:6]}",
        f"bench-hand-{uuid.uuid4().hex[:6]}",
    )
    soe = SoeClient(client, soe_queue)
    soe_plain = SoeClient(client, soe_queue, search_attributes=False)
    # Configs are loaded (validated) once, as a service starting many executions would;
    # the time that takes is reported on its own.
    started = time.perf_counter()
    chains = {
        "a": load_config(tool_chain(nodes)),
        "a_local": load_config(tool_chain(nodes, local=True)),
        "a_local_plain": load_config(tool_chain(nodes, local=True)),
        "c": load_config(router_chain(nodes)),
        "d": load_config(llm_chain(nodes)),
    }
    validation_seconds = (time.perf_counter() - started) / len(chains)
    cases = LOCAL_CASES if local_only else set(CASES)
    chains = {key: chain for key, chain in chains.items() if key in cases}
    samples: dict[str, list[Sample]] = {key: [] for key in CASES if key in cases}
    hand_written_llm = SoeActivities({}, ThreadPoolExecutor(max_workers=4), llm=FakeProvider())
    async with (
        create_worker(client, soe_queue, tools_registry={"noop": noop}, call_llm=FakeProvider()),
        Worker(
            client,
            task_queue=hand_queue,
            workflows=[
                HandWrittenChain,
                HandWrittenLocalChain,
                HandWrittenChainUnsandboxed,
                HandWrittenLocalChainUnsandboxed,
                HandWrittenLlmChain,
                HandWrittenLlmChainUnsandboxed,
            ],
            activities=[noop_activity, hand_written_llm.call_llm],
        ),
    ):
        for round_ in range(repeats + 1):  # the first round warms up and is dropped
            results: dict[str, Sample] = {}
            for group in GROUPS:
                # The cases compared run next to each other, in alternating order: the
                # server is still busy a while after a chain of remote calls, and
                # whatever runs first after it pays for that.
                for key in group if round_ % 2 else reversed(group):
                    if key not in cases:
                        continue
                    if key in chains:
                        client_ = soe_plain if key.endswith("_plain") else soe
                        results[key] = await run_soe(client_, chains[key])
                    else:
                        results[key] = await run_hand_written(
                            client, HAND_WRITTEN[key], nodes, hand_queue, key.endswith("_kept")
                        )
            if round_:
                for key, sample in results.items():
                    samples[key].append(sample)
    return Report(nodes, repeats, samples, validation_seconds)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--local-only", action="store_true", help="only the local-activity and router chains"
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("SOE_BENCH_PORT", "7299")))
    args = parser.parse_args()

    async def run(client: Client) -> str:
        return (await benchmark(client, args.nodes, args.repeats, args.local_only)).text()

    await print_on_dev_server(args.port, run)


if __name__ == "__main__":
    asyncio.run(main())
