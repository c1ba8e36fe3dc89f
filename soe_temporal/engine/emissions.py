"""Which signals a node emits (SOE_SPEC §8, F-SIG-1..8)."""

from __future__ import annotations

from typing import Any

from .templates import condition_holds, has_jinja


def condition_of(emission: dict[str, Any]) -> str:
    """F-SIG-1: an absent, null or empty condition means unconditional."""
    condition = emission.get("condition")
    return condition if isinstance(condition, str) else ""


def is_jinja_condition(emission: dict[str, Any]) -> bool:
    """F-SIG-2 with our Q-3 fix: ``{{`` or ``{%`` anywhere, multi-line included."""
    return has_jinja(condition_of(emission))


def has_jinja_condition(emissions: list[dict[str, Any]] | None) -> bool:
    """Whether any of a node's emissions has a Jinja condition (which then needs the
    context as the node saw it)."""
    # A loop, not any() over a generator (a frame of its own): this runs at every firing.
    for emission in emissions or ():  # noqa: SIM110
        if is_jinja_condition(emission):
            return True
    return False


def programmatic_emission(
    emissions: list[dict[str, Any]] | None, context: dict[str, Any], **extra: Any
) -> list[str]:
    """F-SIG-5: every unconditional or plain-text entry, and every Jinja entry that holds.

    ``context`` is the stored context the node sees (its snapshot); ``extra`` adds
    variables such as a tool's ``result`` (F-TOOL-8). Order and duplicates are kept.
    """
    signals: list[str] = []
    for emission in emissions or []:
        if is_jinja_condition(emission) and not condition_holds(
            condition_of(emission), context, **extra
        ):
            continue
        signals.append(emission["signal_name"])
    return signals
