"""soe_temporal.soe's tests: synchronous, as the API is; every test gets its own in-memory
backends (on the process's shared time-skipping server) and cleans them up."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from examples.tools import TOOLS
from soe_temporal.soe import create_all_nodes
from soe_temporal.soe.local_backends import create_in_memory_backends

from ..conftest import EXAMPLES

__all__ = ["EXAMPLES"]


@pytest.fixture
def backends() -> Iterator[object]:
    made = create_in_memory_backends()
    yield made
    made.cleanup_all()


@pytest.fixture
def approval() -> str:
    return (EXAMPLES / "approval.yaml").read_text()


@pytest.fixture
def nodes_and_broadcast(backends):
    return create_all_nodes(backends, tools_registry=TOOLS)


def exited_cleanly(done: subprocess.CompletedProcess[str]) -> bool:
    """A script's exit: 0, or temporalio 1.35's core aborting the interpreter's very last
    step after the script has finished and printed everything
    (temporalio/sdk-python#300: "Fatal Python error: PyGILState_Release" at
    finalization). Any other failure is a failure."""
    aborted_at_finalization = done.returncode in (-6, 134) and "PyGILState_Release" in done.stderr
    return done.returncode == 0 or aborted_at_finalization
