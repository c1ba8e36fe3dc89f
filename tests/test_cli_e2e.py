"""The CLI end to end on the embedded dev server: `soe-temporal worker`, `start`, `signal`,
`context`, `describe`, `run`, and signals sent with the `temporal` binary."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid

from temporalio.client import Client

from soe_temporal import SoeClient
from soe_temporal.servers.devserver import DevServer, DevServerSettings

from .conftest import BIN, ROOT, DevServerInfo, Spawn, free_port

CLI = str(BIN / "soe-temporal")
TEMPORAL = str(BIN / "temporal")
TIMEOUT = 120


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT
    )


async def test_worker_start_signal_with_the_temporal_cli_context_describe(
    dev_server: DevServerInfo, spawn: Spawn
):
    queue = f"e2e-{uuid.uuid4().hex[:6]}"
    env = dev_server.env(SOE_TASK_QUEUE=queue, SOE_TOOLS="examples.tools:TOOLS")
    spawn([CLI, "worker"], env, stderr=subprocess.DEVNULL)

    started = _cli(
        [
            "start",
            "examples/approval.yaml",
            "--workflow",
            "waiting_workflow",
            "--signal",
            "START",
            "--context",
            '{"request": "laptop"}',
            "--wait",
        ],
        env,
    )
    assert started.returncode == 0, started.stderr
    execution_id = started.stdout.strip()
    assert execution_id and "\n" not in execution_id

    signalled = subprocess.run(
        [
            TEMPORAL,
            "workflow",
            "signal",
            "--workflow-id",
            execution_id,
            "--name",
            "soe_signal",
            "--input",
            '["APPROVED"]',
            "--address",
            dev_server.address,
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert signalled.returncode == 0, signalled.stderr
    soe = SoeClient(
        await Client.connect(dev_server.address), queue, payload_store=dev_server.payloads
    )
    await soe.wait_idle(execution_id)

    context = _cli(["context", execution_id, "--json"], env)
    assert context.returncode == 0, context.stderr
    values = json.loads(context.stdout)
    assert values["request"] == ["laptop"]
    assert values["final_result"] == [{"status": "approved", "next_step": "order placed"}]

    described = json.loads(_cli(["describe", execution_id, "--json"], env).stdout)
    assert described["status"] == "RUNNING" and described["idle"] is True
    assert described["workflow_name"] == "waiting_workflow"

    again = _cli(["signal", execution_id, "REJECTED", "--wait"], env)
    assert again.returncode == 0, again.stderr
    values = json.loads(_cli(["context", execution_id, "--json"], env).stdout)
    assert values["rejection_notice"] == [{"status": "rejected", "notified": True}]


async def test_cli_errors_are_one_line_and_exit_nonzero(dev_server: DevServerInfo):
    env = dev_server.env(SOE_TASK_QUEUE="unused")
    unknown = _cli(["signal", "no-such-execution", "GO"], env)
    assert unknown.returncode == 1
    assert "No execution 'no-such-execution'" in unknown.stderr

    bad = _cli(
        ["start", "examples/approval.yaml", "--workflow", "missing", "--signal", "START"], env
    )
    assert bad.returncode == 2
    assert "Workflow 'missing' not found in config" in bad.stderr
    assert bad.stdout == ""


async def test_run_uses_an_embedded_server_whose_executions_survive_a_restart(
    tmp_path, spawn: Spawn
):
    """F-API-4, on Temporal: the local storage of setup_orchestration is the embedded dev server's data file; the test environment's time-skipping server is the in-memory kind. `run` starts the embedded server with its data in a file; after it exits, a later
    dev server on the same file still has the execution, which a signal then continues."""
    port, ui_port = free_port(), free_port()
    database = tmp_path / "temporal.db"
    env = {key: value for key, value in os.environ.items() if key != "TEMPORAL_ADDRESS"} | {
        "PYTHONPATH": str(ROOT),
        "SOE_DEV_PORT": str(port),
        "SOE_DEV_UI_PORT": str(ui_port),
        "SOE_DEV_DB": str(database),
        "SOE_TOOLS": "examples.tools:TOOLS",
    }
    ran = _cli(
        [
            "run",
            "examples/approval.yaml",
            "--workflow",
            "waiting_workflow",
            "--signal",
            "START",
            "--id",
            "survivor",
        ],
        env,
    )
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["__operational__"]["signals"] == ["START", "WAITING_FOR_APPROVAL"]
    assert "▶ Initialize (router)" in ran.stderr

    async with DevServer(DevServerSettings(database, port, ui_port)) as server:
        assert server.client is not None
        worker_env = {**env, "TEMPORAL_ADDRESS": f"localhost:{port}"}
        spawn([CLI, "worker"], worker_env, stderr=subprocess.DEVNULL)
        soe = SoeClient(server.client)
        assert (await soe.describe("survivor"))["status"] == "RUNNING"
        await soe.broadcast_signals("survivor", ["APPROVED"])
        context = await soe.get_context("survivor")
        assert context["final_result"] == [{"status": "approved", "next_step": "order placed"}]


async def test_thin_worker_and_starter_scripts(dev_server: DevServerInfo, spawn: Spawn):
    queue = f"scripts-{uuid.uuid4().hex[:6]}"
    env = dev_server.env(SOE_TASK_QUEUE=queue, SOE_TOOLS="examples.tools:TOOLS")
    python = str(BIN / "python")
    spawn([python, "workers/worker.py"], env, stderr=subprocess.DEVNULL)
    started = subprocess.run(
        [
            python,
            "starter/starter.py",
            "examples/notify.yaml",
            "notify",
            "READY",
            '{"customer": {"email": "a@b.c"}, "order_id": 3}',
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert started.returncode == 0, started.stderr
    execution_id = started.stdout.strip()
    soe = SoeClient(
        await Client.connect(dev_server.address), queue, payload_store=dev_server.payloads
    )
    await soe.wait_idle(execution_id)
    receipt = (await soe.get_context(execution_id))["mail_receipt"]
    assert receipt == [{"accepted": True, "to": "a@b.c", "subject": "Order 3", "urgent": True}]


async def test_run_with_a_real_openai_compatible_server(dev_server: DevServerInfo):
    """`run` uses the provider SOE_LLM names: here an OpenAI-compatible server on loopback."""
    from .chat_server import Reply, chat_server

    with chat_server(Reply('"billing"')) as server:
        env = dev_server.env(
            SOE_TASK_QUEUE=f"llm-{uuid.uuid4().hex[:6]}",
            SOE_LLM="openai",
            SOE_LLM_MODEL="local-model",
            OPENAI_BASE_URL=server.base_url,
            OPENAI_API_KEY="sk-local",
        )
        ran = _cli(
            [
                "run",
                "examples/intake.yaml",
                "--workflow",
                "intake",
                "--signal",
                "BEGIN",
                "--context",
                '{"ticket": "refund please"}',
            ],
            env,
        )
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["category"] == ["billing"]
    assert "OpenAI-compatible" in ran.stderr and "local-model" in ran.stderr
    assert server.requests[0]["body"]["model"] == "local-model"


async def test_run_the_agent_example_offline_with_the_fake_provider(dev_server: DevServerInfo):
    env = dev_server.env(
        SOE_TASK_QUEUE=f"agent-{uuid.uuid4().hex[:6]}", SOE_TOOLS="examples.tools:TOOLS"
    )
    env.pop("SOE_LLM", None)
    ran = _cli(
        [
            "run",
            "examples/research_agent.yaml",
            "--workflow",
            "research",
            "--signal",
            "START",
            "--context",
            '{"question": "What does Temporal record?"}',
        ],
        env,
    )
    assert ran.returncode == 0, ran.stderr
    context = json.loads(ran.stdout)
    assert context["__operational__"]["signals"] == ["START", "ANSWERED"]
    assert "Researcher: calls search_notes" in ran.stderr
    assert "the offline fake LLM" in ran.stderr


async def test_run_the_self_evolving_example_shows_each_injection(dev_server: DevServerInfo):
    env = dev_server.env(SOE_TASK_QUEUE=f"evolve-{uuid.uuid4().hex[:6]}")
    env.pop("SOE_LLM", None)
    ran = _cli(
        [
            "run",
            "examples/self_evolving.yaml",
            "--workflow",
            "main",
            "--signal",
            "START",
            "--context",
            '{"draft": "Durable state."}',
        ],
        env,
    )
    assert ran.returncode == 0, ran.stderr
    assert "Logging error" not in ran.stderr
    context = json.loads(ran.stdout)
    assert context["__operational__"]["signals"] == ["START", "EVOLVED", "REVIEWED", "COMPLETE"]
    assert "  soe_inject_workflow: review" in ran.stderr
    assert "  soe_inject_node: main.SendToReview" in ran.stderr
    assert "  SendToReview: starts 1 child execution(s) of review" in ran.stderr


def _start_without_waiting(env: dict[str, str]) -> str:
    started = _cli(
        ["start", "examples/approval.yaml", "--workflow", "waiting_workflow", "--signal", "START"],
        env,
    )
    assert started.returncode == 0, started.stderr
    return started.stdout.strip()


async def test_waiting_commands_say_within_seconds_that_no_worker_polls(
    dev_server: DevServerInfo,
):
    """No worker, no hang: `signal --wait` and `start --wait` exit 1 within about 10 s,
    saying so and that nothing was sent; `describe` answers from the server and names the
    fields a worker would add."""
    env = dev_server.env(SOE_TASK_QUEUE=f"nobody-{uuid.uuid4().hex[:6]}")
    execution_id = _start_without_waiting(env)
    for args in (
        ["signal", execution_id, "APPROVED", "--wait"],
        [
            "start",
            "examples/approval.yaml",
            "--workflow",
            "waiting_workflow",
            "--signal",
            "START",
            "--wait",
        ],  # fmt: skip
    ):
        started = time.monotonic()
        waited = _cli(args, env)
        assert waited.returncode == 1, waited.stderr
        assert time.monotonic() - started < 20
        assert "No worker polls task queue" in waited.stderr
        assert "--wait-for-worker" in waited.stderr and "Traceback" not in waited.stderr
    described = _cli(["describe", execution_id, "--json"], env)
    assert described.returncode == 0, described.stderr
    info = json.loads(described.stdout)
    assert info["status"] == "RUNNING" and info["workflow_name"] == "waiting_workflow"
    assert info["main_execution_id"] == execution_id
    assert "idle" in info["unanswered"]["fields"]
    assert "no worker polls" in info["unanswered"]["because"]


async def test_a_wait_that_runs_out_says_how_long_and_that_the_signal_was_delivered(
    dev_server: DevServerInfo,
):
    env = dev_server.env(SOE_TASK_QUEUE=f"nobody-{uuid.uuid4().hex[:6]}")
    execution_id = _start_without_waiting(env)
    args = ["signal", execution_id, "APPROVED", "--wait", "--wait-for-worker", "--timeout", "2"]
    waited = _cli(args, env)
    assert waited.returncode == 1, waited.stderr
    assert "Waited 2." in waited.stderr and "The signals were delivered" in waited.stderr
    assert "No worker polls task queue" in waited.stderr


def _hears_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


async def test_ctrl_c_exits_130_with_one_line(dev_server: DevServerInfo):
    env = dev_server.env(SOE_TASK_QUEUE=f"nobody-{uuid.uuid4().hex[:6]}")
    execution_id = _start_without_waiting(env)
    waiting = subprocess.Popen(
        [CLI, "signal", execution_id, "APPROVED", "--wait", "--wait-for-worker"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # As from a terminal: a suite run in the background (`make test &`) ignores
        # SIGINT, and a child would inherit that and never hear the Ctrl-C.
        preexec_fn=_hears_ctrl_c,
    )  # fmt: skip
    time.sleep(3)  # a real process, interrupted as a user would
    waiting.send_signal(signal.SIGINT)
    _, stderr = waiting.communicate(timeout=30)
    assert waiting.returncode == 130
    assert stderr.strip().splitlines() == [
        "interrupted: what was already sent stays sent; the execution goes on"
    ]


async def test_signal_request_id_applies_a_retried_command_once(
    dev_server: DevServerInfo, spawn: Spawn
):
    queue = f"e2e-once-{uuid.uuid4().hex[:6]}"
    env = dev_server.env(SOE_TASK_QUEUE=queue, SOE_TOOLS="examples.tools:TOOLS")
    spawn([CLI, "worker"], env, stderr=subprocess.DEVNULL)
    execution_id = _start_without_waiting(env)
    for _ in range(2):
        sent = _cli(["signal", execution_id, "APPROVED", "--wait", "--request-id", "r-1"], env)
        assert sent.returncode == 0, sent.stderr
    context = json.loads(_cli(["context", execution_id, "--json"], env).stdout)
    assert context["__operational__"]["signals"].count("APPROVED") == 1
    assert context["__operational__"]["tool_calls"] == 1
