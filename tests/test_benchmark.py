"""The benchmark still runs (a tiny N, once): its figures are quoted in the README."""

from __future__ import annotations

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
