"""SOE's context: every ordinary field is the list of all values ever written to it.

Fields whose name starts with ``__`` (``__operational__``, ``__parent__``, a user's
``__x``) are stored raw. See SOE_SPEC §7 (F-CTX-1..12).
"""

from __future__ import annotations

import copy
from typing import Any

OPERATIONAL = "__operational__"
PARENT = "__parent__"


def is_internal_field(name: str) -> bool:
    """F-CTX-4: ``__``-prefixed fields are stored raw and hidden from context tools."""
    return name.startswith("__")


def write_field(context: dict[str, Any], field: str, value: Any) -> None:
    """F-CTX-2: append ``value`` to the field's history; ``__`` fields are replaced."""
    if is_internal_field(field):
        context[field] = value
    elif field in context:
        context[field].append(value)
    else:
        context[field] = [value]


def read_field(context: dict[str, Any], field: str) -> Any:
    """F-CTX-3: the latest value of a field, or ``None`` when it was never written."""
    if is_internal_field(field):
        return context.get(field)
    history = context.get(field)
    return history[-1] if history else None


def jinja_view(context: dict[str, Any]) -> dict[str, Any]:
    """F-CTX-6: what templates see as ``context``: latest values, ``__`` fields raw."""
    return {
        name: (value if is_internal_field(name) else (value[-1] if value else None))
        for name, value in context.items()
    }


def accumulated_value(context: dict[str, Any], value: Any, field_name: str | None = None) -> list:
    """F-CTX-7: the whole history of the field whose latest value is ``value``.

    ``field_name`` is our fix of Q-4: when a template wrote ``context.NAME | accumulated``
    the field is resolved by name, so two fields with equal latest values no longer share
    a history. Without a name (any other expression) SOE's value matching applies.
    """
    if field_name is not None and not is_internal_field(field_name):
        history = context.get(field_name)
        if isinstance(history, list) and history:
            return _unwrap_single_list(history)
    for name, history in context.items():
        if is_internal_field(name) or not isinstance(history, list) or not history:
            continue
        if _equal(history[-1], value):
            return _unwrap_single_list(history)
    return [] if value is None else [value]


def accumulated_items(context: dict[str, Any], field: str) -> list:
    """F-CTX-11: the items a fan-out iterates over (a copy)."""
    history = context.get(field)
    if not history:
        return []
    return copy.deepcopy(_unwrap_single_list(history))


def _unwrap_single_list(history: list) -> list:
    # Q-6 (kept): a history whose only entry is a list stands for that list.
    if len(history) == 1 and isinstance(history[0], list):
        return history[0]
    return history


def _equal(left: Any, right: Any) -> bool:
    try:
        return bool(left == right)
    except Exception:
        return False


def build_initial_context(initial_context: dict[str, Any]) -> dict[str, Any]:
    """F-CTX-5: wrap every ordinary value in a one-element history; ``__`` keys stay raw."""
    return {
        name: (copy.deepcopy(value) if is_internal_field(name) else [copy.deepcopy(value)])
        for name, value in initial_context.items()
    }


def inherit_context(source: dict[str, Any], initial_context: dict[str, Any]) -> dict[str, Any]:
    """F-INH-3: a copy of another execution's context without its operational state and
    parent link, with ``initial_context`` written into it by the normal write rule."""
    context = {
        name: copy.deepcopy(value)
        for name, value in source.items()
        if name not in (OPERATIONAL, PARENT)
    }
    merge_into_context(context, initial_context)
    return context


def merge_into_context(context: dict[str, Any], updates: dict[str, Any]) -> None:
    """F-INH-3: write each value with the normal write rule (append; ``__`` replaced)."""
    for name, value in updates.items():
        write_field(context, name, copy.deepcopy(value))
