"""Where the backends' executions live: the three kinds of Temporal server behind soe-ai's
backends factories, each as a ``connect()``/``disconnect()`` pair used on the runtime loop.

- in memory: one time-skipping test server per process, shared by every in-memory
  backends, payloads in a temporary directory;
- local: the embedded dev server with its database (``temporal.db``), payloads
  (``payloads/``) and log in ``storage_dir``, so executions outlive the process; one
  server per directory, and one process per directory at a time;
- a running Temporal service: temporalio's environment configuration (as the ``temporal``
  CLI reads it) with the address and namespace given over it.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from ..errors import SoeError
from ..servers.binaries import test_server_path
from ..servers.devserver import DevServer, DevServerSettings, free_port
from ..temporal.connection import client_connect_options
from ..temporal.payload_store import PayloadStore, payload_store_from
from ..temporal.search_attributes import register_search_attributes
from .runtime import runtime

LINGER_ENVIRONMENT = "SOE_MEMORY_SERVER_LINGER"


@dataclass(frozen=True)
class Connection:
    """A client and the payload store its executions' large payloads live in."""

    client: Client
    payload_store: PayloadStore


class _SharedServer:
    """A server started on first need, counted by its users, stopped ``linger`` seconds
    after the last one leaves (a test suite pays its start once), or at exit."""

    def __init__(self, start: Callable[[], Awaitable[Any]], stop: Callable[[Any], Awaitable[None]]):
        self._start = start
        self._stop = stop
        self.server: Any = None
        self.users = 0
        self._lock: asyncio.Lock | None = None
        self._stopping: asyncio.TimerHandle | None = None
        runtime().at_exit_last.append(self.stop)

    def _the_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def acquire(self) -> Any:
        async with self._the_lock():
            if self._stopping is not None:
                self._stopping.cancel()
                self._stopping = None
            if self.server is None:
                self.server = await self._start()
            self.users += 1
            return self.server

    async def release(self, linger: float) -> None:
        async with self._the_lock():
            self.users = max(0, self.users - 1)
            if self.users == 0 and linger <= 0:
                await self._shutdown()
            elif self.users == 0 and self.server is not None and self._stopping is None:
                loop = asyncio.get_running_loop()
                self._stopping = loop.call_later(
                    linger, lambda: loop.create_task(self._stop_if_unused())
                )

    async def _stop_if_unused(self) -> None:
        async with self._the_lock():
            self._stopping = None
            if self.users == 0:
                await self._shutdown()

    async def stop(self) -> None:
        async with self._the_lock():
            await self._shutdown()

    async def _shutdown(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            await self._stop(server)


def _linger() -> float:
    return float(os.environ.get(LINGER_ENVIRONMENT, "5"))


# -- in memory ----------------------------------------------------------------------------


async def _start_time_skipping() -> WorkflowEnvironment:
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=test_server_path()
    )
    await register_search_attributes(environment.client)
    return environment


async def _stop_environment(environment: WorkflowEnvironment) -> None:
    await environment.shutdown()


_MEMORY_SERVER: _SharedServer | None = None


def _memory_server() -> _SharedServer:
    global _MEMORY_SERVER
    if _MEMORY_SERVER is None:
        _MEMORY_SERVER = _SharedServer(_start_time_skipping, _stop_environment)
    return _MEMORY_SERVER


class MemoryServer:
    """The process's shared time-skipping test server; payloads in a temporary directory
    of these backends, gone at disconnect."""

    kind = "memory"

    def __init__(self) -> None:
        self._payloads: tempfile.TemporaryDirectory[str] | None = None

    def describe(self) -> str:
        return "an in-process time-skipping test server"

    async def connect(self) -> Connection:
        environment = await _memory_server().acquire()
        self._payloads = tempfile.TemporaryDirectory(prefix="soe-memory-payloads-")
        return Connection(environment.client, payload_store_from(self._payloads.name))

    async def disconnect(self) -> None:
        if self._payloads is not None:
            self._payloads.cleanup()
            self._payloads = None
        await _memory_server().release(_linger())


# -- local: the embedded dev server, data in a directory ----------------------------------


class StorageDirInUseError(SoeError):
    """Another process runs the embedded Temporal server of this storage directory."""


class _DirectoryServer:
    """The dev server of one storage directory, holding the directory's lock while it
    runs (two servers on one database would corrupt it)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.server: DevServer | None = None
        self._lock_file: IO[str] | None = None

    async def start(self) -> _DirectoryServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        lock_file = (self.directory / ".lock").open("a+")
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.seek(0)
            holder = lock_file.read().strip() or "another process"
            lock_file.close()
            raise StorageDirInUseError(
                f"storage_dir '{self.directory}' is in use by {holder}, which runs its "
                "embedded Temporal server: one process at a time can use a storage "
                "directory. Stop that process, or point this one at another directory (or "
                "run `soe-temporal dev` and use create_backends(address=...) from both)."
            ) from None
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(f"process {os.getpid()}\n")
        lock_file.flush()
        self._lock_file = lock_file
        port = free_port()
        settings = DevServerSettings(
            database=self.directory / "temporal.db", port=port, ui_port=free_port()
        )
        try:
            self.server = await DevServer(settings).__aenter__()
        except BaseException:
            self._unlock()
            raise
        lock_file.write(f"(Temporal server: process {self.server.pid}, {settings.address})\n")
        lock_file.flush()
        return self

    async def stop(self) -> None:
        server, self.server = self.server, None
        try:
            if server is not None:
                await server.__aexit__(None, None, None)
        finally:
            self._unlock()

    def _unlock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # releases the flock
            self._lock_file = None


_DIRECTORY_SERVERS: dict[Path, _SharedServer] = {}


def _directory_server(directory: Path) -> _SharedServer:
    if directory not in _DIRECTORY_SERVERS:

        async def stop(server: _DirectoryServer) -> None:
            await server.stop()

        _DIRECTORY_SERVERS[directory] = _SharedServer(_DirectoryServer(directory).start, stop)
    return _DIRECTORY_SERVERS[directory]


class LocalServer:
    """The embedded dev server of ``storage_dir``: its database, payloads and log live
    there, so a later process with the same directory finds the executions."""

    kind = "local"

    def __init__(self, storage_dir: str | os.PathLike[str]) -> None:
        self.storage_dir = Path(storage_dir).resolve()
        self.address = ""

    def describe(self) -> str:
        return f"the embedded Temporal dev server of '{self.storage_dir}'"

    async def connect(self) -> Connection:
        running: _DirectoryServer = await _directory_server(self.storage_dir).acquire()
        assert running.server is not None and running.server.client is not None
        self.address = running.server.settings.address
        return Connection(
            running.server.client, payload_store_from(str(self.storage_dir / "payloads"))
        )

    async def disconnect(self) -> None:
        # Stopped at once: cleanup_all() ends the server, and another process may want
        # the directory next.
        await _directory_server(self.storage_dir).release(0.0)


# -- a running Temporal service -----------------------------------------------------------


class RemoteService:
    """A running Temporal service: temporalio's environment configuration with
    ``address``/``namespace`` over it; payloads in SOE_PAYLOAD_STORE's store (the
    workers' one) unless ``payload_store`` names another."""

    kind = "service"

    def __init__(
        self, address: str | None, namespace: str | None, payload_store: Any = None
    ) -> None:
        self.options = client_connect_options(address, namespace)
        # As the CLI: with no address anywhere, the embedded dev server's.
        self.options.setdefault("target_host", DevServerSettings.from_environment().address)
        self.address = self.options["target_host"]
        self._payload_store = payload_store
        self._client: Client | None = None

    def describe(self) -> str:
        namespace = self.options.get("namespace") or "default"
        return f"the Temporal service at {self.address} (namespace '{namespace}')"

    async def connect(self) -> Connection:
        if self._client is None:
            try:
                self._client = await Client.connect(**self.options)
            except Exception as error:
                raise SoeError(
                    f"Cannot reach {self.describe()}: {error}. Check the address and that "
                    "the service runs (`soe-temporal dev` starts one locally)."
                ) from None
        return Connection(self._client, payload_store_from(self._payload_store))

    async def disconnect(self) -> None:
        self._client = None
