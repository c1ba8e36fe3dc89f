"""The benchmarks still run (a tiny N, once): their figures are quoted in the README."""

from __future__ import annotations

import asyncio

import pytest

from benchmarks.bench_fanout import benchmark as fan_out_benchmark
from benchmarks.bench_fanout import schedule
from benchmarks.bench_footprint import MAX_REPLAYS, REPLAYS, paired, replay_rounds
from benchmarks.bench_footprint import benchmark as footprint
from benchmarks.bench_instructions import (
    KEYS,
    history_events,
    history_path,
    instructions_client,
    record,
    replay_command,
    report,
    store_environment,
)
from benchmarks.bench_live_instructions import KEYS as LIVE_KEYS
from benchmarks.bench_live_instructions import report as live_report
from benchmarks.bench_live_instructions import run_worker
from benchmarks.bench_nodes import CASES, benchmark
from benchmarks.stats import on_dev_server
from soe_temporal.servers.devserver import free_port

from .conftest import DevServerInfo


async def test_benchmark_reports_every_case_and_ratio(dev_server: DevServerInfo):
    report = await benchmark(dev_server.server.client, nodes=3, repeats=1)
    assert set(report.medians) == set(CASES)
    assert all(sample.seconds > 0 and sample.events > 0 for sample in report.medians.values())
    text = report.text()
    ratios = ("ratio (a)/(b)", "ratio (a')/(b')", "ratio (d)/(e)", "router nodes:")
    like_for_like = ("both search attributes:", "neither:")
    for line in (*ratios, *like_for_like):
        assert line in text


def test_fan_out_benchmark_alternates_each_pair_s_order_run_by_run():
    assert schedule(2) == [
        *("soe", "hand", "soe_plain", "hand_plain"),
        *("hand", "soe", "hand_plain", "soe_plain"),
    ]


async def test_fan_out_benchmark_checks_each_tree_and_reports_every_ratio():
    """bench_fanout times each variant and then checks each soe_temporal tree whole (its
    assertions would fail the run), on a dev server whose CPU it reads."""
    async with on_dev_server(free_port()) as client:
        text = await fan_out_benchmark(client, children=3, runs=2)
    assert "all runs on one dev server" in text
    for line in ("| soe_temporal without search attributes |", "| ratio, neither keeping them |"):
        assert line in text


async def test_footprint_benchmark_splits_replay_between_input_and_workflow(
    dev_server: DevServerInfo,
):
    """bench_footprint prints bytes and replay CPU per event against the bare chain and
    against the chain passing SOE's input, and memory per idle execution."""
    text = await footprint(dev_server.server.client, nodes=[3], runs=1, waiting=3)
    rows = [line for line in text.splitlines() if line.startswith("| local tools | 3 |")]
    assert len(rows) == 2  # against the bare chain, and against the chain with SOE's input
    assert "| remote tools | 3 |" in text
    assert "it / the bare chain" in text
    assert "| neither |" in text


async def test_instructions_benchmark_replays_each_recorded_history(
    dev_server: DevServerInfo, tmp_path
):
    """bench_instructions records ours and both hand-written chains, and a process of its
    own (the one valgrind counts) replays each of them without error."""
    client = dev_server.server.client
    soe = instructions_client(client)
    recorded = await record(client, soe, [3], tmp_path)
    assert recorded == [("local", 3), ("remote", 3)]
    for kind, n in recorded:
        ours, bare = (history_events(history_path(tmp_path, kind, n, key)) for key in "ot")
        # Without search attributes ours adds the worker-options marker and its update.
        assert bare < ours <= bare + 3
    environment = store_environment(soe.temporal)
    for kind, n in recorded:
        for key in KEYS:
            process = await asyncio.create_subprocess_exec(
                *replay_command(history_path(tmp_path, kind, n, key), key, 1),
                env=environment,
                stderr=asyncio.subprocess.PIPE,
            )
            _, stderr = await process.communicate()
            assert process.returncode == 0, stderr.decode()


def test_instructions_report_compares_per_replay_and_per_history_event():
    """The goal is replay cost per event: a chain of more events may cost more per replay."""
    table = {("local", 50): {"o": 120e6, "t": 100e6, "w": 110e6}}
    events = {("local", 50): {"o": 60, "t": 55, "w": 55}}
    row = next(line for line in report(table, events).splitlines() if "| local tools |" in line)
    assert row == (
        "| local tools | 50 | 120.0 | 100.0 | 110.0 | 1.20 | 1.09 | 1.10 | 60 / 55 | 1.10 |"
    )


async def test_live_instructions_benchmark_runs_each_side_s_worker_in_a_process_of_its_own(
    dev_server: DevServerInfo, tmp_path
):
    """bench_live_instructions runs each side's worker (the process valgrind counts) in a
    process of its own, runs chains on it, and stops it."""
    client = dev_server.server.client
    environment = store_environment(instructions_client(client).temporal)
    await asyncio.gather(
        *(run_worker(client, key, 3, 2, environment, tmp_path, []) for key in LIVE_KEYS)
    )


def test_live_instructions_report_gives_a_row_per_size_and_the_cost_per_node_between():
    table = {
        50: {"o": 180e6, "t": 150e6, "w": 160e6},
        500: {"o": 1530e6, "t": 1350e6, "w": 1420e6},
    }
    rows = [line for line in live_report(table).splitlines() if line.startswith("| N = ")]
    assert rows == [
        "| N = 50 | 180.00 | 150.00 | 160.00 | 1.20 | 1.12 | 1.07 |",
        "| N = 500 | 1530.00 | 1350.00 | 1420.00 | 1.13 | 1.08 | 1.05 |",
    ]
    per_node = next(line for line in live_report(table).splitlines() if "per node" in line)
    assert per_node == "| per node from 50 to 500 | 3.00 | 2.67 | 2.80 | 1.12 | 1.07 | 1.05 |"


def test_a_short_history_is_replayed_more_often_than_a_long_one_within_bounds():
    """A replay of a short history varies by a third: it is replayed until its replays took
    about eight seconds, a long one the minimum number of times."""
    assert replay_rounds(1.0) == 8
    assert replay_rounds(4.0) == REPLAYS
    assert replay_rounds(0.0) == MAX_REPLAYS


def test_replay_ratios_compare_the_replays_of_one_round():
    """This machine's speed drifts between rounds: a replay ratio is the median of each
    round's ratio (2, 3 and 1.5 here), not the ratio of the medians (3 / 2)."""
    assert paired([2.0, 30.0, 3.0], [1.0, 10.0, 2.0]) == 2.0
    drifting = (1.0, 3.0, 0.5)
    assert paired([1.1 * speed for speed in drifting], list(drifting)) == pytest.approx(1.1)
