"""What every benchmark prints: the machine, and min/median/max of its runs."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from temporalio.client import Client

from soe_temporal.servers.devserver import DevServer, DevServerSettings


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def spread(values: Sequence[float], scale: float = 1, digits: int = 2) -> str:
    """``min/median/max`` of ``values`` times ``scale``."""
    scaled = [value * scale for value in values]
    return (
        f"{min(scaled):.{digits}f}/{statistics.median(scaled):.{digits}f}/{max(scaled):.{digits}f}"
    )


def ratios(ours: Sequence[float], theirs: Sequence[float]) -> list[float]:
    """Run by run: the runs of a round are taken side by side."""
    return [a / b for a, b in zip(ours, theirs, strict=True)]


_server_pid: int | None = None


def server_cpu_seconds() -> float:
    """CPU time the benchmark's dev server process has used so far (user + system): what
    the server itself spends, apart from the workers and the client in this process."""
    if _server_pid is None:
        return 0.0
    with open(f"/proc/{_server_pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@asynccontextmanager
async def on_dev_server(port: int, announce: bool = True) -> AsyncIterator[Client]:
    """A client of a fresh in-memory embedded dev server, whose CPU
    ``server_cpu_seconds`` reads while it runs.

    SOE_BENCH_SEARCH_ATTRIBUTES=0 runs it without SOE's search attributes, so executions
    go without them: what they cost is the difference."""
    global _server_pid
    searchable = os.environ.get("SOE_BENCH_SEARCH_ATTRIBUTES", "1") != "0"
    settings = DevServerSettings(
        database=None, port=port, ui_port=port + 1000, search_attributes=searchable
    )
    if not searchable and announce:
        print("(on a server without SOE's search attributes)")
    async with DevServer(settings) as server:
        assert server.client is not None
        _server_pid = server.pid
        try:
            yield server.client
        finally:
            _server_pid = None


async def print_on_dev_server(port: int, run: Callable[[Client], Awaitable[str]]) -> None:
    """Print what ``run`` reports, run against a fresh in-memory embedded dev server."""
    async with on_dev_server(port) as client:
        print(await run(client))


def search_attribute_rows(
    row: Callable[[str, str], str], ratio_row: Callable[[str, str, str], str]
) -> list[str]:
    """The table rows of a benchmark run in four variants, ``soe`` / ``hand`` keeping SOE's
    search attributes and ``soe_plain`` / ``hand_plain`` without, and their ratios."""
    return [
        row("soe_temporal (search attributes kept)", "soe"),
        row("hand-written keeping the same search attributes", "hand"),
        row("soe_temporal without search attributes", "soe_plain"),
        row("hand-written without", "hand_plain"),
        ratio_row("ratio, both keeping search attributes", "soe", "hand"),
        ratio_row("ratio, neither keeping them", "soe_plain", "hand_plain"),
        ratio_row(
            "ratio, soe_temporal keeping them against hand-written without", "soe", "hand_plain"
        ),
    ]
