"""What may be delivered to an execution as signals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def signal_list_problem(signals: Any) -> str | None:
    """Why ``signals`` is not a list of signal names, or ``None``. An empty list is a
    broadcast of nothing, as in SOE (F-API-2: logged, triggering no node); only a start
    needs a signal (D-8, config.check_start_parameters)."""
    if not isinstance(signals, list):
        return f"signals must be a list of signal names, e.g. ['APPROVED']; got {type(signals).__name__}"
    if not all(isinstance(signal, str) and signal for signal in signals):
        return f"signals must be signal names (non-empty strings); got {signals!r}"
    return None


@dataclass(frozen=True)
class ExternalSignals:
    """Signals sent to an execution from outside, as read from what the sender gave:
    the names, the request id that makes sending them again harmless, or why the input
    cannot be delivered."""

    signals: list[str]
    request_id: str | None = None
    problem: str | None = None


def read_external_signals(value: Any) -> ExternalSignals:
    """A list of names (``["APPROVED"]``), a single name, or a mapping
    ``{"signals": [...], "request_id": "..."}``."""
    request_id = None
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"signals", "request_id"})
        request_id = value.get("request_id")
        if unknown:
            return ExternalSignals(
                [], None, f"unknown keys {unknown}: only 'signals' and 'request_id'"
            )
        if request_id is not None and not (isinstance(request_id, str) and request_id):
            return ExternalSignals(
                [], None, f"request_id must be a non-empty string; got {request_id!r}"
            )
        value = value.get("signals")
    names = [value] if isinstance(value, str) else value
    problem = signal_list_problem(names)
    if problem:
        return ExternalSignals([], None, problem)
    return ExternalSignals(list(names), request_id)
