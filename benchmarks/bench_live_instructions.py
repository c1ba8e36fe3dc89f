"""Instructions a worker spends running chains of local tool nodes live, soe_temporal
against hand-written temporalio chains, counted by valgrind: issue 13's local-chain goal
by a measure that is the same from run to run (a chain of 50 local nodes takes a tenth of
a second, and its wall time varies by a third between runs on this machine).

The worker runs in a process of its own under ``valgrind --tool=cachegrind``; this process,
not counted, starts the chains on an embedded dev server and waits for each. One worker
runs FEW chains and another MANY: the difference over MANY - FEW is one chain in a warm
worker (imports, connecting and the first chain's warm-up cancel out). Each worker holds
only the side it counts: ours (``o``), the bare unsandboxed hand-written local chain
(``t``), or that chain passing each call an SOE tool call's input through soe_temporal's
data converter (``w``). Neither side keeps search attributes (the same work on both).

Unlike ``bench_instructions`` (a replay), this counts everything the worker does for a
chain: the workflow, the local activities and their input and result, temporalio's
payload visits, and the bridge. Two sizes give the cost per node beyond the first
(their difference over the nodes between them) apart from the chain's fixed cost.

    python -m benchmarks.bench_live_instructions --nodes 50 500

Needs valgrind (Debian: ``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Worker

from benchmarks.bench_instructions import (
    VALGRIND,
    counted_instructions,
    instructions_client,
    store_environment,
)
from benchmarks.bench_nodes import tool_chain
from benchmarks.hand_written import (
    HandWrittenLocalChainUnsandboxed,
    HandWrittenLocalChainWithInput,
    noop,
    noop_activity,
    noop_with_input_activity,
)
from benchmarks.stats import machine, print_on_dev_server
from soe_temporal import SoeClient, create_worker, load_config

KEYS = ("o", "t", "w")
# Chains per worker: one chain's count is the difference between these, over MANY - FEW.
FEW, MANY = 1, 3
HAND_WRITTEN = {"t": HandWrittenLocalChainUnsandboxed, "w": HandWrittenLocalChainWithInput}
# A worker starting under valgrind takes about half a minute here.
READY_WITHIN_SECONDS = 600


def worker_for(key: str, soe: SoeClient, client: Client, queue: str) -> Worker:
    """The worker of one side: ours on SOE's converter and payload store, the bare chain on
    temporalio's own converter, the chain passing SOE's input on soe_temporal's."""
    if key == "o":
        return create_worker(client, queue, tools_registry={"noop": noop})
    if key == "t":
        return Worker(
            client, task_queue=queue, workflows=[HAND_WRITTEN[key]], activities=[noop_activity]
        )
    return Worker(
        soe.temporal,
        task_queue=queue,
        workflows=[HAND_WRITTEN[key]],
        activities=[noop_with_input_activity],
    )


async def serve(address: str, key: str, queue: str, ready: Path, stop: Path) -> None:
    """The counted process: run the worker of ``key`` until ``stop`` exists, then leave at
    once (shutting a worker down, and evicting what it holds, is no part of a chain)."""
    client = await Client.connect(address)
    soe = SoeClient(client, queue, search_attributes=False)
    async with worker_for(key, soe, client, queue):
        ready.touch()
        while not stop.exists():
            await asyncio.sleep(0.2)
        os._exit(0)


def worker_command(address: str, key: str, queue: str, ready: Path, stop: Path) -> list[str]:
    """The command of the counted worker process."""
    module = ["-m", "benchmarks.bench_live_instructions"]
    return [sys.executable, *module, "--worker", address, key, queue, str(ready), str(stop)]


async def run_chain(client: Client, soe: SoeClient, key: str, nodes: int) -> None:
    """One chain of ``nodes`` local tool nodes on the side ``key``, on ``soe``'s task
    queue, waited for."""
    if key == "o":
        config = load_config(tool_chain(nodes, local=True))
        execution_id = f"li-soe-{uuid.uuid4().hex[:8]}"
        await soe.orchestrate(config, "chain", ["START"], {}, execution_id=execution_id)
        return
    starter = client if key == "t" else soe.temporal
    workflow_id = f"li-{key}-{uuid.uuid4().hex[:8]}"
    workflow_type = HAND_WRITTEN[key].__name__
    await starter.execute_workflow(workflow_type, nodes, id=workflow_id, task_queue=soe.task_queue)


async def run_worker(
    client: Client,
    key: str,
    nodes: int,
    chains: int,
    environment: dict[str, str],
    folder: Path,
    wrapper: list[str],
) -> str:
    """Run a worker process of ``key`` (under ``wrapper``, valgrind when counted) through
    ``chains`` chains; what it wrote on stderr."""
    queue = f"li-{key}-{uuid.uuid4().hex[:6]}"
    soe = SoeClient(client, queue, search_attributes=False)
    ready, stop = folder / f"{queue}.ready", folder / f"{queue}.stop"
    address = client.service_client.config.target_host
    process = await asyncio.create_subprocess_exec(
        *wrapper,
        *worker_command(address, key, queue, ready, stop),
        env=environment,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    communicated = asyncio.ensure_future(process.communicate())
    try:
        async with asyncio.timeout(READY_WITHIN_SECONDS):
            while not ready.exists() and not communicated.done():
                await asyncio.sleep(0.5)
        if ready.exists():
            for _ in range(chains):
                await run_chain(client, soe, key, nodes)
    finally:
        stop.touch()
        if not ready.exists() and process.returncode is None:
            process.kill()  # it never got ready
    _, stderr = await communicated
    text = stderr.decode(errors="replace")
    if process.returncode != 0 or not ready.exists():
        raise RuntimeError(f"the worker of {key!r} failed:\n{text[-2000:]}")
    return text


async def counted_worker(
    client: Client, key: str, nodes: int, chains: int, environment: dict[str, str], folder: Path
) -> int:
    """Instructions of a worker process of ``key`` that runs ``chains`` chains."""
    text = await run_worker(client, key, nodes, chains, environment, folder, VALGRIND)
    counted = counted_instructions(text)
    if counted is None:
        raise RuntimeError(f"valgrind counted nothing for the worker of {key!r}:\n{text[-2000:]}")
    return counted


async def per_chain(client: Client, nodes: list[int]) -> dict[int, dict[str, float]]:
    """Instructions of one chain at each size, for each side: FEW and MANY counted at once."""
    environment = store_environment(instructions_client(client).temporal)
    table: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="soe-live-instructions-") as folder:
        for n in nodes:
            for key in KEYS:
                few, many = await asyncio.gather(
                    *(
                        counted_worker(client, key, n, chains, environment, Path(folder))
                        for chains in (FEW, MANY)
                    )
                )
                table.setdefault(n, {})[key] = (many - few) / (MANY - FEW)
    return table


def report(table: dict[int, dict[str, float]]) -> str:
    """The machine, a row per size (instructions per chain and their ratios), and, from the
    smallest and largest sizes, a row per node beyond the smallest."""
    header = (
        "| {what} | ours, M instructions | bare hand-written chain | that chain passing SOE's "
        "input | ours / bare | ours / with input | with input / bare |"
    )

    def row(label: str, o: float, t: float, w: float) -> str:
        return (
            f"| {label} | {o / 1e6:.2f} | {t / 1e6:.2f} | {w / 1e6:.2f} | {o / t:.2f} "
            f"| {o / w:.2f} | {w / t:.2f} |"
        )

    lines = [
        f"soe_temporal instructions per chain of local tool nodes, in a live worker "
        f"(valgrind); {machine()}",
        "",
        header.format(what="chain of N local tool nodes"),
        "|---|---|---|---|---|---|---|",
    ]
    sizes = sorted(table)
    for n in sizes:
        lines.append(row(f"N = {n}", *(table[n][key] for key in KEYS)))
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        per_node = [(table[large][k] - table[small][k]) / (large - small) for k in KEYS]
        lines.append(row(f"per node from {small} to {large}", *per_node))
    return "\n".join(lines)


async def benchmark(client: Client, nodes: list[int]) -> str:
    return report(await per_chain(client, nodes))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, nargs="*", default=[50, 500])
    parser.add_argument("--worker", nargs=5, metavar=("ADDRESS", "KEY", "QUEUE", "READY", "STOP"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SOE_BENCH_PORT", "7298")))
    args = parser.parse_args()
    if args.worker:
        address, key, queue, ready, stop = args.worker
        asyncio.run(serve(address, key, queue, Path(ready), Path(stop)))
        return
    if shutil.which("valgrind") is None:
        sys.exit("bench_live_instructions needs valgrind (Debian: apt-get install valgrind)")
    asyncio.run(print_on_dev_server(args.port, lambda client: benchmark(client, args.nodes)))


if __name__ == "__main__":
    main()
