"""What a provider is: one model call, and how a failed call tells Temporal whether to
retry it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol, runtime_checkable


class LlmProviderError(Exception):
    """A failed model call, with what Temporal should do about it."""

    def __init__(self, message: str, retryable: bool, retry_after: timedelta | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


@runtime_checkable
class LlmProvider(Protocol):
    """Makes one model call; ``config`` is the node's config plus its ``name``."""

    description: str

    async def complete(
        self, prompt: str, config: dict[str, Any], system_prompt: str | None
    ) -> str: ...
