"""Which signals a node emits (SOE_SPEC §8, F-SIG-1..8)."""

from __future__ import annotations

from typing import Any

from .templates import condition_holds, has_jinja


def condition_of(emission: dict[str, Any]) -> str:
    """F-SIG-1: an absent, null or empty condition means unconditional."""
    condition = emission.get("condition")
    return condition if isinstance(condition, str) else ""


def jinja_condition(emission: dict[str, Any]) -> str | None:
    """F-SIG-2 with our Q-3 fix: the emission's condition when it is a template (``{{`` or
    ``{%`` anywhere, multi-line included), else None (unconditional or plain text)."""
    # condition_of, spelt out: this runs for every emission of every firing.
    condition = emission.get("condition")
    return condition if isinstance(condition, str) and has_jinja(condition) else None


def has_jinja_condition(emissions: list[dict[str, Any]] | None) -> bool:
    """Whether any of a node's emissions has a Jinja condition (which then needs the
    context as the node saw it)."""
    # A loop, not any() over a generator (a frame of its own): this runs at every firing.
    for emission in emissions or ():  # noqa: SIM110
        if jinja_condition(emission) is not None:
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
        condition = jinja_condition(emission)
        if condition is not None and not condition_holds(condition, context, **extra):
            continue
        signals.append(emission["signal_name"])
    return signals
