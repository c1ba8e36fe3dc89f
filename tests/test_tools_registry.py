"""The tools registry a worker is given: entry shapes (F-API-6, D-1) and the F-VAL-9 entry
checks, run by normalize_registry when the worker is created; plus the optional
`temporal` mapping of activity options on an entry."""

from __future__ import annotations

from typing import Any

import pytest

from soe_temporal import ConfigError
from soe_temporal.tools.registry import ToolEntry, normalize_registry


def echo(**kwargs: Any) -> dict[str, Any]:
    return kwargs


def registry_error(registry: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        normalize_registry(registry)
    return str(info.value)


# == entry shapes ======================================================================


def test_f_api_6_bare_callable_gets_defaults() -> None:
    """F-API-6 / D-1: a bare callable has max_retries 0 and no failure signal."""
    assert normalize_registry({"echo": echo}) == {
        "echo": ToolEntry(
            name="echo",
            function=echo,
            max_retries=0,
            failure_signal=None,
            process_accumulated=False,
            temporal={},
        )
    }


def test_f_api_6_dict_entry_with_every_key() -> None:
    registry = {
        "echo": {
            "function": echo,
            "max_retries": 2,
            "failure_signal": "ECHO_FAILED",
            "process_accumulated": True,
        }
    }
    assert normalize_registry(registry)["echo"] == ToolEntry(
        name="echo",
        function=echo,
        max_retries=2,
        failure_signal="ECHO_FAILED",
        process_accumulated=True,
    )


def test_f_api_6_dict_entry_with_only_function_gets_defaults() -> None:
    """D-1: a dict entry's max_retries defaults to 0."""
    entry = normalize_registry({"echo": {"function": echo}})["echo"]
    assert (entry.max_retries, entry.failure_signal, entry.process_accumulated) == (
        0,
        None,
        False,
    )


def test_f_api_6_callable_object_is_a_callable_entry() -> None:
    class Greeter:
        def __call__(self) -> str:
            return "hi"

    greeter = Greeter()
    assert normalize_registry({"greet": greeter})["greet"].function is greeter


def test_f_api_6_no_registry_is_empty() -> None:
    assert normalize_registry(None) == {}


def test_f_api_6_entries_keep_registry_order() -> None:
    registry = {"zeta": echo, "alpha": {"function": echo}}
    assert list(normalize_registry(registry)) == ["zeta", "alpha"]


def test_f_api_6_registry_is_not_mutated() -> None:
    """Q-10 fix: resolving entries leaves the caller's registry as it was."""
    entry = {"function": echo, "max_retries": 1}
    registry = {"echo": entry}
    normalize_registry(registry)
    assert registry == {"echo": {"function": echo, "max_retries": 1}}


# == F-VAL-9 entry checks ==============================================================


def test_f_val_9_entry_neither_callable_nor_mapping() -> None:
    assert registry_error({"echo": "echo"}) == (
        "Tool 'echo' registry entry must be a callable or dict with 'function' key"
    )


def test_f_val_9_mapping_without_function() -> None:
    assert registry_error({"echo": {"max_retries": 1}}) == (
        "Tool 'echo' registry entry dict must have 'function' key"
    )


def test_f_val_9_function_not_callable() -> None:
    assert registry_error({"echo": {"function": "echo"}}) == (
        "Tool 'echo' 'function' must be callable"
    )


def test_f_val_9_negative_max_retries() -> None:
    assert registry_error({"echo": {"function": echo, "max_retries": -1}}) == (
        "Tool 'echo' 'max_retries' must be a non-negative integer"
    )


def test_f_val_9_non_integer_max_retries() -> None:
    assert registry_error({"echo": {"function": echo, "max_retries": "2"}}) == (
        "Tool 'echo' 'max_retries' must be a non-negative integer"
    )


def test_f_val_9_float_max_retries() -> None:
    assert registry_error({"echo": {"function": echo, "max_retries": 1.0}}) == (
        "Tool 'echo' 'max_retries' must be a non-negative integer"
    )


def test_f_val_9_failure_signal_not_a_string() -> None:
    assert registry_error({"echo": {"function": echo, "failure_signal": 5}}) == (
        "Tool 'echo' 'failure_signal' must be a string"
    )


def test_f_val_9_order_function_before_max_retries() -> None:
    assert registry_error({"echo": {"function": None, "max_retries": -1}}) == (
        "Tool 'echo' 'function' must be callable"
    )


def test_f_val_9_order_max_retries_before_failure_signal() -> None:
    entry = {"function": echo, "max_retries": -1, "failure_signal": 5}
    assert registry_error({"echo": entry}) == (
        "Tool 'echo' 'max_retries' must be a non-negative integer"
    )


def test_f_val_9_first_bad_entry_in_registry_order_is_reported() -> None:
    registry = {"ok": echo, "zeta": 5, "alpha": {}}
    assert registry_error(registry) == (
        "Tool 'zeta' registry entry must be a callable or dict with 'function' key"
    )


# == the entry's `temporal` mapping ====================================================


def test_temporal_options_kept() -> None:
    options = {
        "start_to_close_timeout": "30s",
        "heartbeat_timeout": 5,
        "retry_policy": {"maximum_attempts": 3, "backoff_coefficient": 2},
    }
    entry = normalize_registry({"echo": {"function": echo, "temporal": options}})["echo"]
    assert entry.temporal == options


def test_temporal_unknown_key_refused() -> None:
    message = registry_error({"echo": {"function": echo, "temporal": {"timeout": 5}}})
    assert message.startswith("Tool 'echo': 'temporal'") and "'timeout'" in message


def test_temporal_bad_duration_refused() -> None:
    entry = {"function": echo, "temporal": {"start_to_close_timeout": "soon"}}
    message = registry_error({"echo": entry})
    assert message.startswith("Tool 'echo': 'temporal.start_to_close_timeout'")
    assert "'soon'" in message


def test_temporal_unknown_retry_policy_key_refused() -> None:
    entry = {"function": echo, "temporal": {"retry_policy": {"max_attempts": 3}}}
    message = registry_error({"echo": entry})
    assert message.startswith("Tool 'echo': 'temporal.retry_policy'")
    assert "'max_attempts'" in message


def test_temporal_not_a_mapping_refused() -> None:
    """An invalid `temporal` value is a ConfigError naming the tool, not a crash."""
    message = registry_error({"echo": {"function": echo, "temporal": 5}})
    assert message.startswith("Tool 'echo'") and "temporal" in message


def test_temporal_local_with_task_queue_refused() -> None:
    """Same rule as a node's `temporal` block: a local activity has no task queue."""
    entry = {"function": echo, "temporal": {"local": True, "task_queue": "gpu"}}
    message = registry_error({"echo": entry})
    assert message.startswith("Tool 'echo'")
    assert "local" in message and "task_queue" in message
