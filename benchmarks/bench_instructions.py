"""Instructions per replay, soe_temporal against hand-written temporalio chains: what a
replay costs a worker, counted by valgrind so it is the same from run to run (replay CPU
time varies by a tenth on this machine, more than what a change to the workflow moves).

Chains of N tool nodes (local and remote) are recorded on one embedded dev server, as in
``bench_footprint``: ours, the bare hand-written chain, and the hand-written chain passing
each call an SOE tool call's input through soe_temporal's data converter. Ours runs without
SOE's search attributes, as the hand-written chains do (the same work on both sides). Each
history is then replayed in a process of its own under ``valgrind --tool=cachegrind``, once
and three times: the difference, halved, is one replay in a warm process (imports and the
Replayer's set-up cancel out). The table gives instructions per replay, and per history
event (issue 13's measure: "replay cost per event").

    python -m benchmarks.bench_instructions --nodes 50 500

Needs valgrind (Debian: ``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

from temporalio.client import Client, WorkflowHistory

from benchmarks.bench_footprint import (
    chain_kinds,
    chain_replayers,
    chain_workers,
    run_chains,
)
from benchmarks.stats import machine, print_on_dev_server
from soe_temporal import SoeClient
from soe_temporal.temporal.converter import payload_store_of
from soe_temporal.temporal.payload_store import (
    STORE_ENVIRONMENT,
    LocalPayloadStore,
    payload_store_from,
)

KEYS = ("o", "t", "w")
# Replays per process: the count of one replay is the difference between these, halved.
FEW, MANY = 1, 3


def history_path(directory: Path, kind: str, nodes: int, key: str) -> Path:
    """Where ``record`` saves the histories of one chain."""
    return directory / f"{kind}-{nodes}-{key}.json"


async def record(
    client: Client, soe: SoeClient, nodes: list[int], directory: Path
) -> list[tuple[str, int]]:
    """Record each chain's histories as JSON in ``directory``; the (kind, N) recorded."""
    tag = uuid.uuid4().hex[:6]
    queues = (soe.task_queue, f"in-hand-{tag}", f"in-input-{tag}")
    recorded = []
    async with chain_workers(client, soe, queues):
        for n in nodes:
            for kind, local in chain_kinds(n):
                runs_of = await run_chains(client, soe, queues[1:], n, local)
                for key, runs in runs_of.items():
                    saved = json.dumps([run.to_json_dict() for run in runs])
                    history_path(directory, kind, n, key).write_text(saved)
                recorded.append((kind, n))
    return recorded


def instructions_client(client: Client) -> SoeClient:
    """The SoeClient whose chains are counted: without SOE's search attributes, since the
    hand-written chains keep none (an upsert and the attributes' decoding are about 1% of
    a replay of 50 local nodes)."""
    return SoeClient(client, f"in-soe-{uuid.uuid4().hex[:6]}", search_attributes=False)


def history_events(path: Path) -> int:
    """The events of the histories ``record`` saved at ``path`` (every run)."""
    return sum(len(run["events"]) for run in json.loads(path.read_text()))


def store_environment(client: Client) -> dict[str, str]:
    """The environment under which a replaying process reads the store the recorded
    histories' claims point to."""
    environment = dict(os.environ, PYTHONHASHSEED="0")
    store = payload_store_of(client)
    if isinstance(store, LocalPayloadStore):
        environment[STORE_ENVIRONMENT] = str(store.directory.resolve())
    return environment


VALGRIND = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]


def replay_command(path: Path, key: str, rounds: int) -> list[str]:
    """The command of a process replaying the histories at ``path`` ``rounds`` times."""
    module = ["-m", "benchmarks.bench_instructions"]
    return [sys.executable, *module, "--replay", str(path), key, str(rounds)]


async def instructions(path: Path, key: str, rounds: int, environment: dict[str, str]) -> int:
    """Instructions of a process replaying the history at ``path`` ``rounds`` times."""
    process = await asyncio.create_subprocess_exec(
        *VALGRIND,
        *replay_command(path, key, rounds),
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    text = stderr.decode(errors="replace")
    counted = counted_instructions(text)
    if process.returncode != 0 or counted is None:
        raise RuntimeError(f"replaying {path.name} under valgrind failed:\n{text[-2000:]}")
    return counted


def counted_instructions(valgrind_output: str) -> int | None:
    """The instructions cachegrind's summary counts, if it wrote one."""
    found = re.search(r"I\s+refs:\s+([\d,]+)", valgrind_output)
    return None if found is None else int(found.group(1).replace(",", ""))


async def per_replay(
    directory: Path, recorded: list[tuple[str, int]], environment: dict[str, str]
) -> dict[tuple[str, int], dict[str, float]]:
    """Instructions of one replay of each recorded history, as many at once as cores."""
    limit = asyncio.Semaphore(os.cpu_count() or 1)

    async def counted(path: Path, key: str, rounds: int) -> int:
        async with limit:
            return await instructions(path, key, rounds, environment)

    async def one(kind: str, n: int, key: str) -> float:
        path = history_path(directory, kind, n, key)
        few, many = await asyncio.gather(counted(path, key, FEW), counted(path, key, MANY))
        return (many - few) / (MANY - FEW)

    jobs = [(kind, n, key) for kind, n in recorded for key in KEYS]
    counts = await asyncio.gather(*(one(*job) for job in jobs))
    table: dict[tuple[str, int], dict[str, float]] = {}
    for (kind, n, key), count in zip(jobs, counts, strict=True):
        table.setdefault((kind, n), {})[key] = count
    return table


async def benchmark(client: Client, nodes: list[int]) -> str:
    with tempfile.TemporaryDirectory(prefix="soe-instructions-") as folder:
        directory = Path(folder)
        soe = instructions_client(client)
        recorded = await record(client, soe, nodes, directory)
        environment = store_environment(soe.temporal)
        table = await per_replay(directory, recorded, environment)
        events = {
            (kind, n): {key: history_events(history_path(directory, kind, n, key)) for key in KEYS}
            for kind, n in recorded
        }
    return report(table, events)


def report(
    table: dict[tuple[str, int], dict[str, float]], events: dict[tuple[str, int], dict[str, int]]
) -> str:
    """The machine, then a row per chain: instructions per replay of each, their ratios, the
    history events of ours and of the bare chain, and ours against it per event."""
    lines = [
        f"soe_temporal instructions per replay (valgrind); {machine()}",
        "",
        "| chain | N | ours, M instructions | bare hand-written chain | that chain passing "
        "SOE's input | ours / bare | ours / with input | with input / bare "
        "| history events, ours / bare | per event, ours / bare |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (kind, n), count in table.items():
        o, t, w = (count[key] for key in KEYS)
        events_o, events_t = events[kind, n]["o"], events[kind, n]["t"]
        per_event = (o / events_o) / (t / events_t)
        lines.append(
            f"| {kind} tools | {n} | {o / 1e6:.1f} | {t / 1e6:.1f} | {w / 1e6:.1f} "
            f"| {o / t:.2f} | {o / w:.2f} | {w / t:.2f} | {events_o} / {events_t} "
            f"| {per_event:.2f} |"
        )
    return "\n".join(lines)


def replay(path: Path, key: str, rounds: int) -> None:
    """Replay the histories saved at ``path`` ``rounds`` times with the replayer of ``key``
    (the process valgrind counts)."""
    runs = [WorkflowHistory.from_json("wf", run) for run in json.loads(path.read_text())]
    replayer = chain_replayers(payload_store_from(None))[key]

    async def replay_all() -> None:
        for _ in range(rounds):
            for run in runs:
                await replayer.replay_workflow(run)

    asyncio.run(replay_all())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, nargs="*", default=[50, 500])
    parser.add_argument("--replay", nargs=3, metavar=("HISTORIES", "KEY", "ROUNDS"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SOE_BENCH_PORT", "7297")))
    args = parser.parse_args()
    if args.replay:
        path, key, rounds = args.replay
        replay(Path(path), key, int(rounds))
        return
    if shutil.which("valgrind") is None:
        sys.exit("bench_instructions needs valgrind on the PATH (Debian: apt-get install valgrind)")
    asyncio.run(print_on_dev_server(args.port, lambda client: benchmark(client, args.nodes)))


if __name__ == "__main__":
    main()
