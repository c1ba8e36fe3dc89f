"""What the engine asks its host to do, and the answers it takes back.

The engine never performs I/O: it answers each input with commands (call this tool with
these arguments), and the host feeds each command's outcome back in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class CallTool:
    """Run one SOE attempt of a tool node (F-TOOL-7..9)."""

    call_id: str
    workflow_name: str
    node_name: str
    tool_name: str
    attempt: int
    # F-TOOL-4: inline parameters (rendered, F-TOOL-5), or the raw history of the
    # context_parameter_field, which the tool's registry entry shapes (F-TOOL-6).
    parameters: dict[str, Any] | None
    parameter_history: list[Any] | None
    # The node's optional ``temporal:`` block, for the host; the engine ignores it.
    temporal: dict[str, Any] | None


@dataclass(frozen=True)
class CallLlm:
    """One model call of an LLM node (F-LLM-2 step 6); each retry is a new call."""

    call_id: str
    workflow_name: str
    node_name: str
    attempt: int
    prompt: str
    # F-API-5 / F-PROTO-8: the node's config plus its ``name``, for every call.
    config: dict[str, Any]
    # The identity's system prompt, for providers that take one as a system message.
    system_prompt: str | None
    temporal: dict[str, Any] | None


Command = CallTool | CallLlm


@dataclass(frozen=True)
class ToolOutcome:
    """How one attempt of a tool ended.

    ``status`` is ``ok``; ``failed`` for an attempt that counts against ``max_retries``;
    or ``setup_failed`` when the tool could not be called at all (not in the registry, a
    parameter field that is not valid YAML): SOE raises those before its attempt loop.
    ``max_retries`` and ``failure_signal`` come from the tool's registry entry.
    """

    status: Literal["ok", "failed", "setup_failed"]
    result: Any = None
    error: str = ""
    max_retries: int = 0
    failure_signal: str | None = None


@dataclass(frozen=True)
class LlmOutcome:
    """How one model call ended: the model's raw text, or the provider's error (which SOE
    never retries, F-PROTO-6; Temporal has retried what was worth retrying)."""

    status: Literal["ok", "failed"]
    text: str = ""
    error: str = ""


Outcome = ToolOutcome | LlmOutcome
