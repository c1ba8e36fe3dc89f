"""The benchmarks still run (a tiny N, once): their figures are quoted in the README."""

from __future__ import annotations

from benchmarks.bench_footprint import benchmark as footprint
from benchmarks.bench_nodes import CASES, benchmark

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
