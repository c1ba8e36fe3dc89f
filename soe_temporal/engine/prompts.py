"""What LLM and agent prompts carry besides the task: the context fields a prompt
references (F-CTX-9) and the conversation history as text (F-HIST-4, F-AGENT-10)."""

from __future__ import annotations

import json
import re
from typing import Any

from .context import is_internal_field

# From `{{` up to the first `}`; the greedy prefix keeps only the last `context.` reference
# before that brace (Q-17, kept).
_REFERENCE = re.compile(
    r"\{\{[^}]*context(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[['\"]([A-Za-z_][A-Za-z0-9_]*)['\"]\])"
)


def referenced_fields(prompt: str) -> list[str]:
    """The context fields a prompt template references inside ``{{ ... }}``."""
    names: list[str] = []
    for match in _REFERENCE.finditer(prompt):
        name = match.group(1) or match.group(2)
        if name not in names:
            names.append(name)
    return names


def prompt_context(prompt: str, context: dict[str, Any], empty: str = "") -> tuple[str, list[str]]:
    """F-CTX-9: the referenced fields' latest values as indented JSON, and warnings.

    ``empty`` is what an empty selection renders as: ``""`` for LLM nodes, ``"{}"`` for
    agents.
    """
    selected: dict[str, Any] = {}
    warnings: list[str] = []
    for name in referenced_fields(prompt):
        if name not in context:
            warnings.append(f"Context field '{name}' referenced in prompt but not found in context")
            continue
        stored = context[name]
        value = stored if is_internal_field(name) else (stored[-1] if stored else None)
        if value is None:
            warnings.append(f"Context field '{name}' is None")
        elif value == "":
            warnings.append(f"Context field '{name}' is empty string")
        selected[name] = value
    if not selected:
        return empty, warnings
    return json.dumps(selected, indent=2, default=str), warnings


def history_text(entries: list[dict[str, Any]]) -> str:
    """F-HIST-4: ``[role]: content`` per entry, one per line."""
    return "\n".join(
        f"[{entry.get('role', 'unknown')}]: {entry.get('content', '')}" for entry in entries
    )
