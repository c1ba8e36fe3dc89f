"""How a node's activity is scheduled: the ``temporal:`` block over lower layers.

Layers, lowest first: our defaults, the worker's ``tool_defaults``, the tools registry
entry's ``temporal`` mapping, the node's ``temporal:`` block. Keys merge one by one;
``retry_policy`` merges key by key too.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import temporalio.api.common.v1
from temporalio.common import RetryPolicy

DEFAULT_TOOL_OPTIONS: dict[str, Any] = {
    "start_to_close_timeout": "10m",
    # Tools heartbeat while they run, so a call on a killed worker is retried in seconds.
    "heartbeat_timeout": "10s",
    "retry_policy": {
        "initial_interval": "1s",
        "backoff_coefficient": 2.0,
        "maximum_interval": "1m",
        # Temporal retries infrastructure failures (timeouts, lost workers) only: a tool's
        # own exception is one SOE attempt, counted by max_retries.
        "maximum_attempts": 5,
    },
}

DEFAULT_LLM_OPTIONS: dict[str, Any] = {
    "start_to_close_timeout": "5m",
    # The call heartbeats while the model thinks, so a lost worker is noticed quickly.
    "heartbeat_timeout": "30s",
    "retry_policy": {
        "initial_interval": "1s",
        "backoff_coefficient": 2.0,
        "maximum_interval": "1m",
        # Rate limits, server errors and timeouts; bad keys and requests are not retried.
        "maximum_attempts": 5,
    },
}

_DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: float | int | str) -> timedelta:
    """Seconds as a number, or a string such as ``500ms``, ``30s``, ``5m``, ``2h``, ``1d``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value).strip())
    if not match:
        raise ValueError(f"not a duration: {value!r} (use seconds, or e.g. '30s', '5m', '1h')")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def merge_options(*layers: dict[str, Any] | None) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in (layer or {}).items():
            if key == "retry_policy":
                merged[key] = {**merged.get(key, {}), **(value or {})}
            else:
                merged[key] = value
    return merged


class PlannedRetryPolicy(RetryPolicy):
    """A RetryPolicy validated and written as its proto once: temporalio writes the policy
    into the command of every call, and all the calls of a node share one plan."""

    @functools.cached_property
    def _proto(self) -> temporalio.api.common.v1.RetryPolicy:
        proto = temporalio.api.common.v1.RetryPolicy()
        super().apply_to_proto(proto)
        return proto

    def apply_to_proto(self, proto: temporalio.api.common.v1.RetryPolicy) -> None:
        proto.CopyFrom(self._proto)


@dataclass(frozen=True)
class ActivityPlan:
    """Where and how one activity runs."""

    local: bool
    kwargs: dict[str, Any]


def plan_activity(options: dict[str, Any]) -> ActivityPlan:
    """Keyword arguments for ``workflow.start_activity`` or ``start_local_activity``."""
    local = bool(options.get("local"))
    kwargs: dict[str, Any] = {}
    timeouts = ["start_to_close_timeout", "schedule_to_close_timeout", "schedule_to_start_timeout"]
    if not local:
        timeouts.append("heartbeat_timeout")
        if options.get("task_queue"):
            kwargs["task_queue"] = options["task_queue"]
    for key in timeouts:
        if options.get(key) is not None:
            kwargs[key] = parse_duration(options[key])
    policy = options.get("retry_policy")
    if policy:
        kwargs["retry_policy"] = PlannedRetryPolicy(
            initial_interval=parse_duration(policy.get("initial_interval", "1s")),
            backoff_coefficient=float(policy.get("backoff_coefficient", 2.0)),
            maximum_interval=(
                parse_duration(policy["maximum_interval"])
                if policy.get("maximum_interval")
                else None
            ),
            maximum_attempts=int(policy.get("maximum_attempts", 0)),
            non_retryable_error_types=list(policy.get("non_retryable_error_types") or []) or None,
        )
    return ActivityPlan(local=local, kwargs=kwargs)
