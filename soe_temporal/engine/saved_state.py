"""soe-ai's backend writes on a running execution: a whole context, identities or a
context schema saved from outside (``backends.context.save_context`` and the like).

soe-ai's backends store what they are given; an execution here checks it first, so that a
write cannot leave it unable to run its nodes: the context keeps SOE's stored shape
(F-CTX-1: every ordinary field a non-empty history list) and a valid ``__operational__``
(F-VAL-14) whose ``main_execution_id`` stays the tree's (F-OPS-1), and the lineage fields
(``__parent__``) stay as they are.
"""

from __future__ import annotations

from typing import Any

from .context import OPERATIONAL, PARENT, is_internal_field
from .operational import operational_problem

PARTS = ("context", "identities", "context_schema")


def saved_context_problem(current: dict[str, Any], saved: Any, execution_id: str) -> str | None:
    """Why ``saved`` cannot replace the context ``current`` of ``execution_id``, or None."""
    if not isinstance(saved, dict):
        return f"a context is a mapping of field names, got {type(saved).__name__}"
    for name, value in saved.items():
        if not isinstance(name, str):
            return f"field names are strings, got {name!r}"
        if not is_internal_field(name) and (not isinstance(value, list) or not value):
            return (
                f"field '{name}' must be the list of its values, oldest first, as "
                "get_context() returns it (SOE stores every value written); got "
                f"{type(value).__name__}{' (empty)' if isinstance(value, list) else ''}"
            )
    problem = operational_problem(saved, execution_id)
    if problem:
        return problem
    main_id = current.get(OPERATIONAL, {}).get("main_execution_id")
    if saved[OPERATIONAL]["main_execution_id"] != main_id:
        return (
            "'__operational__.main_execution_id' names the tree this execution belongs to "
            f"('{main_id}') and cannot change"
        )
    if saved.get(PARENT) != current.get(PARENT):
        return "'__parent__' links this execution to its parent and cannot change"
    return None


def saved_mapping_problem(part: str, saved: Any) -> str | None:
    """Why ``saved`` cannot be an execution's identities or context schema, or None."""
    if not isinstance(saved, dict) or not all(isinstance(name, str) for name in saved):
        return f"{part} are a mapping from names, got {type(saved).__name__}"
    if part == "identities":
        wrong = [name for name, prompt in saved.items() if not isinstance(prompt, str)]
        if wrong:
            return f"identities map names to system prompts (strings); not so for {wrong}"
    return None
