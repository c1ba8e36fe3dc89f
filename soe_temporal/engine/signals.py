"""What may be delivered to an execution as signals."""

from __future__ import annotations

from typing import Any


def signal_list_problem(signals: Any) -> str | None:
    """Why ``signals`` is not a non-empty list of signal names, or ``None``."""
    if not isinstance(signals, list):
        return f"signals must be a list of signal names, e.g. ['APPROVED']; got {type(signals).__name__}"
    if not signals:
        return "signals must not be empty: give at least one signal name, e.g. ['APPROVED']"
    if not all(isinstance(signal, str) and signal for signal in signals):
        return f"signals must be signal names (non-empty strings); got {signals!r}"
    return None
