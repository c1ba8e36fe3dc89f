"""LLM providers: what the LLM activity calls. I/O lives here, never in the engine.

A provider answers ``complete(prompt, config, system_prompt)`` with the model's raw text.
SOE's own contract, ``call_llm(prompt, config) -> str`` (plain or async), is wrapped as
one. Providers raise :class:`LlmProviderError` to tell the activity whether Temporal should
retry (rate limits, server errors, timeouts) or fail the node at once (bad credentials,
bad requests).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable

from ..errors import ConfigError
from ..invoke import invoke


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


class CallableProvider:
    """SOE's ``call_llm(prompt, config)``, plain (run in a thread) or async.

    Exceptions it raises are never retried (F-PROTO-6): they fail the node.
    """

    def __init__(
        self, call_llm: Callable[[str, dict[str, Any]], Any], executor: Executor | None = None
    ) -> None:
        self._call_llm = call_llm
        self._executor = executor
        self.description = f"call_llm {getattr(call_llm, '__qualname__', repr(call_llm))}"

    async def complete(self, prompt: str, config: dict[str, Any], system_prompt: str | None) -> str:
        return await invoke(self._call_llm, (prompt, config), {}, self._executor)


def as_provider(call_llm: Any, executor: Executor | None = None) -> LlmProvider | None:
    """A provider from what ``create_worker(call_llm=...)`` was given."""
    if call_llm is None or isinstance(call_llm, LlmProvider):
        return call_llm
    if callable(call_llm):
        return CallableProvider(call_llm, executor)
    raise ConfigError(
        f"call_llm must be a function call_llm(prompt, config) -> str or an LLM provider; "
        f"got {type(call_llm).__name__}"
    )


def provider_from_environment(spec: str | None = None) -> LlmProvider:
    """The provider SOE_LLM names: ``fake`` (default), ``openai``, or ``module:callable``."""
    spec = (spec if spec is not None else os.environ.get("SOE_LLM", "")).strip() or "fake"
    if spec == "fake":
        from .fake import FakeProvider

        return FakeProvider()
    if spec == "openai":
        from .openai_provider import OpenAIProvider

        return OpenAIProvider.from_environment()
    module_name, _, attribute = spec.partition(":")
    if not attribute:
        raise ConfigError(
            f"SOE_LLM={spec!r}: use 'fake', 'openai', or 'module:callable' (a call_llm function)"
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise ConfigError(
            f"SOE_LLM={spec}: cannot load '{attribute}' from '{module_name}': {error}"
        ) from None
    provider = as_provider(target)
    assert provider is not None
    return provider
