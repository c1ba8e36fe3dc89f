"""Shared test setup. Workflow tests run on Temporal's time-skipping server
(SoeTestEnvironment); tests that need real time and real processes use the `dev_server`
fixture (the embedded dev server, started once per session)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from soe_temporal.servers.devserver import DevServer, DevServerSettings, free_port

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BIN = Path(sys.executable).parent


@dataclass
class DevServerInfo:
    settings: DevServerSettings
    server: DevServer
    # The payload store every worker and client of these tests shares.
    payloads: Path

    @property
    def address(self) -> str:
        return self.settings.address

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a soe-temporal process that talks to this server."""
        return {
            **os.environ,
            "TEMPORAL_ADDRESS": self.address,
            "PYTHONPATH": str(ROOT),
            "SOE_PAYLOAD_STORE": str(self.payloads),
            **extra,
        }


@pytest_asyncio.fixture(scope="session")
async def dev_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DevServerInfo]:
    """One embedded dev server (real time, real persistence) for the tests that need it."""
    settings = DevServerSettings(
        database=tmp_path_factory.mktemp("devserver") / "temporal.db",
        port=free_port(),
        ui_port=free_port(),
    )
    async with DevServer(settings) as server:
        yield DevServerInfo(settings, server, tmp_path_factory.mktemp("payloads"))


Spawn = Callable[..., subprocess.Popen]


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start background processes; any still running after the test is killed."""
    processes: list[subprocess.Popen] = []

    def start(args: list[str], env: dict[str, str], **options: object) -> subprocess.Popen:
        process = subprocess.Popen(args, env=env, cwd=ROOT, **options)
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()
