"""The tokens an execution's model calls used, per node and per model.

Every model call whose provider reports usage counts, whatever its answer was worth (an
invalid answer that led to a retry was paid for too), an agent's calls of every stage
included. Carried across continue-as-new in the execution's state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..llm.usage import TokenUsage

# Where usage counts that name no model.
UNNAMED_MODEL = "unknown"


@dataclass(slots=True)
class TokenCount:
    prompt: int = 0
    completion: int = 0
    total: int = 0

    def add(self, usage: TokenUsage) -> None:
        self.prompt += usage.prompt_tokens
        self.completion += usage.completion_tokens
        self.total += usage.total_tokens

    def to_dict(self) -> dict[str, int]:
        return {"prompt": self.prompt, "completion": self.completion, "total": self.total}


@dataclass(slots=True)
class TokenAccount:
    """``estimated`` once any count added was a provider's estimate, not a model's."""

    by_node: dict[str, TokenCount] = field(default_factory=dict)
    by_model: dict[str, TokenCount] = field(default_factory=dict)
    estimated: bool = False

    @property
    def total(self) -> int:
        return sum(count.total for count in self.by_node.values())

    def add(self, node_name: str, usage: TokenUsage) -> None:
        self.by_node.setdefault(node_name, TokenCount()).add(usage)
        self.by_model.setdefault(usage.model or UNNAMED_MODEL, TokenCount()).add(usage)
        self.estimated = self.estimated or usage.estimated

    def describe(self) -> dict[str, Any]:
        """As ``describe()`` shows it."""
        return {
            "total": self.total,
            "estimated": self.estimated,
            "by_node": {name: count.to_dict() for name, count in self.by_node.items()},
            "by_model": {name: count.to_dict() for name, count in self.by_model.items()},
        }
