"""The CLI's options as the `temporal` CLI has them: `--address`, `--namespace` and
`--task-queue` over the environment, temporalio's environment configuration (profiles of a
config file), `--version`, and `--json` or a readable form for `context` and `describe`."""

from __future__ import annotations

import json
import subprocess
import uuid
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from temporalio.client import Client

from soe_temporal import cli

from .conftest import DevServerInfo, Spawn, free_port
from .test_cli_e2e import CLI, _cli

# An address where no Temporal listens: the environment's, which the flags must beat.
NOWHERE = "127.0.0.1:1"
APPROVAL = ["examples/approval.yaml", "--workflow", "waiting_workflow", "--signal", "START"]


def test_version_prints_the_package_version():
    shown = subprocess.run([CLI, "--version"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == f"soe-temporal {metadata.version('soe-temporal')}\n"


async def test_address_namespace_and_task_queue_flags_win_over_the_environment(
    dev_server: DevServerInfo, spawn: Spawn
):
    """Every variable points elsewhere; the flags of `worker`, `start`, `signal`, `context`
    and `describe` reach the dev server, its default namespace and one task queue."""
    queue = f"flags-{uuid.uuid4().hex[:6]}"
    env = dev_server.env(
        TEMPORAL_ADDRESS=NOWHERE,
        TEMPORAL_NAMESPACE="no-such-namespace",
        SOE_TASK_QUEUE="not-this-queue",
        SOE_TOOLS="examples.tools:TOOLS",
    )
    flags = ["--address", dev_server.address, "--namespace", "default", "--task-queue", queue]
    spawn([CLI, "worker", *flags], env, stderr=subprocess.DEVNULL)

    context = '{"request": "laptop"}'
    started = _cli(["start", *APPROVAL, "--context", context, "--wait", *flags], env)
    assert started.returncode == 0, started.stderr
    execution_id = started.stdout.strip()
    temporal = await Client.connect(dev_server.address)
    assert (await temporal.get_workflow_handle(execution_id).describe()).task_queue == queue

    as_json = _cli(["context", execution_id, "--json", *flags], env)
    assert as_json.returncode == 0, as_json.stderr
    values = json.loads(as_json.stdout)
    assert values["request"] == ["laptop"]
    readable = _cli(["context", execution_id, *flags], env)
    assert readable.returncode == 0, readable.stderr
    assert "request: [laptop]" in readable.stdout.splitlines()
    assert yaml.safe_load(readable.stdout) == values  # the same content, for people

    status = json.loads(_cli(["describe", execution_id, "--json", *flags], env).stdout)
    assert status["status"] == "RUNNING" and status["idle"] is True
    readable = _cli(["describe", execution_id, *flags], env).stdout
    lines = readable.splitlines()
    assert f"execution_id: {execution_id}" in lines and "status: RUNNING" in lines
    assert "idle: true" in lines and "workflow_name: waiting_workflow" in lines
    assert yaml.safe_load(readable) == status

    signalled = _cli(["signal", execution_id, "APPROVED", "--wait", *flags], env)
    assert signalled.returncode == 0, signalled.stderr
    values = json.loads(_cli(["context", execution_id, "--json", *flags], env).stdout)
    assert values["final_result"] == [{"status": "approved", "next_step": "order placed"}]


async def test_a_command_without_flags_uses_the_environment_and_says_what_fixes_a_failure(
    dev_server: DevServerInfo,
):
    env = dev_server.env(TEMPORAL_ADDRESS=NOWHERE)
    failed = _cli(["describe", "any-execution"], env)
    assert failed.returncode == 1
    assert f"Cannot reach Temporal at {NOWHERE}" in failed.stderr
    assert "--address" in failed.stderr and "soe-temporal dev" in failed.stderr
    assert "Traceback" not in failed.stderr and failed.stdout == ""

    reached = _cli(["signal", "x", "GO", "--address", dev_server.address], env)
    assert reached.returncode == 1  # the server answered: no such execution there
    assert "No execution 'x'" in reached.stderr

    queue = f"nobody-{uuid.uuid4().hex[:6]}"
    env = dev_server.env(SOE_TASK_QUEUE=queue)
    status = json.loads(_cli(["describe", _start(env), "--json"], env).stdout)
    assert f"no worker polls task queue '{queue}'" in status["unanswered"]["because"]


def _start(env: dict[str, str], *flags: str) -> str:
    started = _cli(["start", *APPROVAL, *flags], env)
    assert started.returncode == 0, started.stderr
    return started.stdout.strip()


def _profile_env(dev_server: DevServerInfo, config: Path, **extra: str) -> dict[str, str]:
    """An environment with no TEMPORAL_ADDRESS or TEMPORAL_NAMESPACE: the profile decides."""
    env = dev_server.env(TEMPORAL_CONFIG_FILE=str(config), **extra)
    for name in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"):
        env.pop(name, None)
    return env


async def test_a_profile_of_the_temporal_config_file_is_where_commands_connect(
    dev_server: DevServerInfo, tmp_path: Path
):
    """TEMPORAL_PROFILE names a profile of TEMPORAL_CONFIG_FILE, as for the `temporal` CLI;
    `run` uses its address instead of starting the embedded server."""
    config = tmp_path / "temporal.toml"
    config.write_text(
        f'[profile.default]\naddress = "{NOWHERE}"\n\n'
        f'[profile.soe]\naddress = "{dev_server.address}"\nnamespace = "default"\n'
    )
    queue = f"profile-{uuid.uuid4().hex[:6]}"
    embedded_db = tmp_path / "embedded" / "temporal.db"
    env = _profile_env(
        dev_server,
        config,
        TEMPORAL_PROFILE="soe",
        SOE_TASK_QUEUE=queue,
        SOE_TOOLS="examples.tools:TOOLS",
        # Were `run` to start its embedded server, it would be here.
        SOE_DEV_PORT=str(free_port()),
        SOE_DEV_DB=str(embedded_db),
    )
    ran = _cli(["run", *APPROVAL, "--id", f"profiled-{queue}"], env)
    assert ran.returncode == 0, ran.stderr
    assert "starting the embedded Temporal dev server" not in ran.stderr
    assert not embedded_db.parent.exists()
    status = json.loads(_cli(["describe", f"profiled-{queue}", "--json"], env).stdout)
    assert status["status"] == "RUNNING" and status["workflow_name"] == "waiting_workflow"

    # The default profile (no TEMPORAL_PROFILE) points nowhere; --address beats it.
    default = _profile_env(dev_server, config)
    default.pop("TEMPORAL_PROFILE", None)
    failed = _cli(["describe", f"profiled-{queue}"], default)
    assert failed.returncode == 1 and f"Cannot reach Temporal at {NOWHERE}" in failed.stderr
    flagged = _cli(["describe", f"profiled-{queue}", "--address", dev_server.address], default)
    assert flagged.returncode == 0, flagged.stderr

    missing = _cli(["describe", "x"], {**default, "TEMPORAL_PROFILE": "absent"})
    assert missing.returncode == 2
    assert "Profile 'absent' not found" in missing.stderr and "TEMPORAL_PROFILE" in missing.stderr


def _connection_of(*argv: str) -> cli._Connection:
    return cli._connection(cli._parser().parse_args(["describe", "x", *argv]))


def test_the_connection_flags_override_the_variables_and_empty_variables_count_as_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(tmp_path / "none.toml"))
    monkeypatch.delenv("TEMPORAL_PROFILE", raising=False)
    monkeypatch.setenv("TEMPORAL_ADDRESS", "from-env:7233")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "env-namespace")
    monkeypatch.setenv("TEMPORAL_API_KEY", "key")
    connection = _connection_of("--address", "flag:7233", "--namespace", "flagged")
    assert connection.configured and connection.address == "flag:7233"
    assert connection.namespace == "flagged"
    assert connection.options["api_key"] == "key"  # what no flag names stays the environment's
    assert _connection_of().address == "from-env:7233"
    assert _connection_of().namespace == "env-namespace"

    for name in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("SOE_DEV_PORT", "7299")
    unset = _connection_of()
    assert not unset.configured  # so `run` would start its embedded server
    assert unset.options == {"target_host": "localhost:7299"}
    assert unset.namespace == "default"


def test_the_task_queue_flag_overrides_soe_task_queue(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SOE_TASK_QUEUE", "from-env")
    parse = cli._parser().parse_args
    assert cli._task_queue(parse(["worker", "--task-queue", "flagged"])) == "flagged"
    assert cli._task_queue(parse(["worker"])) == "from-env"
    monkeypatch.delenv("SOE_TASK_QUEUE")
    assert cli._task_queue(parse(["worker"])) == "soe"
