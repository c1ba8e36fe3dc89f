"""The sync-over-async runtime and soe-ai's names under soe-ai's module paths."""

from __future__ import annotations

import asyncio

import pytest

from soe_temporal import ConfigError
from soe_temporal.errors import SyncCallFromRuntimeLoopError
from soe_temporal.soe import broadcast_signals
from soe_temporal.soe.runtime import run, runtime


def test_a_sync_call_from_a_coroutine_on_the_runtime_loop_is_refused_not_hung(backends):
    async def async_tool_like() -> None:
        broadcast_signals(execution_id="x", signals=["GO"], backends=backends)

    future = asyncio.run_coroutine_threadsafe(async_tool_like(), runtime().loop)
    with pytest.raises(SyncCallFromRuntimeLoopError, match="current_soe_client"):
        future.result(timeout=10)


def test_run_works_from_a_thread_that_runs_its_own_event_loop():
    async def inside_a_loop() -> int:
        async def answer() -> int:
            return 42

        return run(answer())

    assert asyncio.run(inside_a_loop()) == 42


def test_soe_ai_names_import_from_soe_ai_module_paths():
    from soe_temporal.soe import (  # noqa: F401
        AgentRequest,
        AgentResponse,
        Backends,
        CallLlm,
        ToolNodeConfigurationError,
        ToolParameterError,
    )
    from soe_temporal.soe.broker import broadcast_signals, orchestrate  # noqa: F401
    from soe_temporal.soe.init import create_all_nodes, setup_orchestration  # noqa: F401
    from soe_temporal.soe.local_backends import create_in_memory_backends  # noqa: F401
    from soe_temporal.soe.local_backends.factory import LocalBackends  # noqa: F401
    from soe_temporal.soe.types import EventTypes, SoeError, WorkflowValidationError
    from soe_temporal.soe.validation import OperationalValidationError

    assert EventTypes.SIGNALS_BROADCAST == "signals_broadcast"
    assert issubclass(WorkflowValidationError, ConfigError)
    assert issubclass(OperationalValidationError, SoeError)
    assert AgentResponse().emitted_signals == []


def test_workflow_validation_error_is_importable_from_the_package_and_types():
    from soe_temporal.soe import WorkflowValidationError as from_package
    from soe_temporal.soe.types import WorkflowValidationError as from_types

    assert from_package is from_types


def test_backends_cannot_be_built_by_hand():
    from soe_temporal.soe.local_backends.factory import LocalBackends

    with pytest.raises(TypeError, match="create_in_memory_backends"):
        LocalBackends(object(), object())
