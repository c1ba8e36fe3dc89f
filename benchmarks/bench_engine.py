"""The pure engine's cost per router node of one cascade, at several sizes (no server).

A chain of N routers, each triggered by the one before, runs as one broadcast cascade:
its cost must grow with the nodes it triggers, not with their square. Prints µs per node
and peak memory (a separate, traced run), min/median/max of ``--runs`` runs.

    python -m benchmarks.bench_engine --nodes 100 1000 9000 --runs 3
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc
from typing import Any

from benchmarks.stats import machine
from soe_temporal.engine import Execution


def router_chain(nodes: int) -> dict[str, Any]:
    return {
        "chain": {
            f"R{i}": {
                "node_type": "router",
                "event_triggers": [f"S{i}"],
                "event_emissions": [{"signal_name": f"S{i + 1}"}],
            }
            for i in range(nodes)
        }
    }


def one_run(registry: dict[str, Any], nodes: int) -> float:
    execution = Execution.start("bench", "chain", registry, {}, ["S0"])
    gc.collect()
    started = time.perf_counter()
    execution.process_pending()
    seconds = time.perf_counter() - started
    assert execution.context["__operational__"]["nodes"][f"R{nodes - 1}"] == 1
    return seconds / nodes * 1e6


def peak_memory(registry: dict[str, Any]) -> float:
    execution = Execution.start("bench", "chain", registry, {}, ["S0"])
    tracemalloc.start()
    execution.process_pending()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[100, 300, 1000, 2000, 9000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    print("| routers | µs per node (min/median/max) | peak MB |")
    print("|---|---|---|")
    for nodes in args.nodes:
        # A registry of its own for each run, so each run builds its trigger index.
        times = [one_run(router_chain(nodes), nodes) for _ in range(args.runs)]
        print(
            f"| {nodes:,} | {min(times):.1f}/{statistics.median(times):.1f}/{max(times):.1f} "
            f"| {peak_memory(router_chain(nodes)):.1f} |"
        )


if __name__ == "__main__":
    main()
