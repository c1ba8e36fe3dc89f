"""soe-ai's ``soe.nodes`` names: the agent request/response shapes and the tool errors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["AgentRequest", "AgentResponse", "ToolNodeConfigurationError", "ToolParameterError"]


class AgentRequest(BaseModel):
    agent_id: str
    prompt: str
    agent_config: dict[str, Any]
    tool_responses: dict[str, Any] = Field(default_factory=dict)


class AgentResponse(BaseModel):
    output: Any = None
    tool_calls: dict[str, Any] = Field(default_factory=dict)
    emitted_signals: list[str] = Field(default_factory=list)
    needs_clarification: bool = False
    clarification_message: str = ""


class ToolNodeConfigurationError(Exception):
    """soe-ai's error for a misconfigured tool node."""


class ToolParameterError(Exception):
    """soe-ai's error for tool parameters that do not fit the tool."""
