"""What an execution weighs: history bytes per node, replay time per event, and worker
memory per cached idle execution, soe_temporal against hand-written temporalio workflows.

Side by side, in one run, on one embedded dev server (in memory), workers in this process:
  - history bytes: a chain of N tool nodes (local and remote; without SOE's search
    attributes, as the hand-written chains keep none) against a hand-written chain
    of N activities (every run's events, as the server serializes them), and against the
    same chain passing each call an SOE tool call's input through soe_temporal's data
    converter (what temporalio spends on a call's input; the rest is SOE's workflow);
  - replay: each history replayed by temporalio's Replayer (at least 5 times, short
    histories until their replays took about 8 s; the histories taking turns), CPU time
    per event: the median, and the ratios as the median of each round's ratio;
  - memory: K executions waiting for a signal (SOE's approval pattern), each cached by the
    worker, against K hand-written workflows waiting for an update: Python memory the
    worker holds for them (tracemalloc), per execution.
min/median/max of ``--runs`` runs.

    python -m benchmarks.bench_footprint --nodes 50 500 2000 --waiting 500
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import math
import os
import statistics
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator

from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer, Worker

from benchmarks.bench_nodes import tool_chain
from benchmarks.bench_signals import CONFIG as WAITING_CONFIG
from benchmarks.bench_signals import HandWrittenWaiting
from benchmarks.bench_signals import noop_activity as waiting_activity
from benchmarks.hand_written import (
    HandWrittenChainUnsandboxed,
    HandWrittenChainWithInput,
    HandWrittenLocalChainUnsandboxed,
    HandWrittenLocalChainWithInput,
    noop,
    noop_activity,
    noop_with_input_activity,
    searchable_start,
)
from benchmarks.stats import machine, print_on_dev_server, ratios, spread
from soe_temporal import SoeClient, create_worker, load_config
from soe_temporal.temporal.converter import payload_store_of, soe_data_converter
from soe_temporal.temporal.payload_store import PayloadStore
from soe_temporal.workflow import SoeWorkflow


async def histories(client: Client, workflow_id: str) -> list[WorkflowHistory]:
    """Every run of ``workflow_id``, first to last."""
    runs, run_id = [], None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        runs.append(history)
        started = history.events[0].workflow_execution_started_event_attributes
        run_id = started.continued_execution_run_id or None
        if run_id is None:
            return list(reversed(runs))


def history_bytes(runs: list[WorkflowHistory]) -> int:
    return sum(event.ByteSize() for run in runs for event in run.events)


# Each history is replayed at least REPLAYS times, and a short one until the replays of
# each took about REPLAY_SECONDS (at most MAX_REPLAYS times), and the median taken: one
# replay of a short history is mostly the Replayer's own set-up, and varies by a third
# between replays (the median of 5 replays of a chain of 50 varied by a tenth; the paired
# ratio of 5 rounds of a remote chain of 500 ranged from 1.07 to 1.33 over three runs).
REPLAYS = 5
REPLAY_SECONDS = 8.0
MAX_REPLAYS = 30


async def replay_seconds(replayer: Replayer, runs: list[WorkflowHistory]) -> float:
    """CPU seconds this process spends replaying ``runs`` (temporalio's core threads
    included): what a replay costs a worker, without the time this virtual machine's
    other tenants take (wall times of one replay varied by a third)."""
    started = time.process_time()
    for run in runs:
        await replayer.replay_workflow(run)
    return time.process_time() - started


def replay_rounds(first_replay_seconds: float) -> int:
    """How many times to replay each history, given the longest first replay."""
    wanted = math.ceil(REPLAY_SECONDS / max(first_replay_seconds, 1e-6))
    return min(MAX_REPLAYS, max(REPLAYS, wanted))


async def replay_seconds_per_event(
    replays: dict[str, tuple[Replayer, list[WorkflowHistory]]],
) -> dict[str, list[float]]:
    """Each history replayed as often as ``replay_rounds`` says, the histories taking turns
    in an order that rotates: CPU seconds per event of each, round by round (``paired``
    compares two of them round by round)."""
    times: dict[str, list[float]] = {key: [] for key in replays}
    keys = list(replays)
    rounds, round_ = REPLAYS, 0
    while round_ < rounds:
        shift = round_ % len(keys)
        for key in keys[shift:] + keys[:shift]:
            times[key].append(await replay_seconds(*replays[key]))
        if round_ == 0:
            rounds = replay_rounds(max(samples[0] for samples in times.values()))
        round_ += 1
    return {
        key: [seconds / sum(len(run.events) for run in replays[key][1]) for seconds in times[key]]
        for key in keys
    }


def paired(ours: list[float], theirs: list[float]) -> float:
    """The median of the ratios of one round's replays: this machine's speed drifts by a
    tenth over seconds, and the replays of one round run seconds apart at most, so the
    drift cancels in each round's ratio where it does not in a ratio of medians (60 rounds
    of a chain of 50, twice: median ratios 1.15 and 1.16; the medians of 5 rounds gave
    ratios from 0.99 to 1.29)."""
    return statistics.median(a / b for a, b in zip(ours, theirs, strict=True))


# The hand-written chains: bare (no input, temporalio's converter), and passing an SOE tool
# call's input through soe_temporal's converter (hand_written.py).
BARE = {True: "HandWrittenLocalChainUnsandboxed", False: "HandWrittenChainUnsandboxed"}
WITH_INPUT = {True: "HandWrittenLocalChainWithInput", False: "HandWrittenChainWithInput"}


# Remote chains only up to this length: one takes ~50 ms a node on the dev server. At 50
# nodes an execution's fixed cost (its start, the worker's options read once) is a few
# percent of a replay; at 500 it is spread over ten times the nodes.
REMOTE_NODES_AT_MOST = 500


def chain_kinds(nodes: int) -> list[tuple[str, bool]]:
    """The chains measured at ``nodes`` nodes: (kind, local), local always, remote up to
    REMOTE_NODES_AT_MOST."""
    kinds = [("local", True), ("remote", False)]
    return [(kind, local) for kind, local in kinds if local or nodes <= REMOTE_NODES_AT_MOST]


async def run_chains(
    client: Client, soe: SoeClient, queues: tuple[str, str], nodes: int, local: bool
) -> dict[str, list[WorkflowHistory]]:
    """One chain of ``nodes`` tool nodes each: ours (``o``), the bare hand-written chain
    (``t``) and the one passing SOE's input (``w``), run on ``queues`` (``chain_workers``);
    their histories."""
    hand_queue, input_queue = queues
    execution_id = f"fp-soe-{uuid.uuid4().hex[:8]}"
    config = load_config(tool_chain(nodes, local=local))
    await soe.orchestrate(config, "chain", ["START"], {}, execution_id=execution_id)
    hand_id, input_id = f"fp-hand-{uuid.uuid4().hex[:8]}", f"fp-in-{uuid.uuid4().hex[:8]}"
    await client.execute_workflow(BARE[local], nodes, id=hand_id, task_queue=hand_queue)
    await soe.temporal.execute_workflow(
        WITH_INPUT[local], nodes, id=input_id, task_queue=input_queue
    )
    return {
        "o": await histories(soe.temporal, execution_id),
        "t": await histories(client, hand_id),
        "w": await histories(soe.temporal, input_id),
    }


@contextlib.asynccontextmanager
async def chain_workers(
    client: Client, soe: SoeClient, queues: tuple[str, str, str], cache: int | None = None
) -> AsyncIterator[None]:
    """Workers for ``run_chains``, and for the waiting workflows, on the ``queues`` of ours,
    the bare hand-written chain and the one passing SOE's input."""
    queue, hand_queue, input_queue = queues
    cached = {} if cache is None else {"max_cached_workflows": cache}
    async with (
        create_worker(client, queue, tools_registry={"noop": noop}, **cached),
        Worker(
            client,
            task_queue=hand_queue,
            workflows=[
                HandWrittenChainUnsandboxed,
                HandWrittenLocalChainUnsandboxed,
                HandWrittenWaiting,
            ],
            activities=[noop_activity, waiting_activity],
            **cached,
        ),
        Worker(
            soe.temporal,
            task_queue=input_queue,
            workflows=[HandWrittenChainWithInput, HandWrittenLocalChainWithInput],
            activities=[noop_with_input_activity],
        ),
    ):
        yield


# The replay ratios reported: ours against each hand-written chain, and the chain passing
# SOE's input against the bare one.
PAIRS = ("ot", "ow", "wt")


def chain_replayers(store: PayloadStore | None) -> dict[str, Replayer]:
    """Replayers of ours (``o``) and the hand-written chains (``t``, ``w``), reading what the
    histories' claims point to in ``store``."""
    converter = soe_data_converter(None, store)
    return {
        "o": Replayer(workflows=[SoeWorkflow], data_converter=converter),
        "t": Replayer(workflows=[HandWrittenChainUnsandboxed, HandWrittenLocalChainUnsandboxed]),
        "w": Replayer(
            workflows=[HandWrittenChainWithInput, HandWrittenLocalChainWithInput],
            data_converter=converter,
        ),
    }


async def chains(client: Client, soe: SoeClient, queues: tuple[str, str], nodes: int, runs: int):
    """Bytes per node and replay CPU seconds per event of ours (``o``), the bare hand-written
    chain (``t``) and the one passing SOE's input (``w``), local and remote; the two
    hand-written chains run on the ``queues`` given, the second with SOE's converter."""
    replayers = chain_replayers(payload_store_of(soe.temporal))
    rows = {}
    for kind, local in chain_kinds(nodes):
        samples: dict[str, list[float]] = {f"{key}{m}": [] for key in "otw" for m in "br"}
        samples.update({f"{pair}r": [] for pair in PAIRS})
        for _ in range(runs):
            runs_of = await run_chains(client, soe, queues, nodes, local)
            replayed = await replay_seconds_per_event(
                {key: (replayers[key], runs_of[key]) for key in runs_of}
            )
            for key, history in runs_of.items():
                samples[f"{key}b"].append(history_bytes(history) / nodes)
                samples[f"{key}r"].append(statistics.median(replayed[key]))
            for a, b in PAIRS:
                samples[f"{a}{b}r"].append(paired(replayed[a], replayed[b]))
        rows[kind] = samples
    return rows


async def idle_memory(
    client: Client, queue: str, hand_queue: str, waiting: int
) -> dict[bool, tuple[float, float]]:
    """Python memory per cached idle execution, bytes: (ours, theirs), keeping SOE's
    search attributes (True) and without them (False)."""
    config = load_config(WAITING_CONFIG)

    async def held(start) -> float:
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        limit = asyncio.Semaphore(50)

        async def one() -> None:
            async with limit:
                await start()

        await asyncio.gather(*(one() for _ in range(waiting)))
        await asyncio.sleep(1)  # the last workflow tasks complete
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        return (after - before) / waiting

    held_per_kind: dict[bool, tuple[float, float]] = {}
    for search_attributes in (True, False):
        soe = SoeClient(client, queue, search_attributes=search_attributes)

        async def start_ours(soe: SoeClient = soe) -> None:
            await soe.orchestrate(config, "waiting", ["START"], {})

        async def start_theirs(search_attributes: bool = search_attributes) -> None:
            workflow_id = f"fp-w-{uuid.uuid4().hex}"
            handle = await client.start_workflow(
                HandWrittenWaiting.run,
                id=workflow_id,
                task_queue=hand_queue,
                search_attributes=(
                    searchable_start("waiting", workflow_id) if search_attributes else None
                ),
            )
            await handle.execute_update(HandWrittenWaiting.ready)

        held_per_kind[search_attributes] = (await held(start_ours), await held(start_theirs))
    return held_per_kind


async def benchmark(client: Client, nodes: list[int], runs: int, waiting: int) -> str:
    queue, hand_queue = f"fp-soe-{uuid.uuid4().hex[:6]}", f"fp-hand-{uuid.uuid4().hex[:6]}"
    input_queue = f"fp-input-{uuid.uuid4().hex[:6]}"
    # The chains compared keep no search attributes on either side (the same work); the
    # memory rows compare both ways.
    soe = SoeClient(client, queue, search_attributes=False)
    cache = 3 * waiting + 100
    lines = [
        f"soe_temporal footprint benchmark; {machine()}; min/median/max of {runs} runs",
        "",
        "| chain | N | history bytes per node, ours | hand-written | ratio "
        "| replay CPU µs per event, ours | hand-written | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    with_input = [
        "",
        "The hand-written chain passing each call the input an SOE tool call sends, through",
        "soe_temporal's data converter (external storage configured): what is left of the",
        "ratio is SOE's workflow.",
        "",
        "| chain | N | history bytes per node, that chain | ours / it "
        "| replay CPU µs per event, that chain | ours / it | it / the bare chain |",
        "|---|---|---|---|---|---|---|",
    ]
    async with chain_workers(client, soe, (queue, hand_queue, input_queue), cache):
        for n in nodes:
            rows = await chains(client, soe, (hand_queue, input_queue), n, runs)
            for kind, s in rows.items():
                lines.append(
                    f"| {kind} tools | {n} | {spread(s['ob'], digits=0)} | "
                    f"{spread(s['tb'], digits=0)} | {spread(ratios(s['ob'], s['tb']))} | "
                    f"{spread(s['or'], 1e6, 1)} | {spread(s['tr'], 1e6, 1)} | "
                    f"{spread(s['otr'])} |"
                )
                with_input.append(
                    f"| {kind} tools | {n} | {spread(s['wb'], digits=0)} | "
                    f"{spread(ratios(s['ob'], s['wb']))} | {spread(s['wr'], 1e6, 1)} | "
                    f"{spread(s['owr'])} | {spread(s['wtr'])} |"
                )
        memory: dict[bool, tuple[list[float], list[float]]] = {True: ([], []), False: ([], [])}
        for _ in range(runs):
            for kind, (ours, theirs) in (
                await idle_memory(client, queue, hand_queue, waiting)
            ).items():
                memory[kind][0].append(ours)
                memory[kind][1].append(theirs)
    lines += with_input
    lines += [
        "",
        f"| worker memory per cached idle execution ({waiting} waiting), KiB (tracemalloc) "
        "| ours | hand-written | ratio |",
        "|---|---|---|---|",
    ]
    for kind, label in ((True, "both keeping search attributes"), (False, "neither")):
        ours_memory, theirs_memory = memory[kind]
        lines.append(
            f"| {label} | {spread(ours_memory, 1 / 1024, 1)} | "
            f"{spread(theirs_memory, 1 / 1024, 1)} | "
            f"{spread(ratios(ours_memory, theirs_memory))} |"
        )
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, nargs="*", default=[50, 2000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--waiting", type=int, default=500)
    parser.add_argument("--port", type=int, default=int(os.environ.get("SOE_BENCH_PORT", "7297")))
    args = parser.parse_args()
    await print_on_dev_server(
        args.port, lambda client: benchmark(client, args.nodes, args.runs, args.waiting)
    )


if __name__ == "__main__":
    asyncio.run(main())
