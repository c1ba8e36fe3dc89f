"""What a provider is: one model call, its answer (the text, and the tokens it used when
the provider knows them), and how a failed call tells Temporal whether to retry it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable

from ..usage import TokenUsage


class LlmProviderError(Exception):
    """A failed model call, with what Temporal should do about it."""

    def __init__(self, message: str, retryable: bool, retry_after: timedelta | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass(frozen=True)
class LlmAnswer:
    """A model's raw text, and the tokens the call used (``None`` when not reported, as
    for SOE's ``call_llm`` functions, which return text only)."""

    text: str
    usage: TokenUsage | None = None


@runtime_checkable
class LlmProvider(Protocol):
    """Makes one model call; ``config`` is the node's config plus its ``name``.

    A provider written before usage was reported may still answer with the bare text."""

    description: str

    async def complete(
        self, prompt: str, config: dict[str, Any], system_prompt: str | None
    ) -> LlmAnswer: ...
