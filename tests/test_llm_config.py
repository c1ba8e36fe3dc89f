"""Choosing the LLM provider: SOE_LLM=fake (default) | openai | module:callable."""

from __future__ import annotations

import pytest

from soe_temporal import ConfigError
from soe_temporal.llm.providers import (
    CallableProvider,
    LlmAnswer,
    as_provider,
    provider_from_environment,
)
from soe_temporal.llm.providers.fake import FakeProvider
from soe_temporal.llm.providers.openai_compatible import OpenAIProvider


def answer(prompt: str, config: dict) -> str:
    return '"from a module"'


def test_the_fake_provider_is_the_default(monkeypatch):
    monkeypatch.delenv("SOE_LLM", raising=False)
    provider = provider_from_environment()
    assert isinstance(provider, FakeProvider)
    assert "fake" in provider.description


def test_openai_reads_base_url_key_and_model_from_the_environment(monkeypatch):
    monkeypatch.setenv("SOE_LLM", "openai")
    monkeypatch.setenv("SOE_LLM_MODEL", "llama3.1")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "ollama")
    provider = provider_from_environment()
    assert isinstance(provider, OpenAIProvider)
    assert provider.default_model == "llama3.1"
    assert provider.base_url == "http://localhost:11434/v1"


def test_openai_without_a_model_says_which_variable_to_set(monkeypatch):
    monkeypatch.setenv("SOE_LLM", "openai")
    monkeypatch.delenv("SOE_LLM_MODEL", raising=False)
    with pytest.raises(ConfigError, match="SOE_LLM_MODEL"):
        provider_from_environment()


async def test_a_module_callable_is_soe_s_call_llm(monkeypatch):
    monkeypatch.setenv("SOE_LLM", "tests.test_llm_config:answer")
    provider = provider_from_environment()
    assert isinstance(provider, CallableProvider)
    assert await provider.complete("prompt", {}, None) == LlmAnswer('"from a module"')


@pytest.mark.parametrize(
    "spec", ["nonsense", "no_such_module:answer", "tests.test_llm_config:missing"]
)
def test_a_wrong_soe_llm_is_a_clear_config_error(monkeypatch, spec):
    monkeypatch.setenv("SOE_LLM", spec)
    with pytest.raises(ConfigError, match="SOE_LLM"):
        provider_from_environment()


def test_call_llm_must_be_callable():
    with pytest.raises(ConfigError, match="call_llm"):
        as_provider("not a function")
