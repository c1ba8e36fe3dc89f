"""create_local_backends / setup_orchestration(use_local_storage=True) on the embedded dev
server with its data in storage_dir, and create_backends for a running Temporal service.

The executions outlive the process that started them (SOE's "executions stop, not pause":
anyone with the id signals them again later), so these tests start executions in one
process and continue them in another.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from examples.tools import TOOLS
from soe_temporal import WorkerUnavailableError
from soe_temporal.soe import broadcast_signals, create_all_nodes, orchestrate, setup_orchestration
from soe_temporal.soe.local_backends import create_backends, create_local_backends
from soe_temporal.soe.servers import StorageDirInUseError

from .conftest import EXAMPLES, exited_cleanly

WAITING = ["START", "WAITING_FOR_APPROVAL"]

START_AND_EXIT = """
from examples.tools import TOOLS
from soe_temporal.soe import create_all_nodes, orchestrate
from soe_temporal.soe.local_backends import create_local_backends

backends = create_local_backends({storage!r})
nodes, broadcast = create_all_nodes(backends, tools_registry=TOOLS)
print(orchestrate(
    config=open({config!r}).read(),
    initial_workflow_name="waiting_workflow",
    initial_signals=["START"],
    initial_context={{"request": "laptop"}},
    backends=backends,
    broadcast_signals_caller=broadcast,
))
"""


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=EXAMPLES.parent,
    )


def test_an_execution_started_by_one_process_is_continued_by_the_next(tmp_path):
    """The seed's "External Triggers and Continuation" across processes: the first
    process starts the approval and exits (its server stops with it); a second process on
    the same storage_dir reads the context and approves it, on the same node set."""
    started = run_python(
        START_AND_EXIT.format(storage=str(tmp_path), config=str(EXAMPLES / "approval.yaml"))
    )
    assert exited_cleanly(started), started.stderr
    execution_id = started.stdout.strip().splitlines()[-1]
    assert (tmp_path / "temporal.db").exists()

    backends = create_local_backends(tmp_path)
    try:
        with pytest.raises(WorkerUnavailableError, match="call create_all_nodes"):
            backends.context.get_context(execution_id)
        nodes, _ = create_all_nodes(backends, tools_registry=TOOLS)
        assert backends.context.get_context(execution_id)["__operational__"]["signals"] == WAITING
        broadcast_signals(execution_id, ["APPROVED"], nodes, backends)
        context = backends.context.get_context(execution_id)
        assert context["final_result"][-1]["status"] == "approved"
        assert context["__operational__"]["signals"][-1] == "COMPLETE"
    finally:
        backends.cleanup_all()


def test_setup_orchestration_with_local_storage_runs_on_the_storage_dir(tmp_path, approval):
    backends, broadcast = setup_orchestration(
        tools_registry=TOOLS, use_local_storage=True, storage_dir=str(tmp_path)
    )
    try:
        execution_id = orchestrate(
            approval, "waiting_workflow", ["START"], {"request": "laptop"}, backends, broadcast
        )
        broadcast(execution_id, ["REJECTED"])
        assert backends.context.get_context(execution_id)["rejection_notice"]
        assert (tmp_path / "temporal.db").exists()
        assert backends.address.startswith("localhost:")
    finally:
        backends.cleanup_all()


def test_a_storage_dir_in_use_by_another_process_is_refused_with_its_holder(tmp_path, approval):
    backends, broadcast = setup_orchestration(use_local_storage=True, storage_dir=str(tmp_path))
    try:
        orchestrate(approval, "waiting_workflow", ["START"], {}, backends, broadcast)
        other = run_python(f"""
            from soe_temporal.soe.local_backends import create_local_backends
            create_local_backends({str(tmp_path)!r}).context.get_context("x")
        """)
        assert other.returncode != 0
        assert "StorageDirInUseError" in other.stderr
        assert "is in use by process" in other.stderr
    finally:
        backends.cleanup_all()
    # cleanup_all stopped the server and let the directory go.
    after = run_python(f"""
        from soe_temporal.soe.local_backends import create_local_backends
        backends = create_local_backends({str(tmp_path)!r})
        print(backends.context.get_context("unknown-id"))
        backends.cleanup_all()
    """)
    assert exited_cleanly(after), after.stderr
    assert after.stdout.strip() == "{}"


def test_soe_ai_s_per_facet_directories_name_their_parent_as_the_storage_dir(tmp_path):
    backends = create_local_backends(context_storage_dir=str(tmp_path / "data" / "contexts"))
    assert backends.server.storage_dir == (tmp_path / "data").resolve()
    assert StorageDirInUseError.__mro__[1].__name__ == "SoeError"


def test_create_backends_reaches_a_running_service_and_finds_its_executions(tmp_path, approval):
    """create_backends(address=...) on a running server (here the one local backends
    started): node sets run on this process's workers, and any execution of the server
    is known to it, not only those it started."""
    local, local_broadcast = setup_orchestration(
        tools_registry=TOOLS, use_local_storage=True, storage_dir=str(tmp_path)
    )
    try:
        first = orchestrate(approval, "waiting_workflow", ["START"], {}, local, local_broadcast)
        service = create_backends(address=local.address, namespace="default", task_queue="q")
        nodes, broadcast = create_all_nodes(service, tools_registry=TOOLS)
        second = orchestrate(approval, "waiting_workflow", ["START"], {}, service, broadcast)
        assert service.context.get_context(second)["__operational__"]["signals"] == WAITING
        assert service.context.get_context(first)["__operational__"]["signals"] == WAITING
        assert service.workflow.get_current_workflow_name(first) == "waiting_workflow"
        assert service.context.get_context("no-such-execution") == {}
        service.cleanup_all()  # ends what it started: `second`, not `first`
        assert local.context.get_context(first)["__operational__"]["signals"] == WAITING
    finally:
        local.cleanup_all()


def test_create_backends_for_an_address_nothing_listens_on_says_so():
    service = create_backends(address="127.0.0.1:1", task_queue="q")
    with pytest.raises(Exception, match="Cannot reach the Temporal service at 127.0.0.1:1"):
        service.context.get_context("x")


KILLED_MIDWAY = """
import os, signal
from examples.tools import TOOLS
from soe_temporal.soe import create_all_nodes, orchestrate
from soe_temporal.soe.local_backends import create_local_backends

backends = create_local_backends({storage!r})
nodes, broadcast = create_all_nodes(backends, tools_registry=TOOLS)
print(orchestrate(open({config!r}).read(), "waiting_workflow", ["START"], {{}}, backends, broadcast),
      flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_process_leaves_no_server_behind_and_the_next_one_continues(tmp_path):
    """kill -9 of the process: its embedded server ends with it (no orphan holding the
    database or the port), and the next process on the directory continues the work."""
    killed = run_python(
        KILLED_MIDWAY.format(storage=str(tmp_path), config=str(EXAMPLES / "approval.yaml"))
    )
    assert killed.returncode == -9
    execution_id = killed.stdout.strip().splitlines()[-1]
    lock = (tmp_path / ".lock").read_text()
    server_pid = int(lock.split("Temporal server: process ")[1].split(",")[0])
    assert server_gone(server_pid)

    backends = create_local_backends(tmp_path)
    try:
        nodes, _ = create_all_nodes(backends, tools_registry=TOOLS)
        broadcast_signals(execution_id, ["APPROVED"], nodes, backends)
        assert backends.context.get_context(execution_id)["final_result"]
    finally:
        backends.cleanup_all()


def server_gone(pid: int, seconds: float = 20.0) -> bool:
    """Whether process ``pid`` has ended within ``seconds`` (a process's end cannot be
    awaited from outside it; polled)."""
    import os
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        with open(f"/proc/{pid}/stat") as stat:  # a zombie has ended too
            if stat.read().split(") ")[1].startswith("Z"):
                return True
        time.sleep(0.1)
    return False
