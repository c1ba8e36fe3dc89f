"""LLM providers: what the LLM activity calls. I/O lives here, never in the engine.

A provider answers ``complete(prompt, config, system_prompt)`` with an :class:`LlmAnswer`:
the model's raw text and, when the provider knows them, the tokens the call used. SOE's own
contract, ``call_llm(prompt, config) -> str`` (plain or async), is wrapped as one that
reports no usage. Providers raise :class:`LlmProviderError` to tell the activity whether
Temporal should retry (rate limits, server errors, timeouts) or fail the node at once (bad
credentials, bad requests).
"""

from __future__ import annotations

import importlib
import os
import sys

from ...errors import ConfigError
from ..usage import TokenUsage
from .base import LlmAnswer, LlmProvider, LlmProviderError
from .call_llm import CallableProvider, as_provider

__all__ = [
    "CallableProvider",
    "LlmAnswer",
    "LlmProvider",
    "LlmProviderError",
    "TokenUsage",
    "as_provider",
    "provider_from_environment",
]


def provider_from_environment(spec: str | None = None) -> LlmProvider:
    """The provider SOE_LLM names: ``fake`` (default), ``openai``, or ``module:callable``."""
    spec = (spec if spec is not None else os.environ.get("SOE_LLM", "")).strip() or "fake"
    if spec == "fake":
        from .fake import FakeProvider

        return FakeProvider()
    if spec == "openai":
        from .openai_compatible import OpenAIProvider

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
