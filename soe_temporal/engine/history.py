"""The conversation history of an execution tree (SOE_SPEC §17, F-HIST).

One history per tree, kept by the main (root) execution. An LLM or agent node with an
identity sees it as it stands when the node starts and appends its turns to it, wherever
in the tree the node runs: in a child the execution first reads the main execution's
history (a command), then sends its appends there.
"""

from __future__ import annotations

from typing import Any

from .host import NodeHost


def conversation_for(
    host: NodeHost, identity: str | None, conversation: list[dict[str, Any]] | None
) -> list[dict[str, Any]] | None:
    """F-HIST-1/2: the tree's history when ``identity`` enables it; when it is empty, the
    identity's system prompt opens it (and is kept at once, even if the node fails)."""
    if not identity:
        return None
    history = list(conversation or [])
    if not history:
        system_prompt = host.identities.get(identity)
        if system_prompt:
            history = [{"role": "system", "content": system_prompt}]
            host.append_conversation([], opening=system_prompt)
    return history


def system_message(history: list[dict[str, Any]] | None) -> str | None:
    """The system prompt that opens the tree's history, for providers that take one as a
    system message: the first identity's, even for a node of another identity (F-HIST-2)."""
    if history and history[0].get("role") == "system":
        return str(history[0].get("content", ""))
    return None
