"""Any OpenAI-compatible Chat Completions server (OpenAI, vLLM, Ollama, LM Studio, ...).

Configured by the environment of the worker, so the API key never enters a workflow
history: OPENAI_BASE_URL, OPENAI_API_KEY, SOE_LLM_MODEL (default model). A node's
``model`` and ``temperature`` keys override per node; the identity's system prompt is sent
as the system message. The client does not retry: Temporal does (429, 5xx, timeouts and
connection errors with backoff, honouring retry-after); 400/401/403/404/422 fail the node.
Each call reports the tokens the server says it used (``usage``) and the model that answered.
"""

from __future__ import annotations

import math
import os
from datetime import timedelta
from typing import Any

import openai
from openai import AsyncOpenAI

from ...errors import ConfigError
from ..usage import TokenUsage
from .base import LlmAnswer, LlmProviderError

RETRYABLE_STATUS = {408, 409, 429}
DEFAULT_TIMEOUT_SECONDS = 600.0


class OpenAIProvider:
    def __init__(
        self,
        default_model: str,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.default_model = default_model
        self.base_url = base_url
        self._client = AsyncOpenAI(
            api_key=api_key or "not-needed",  # local servers (Ollama, vLLM) accept anything
            base_url=base_url,
            max_retries=0,
            timeout=timeout_seconds,
        )
        self.description = (
            f"OpenAI-compatible {base_url or 'api.openai.com'}, model {default_model}"
        )

    @classmethod
    def from_environment(cls) -> OpenAIProvider:
        model = os.environ.get("SOE_LLM_MODEL", "").strip()
        if not model:
            raise ConfigError(
                "SOE_LLM=openai needs a default model: set SOE_LLM_MODEL (e.g. gpt-4o-mini, "
                "or the name your OpenAI-compatible server serves); nodes may override it "
                "with a `model` key."
            )
        return cls(
            default_model=model,
            api_key=os.environ.get("OPENAI_API_KEY") or None,
            base_url=os.environ.get("OPENAI_BASE_URL") or None,
        )

    async def complete(
        self, prompt: str, config: dict[str, Any], system_prompt: str | None
    ) -> LlmAnswer:
        messages: list[dict[str, str]] = []
        if system_prompt:
            messages.append({"role": "system", "content": system_prompt})
        messages.append({"role": "user", "content": prompt})
        options: dict[str, Any] = {"model": config.get("model") or self.default_model}
        if config.get("temperature") is not None:
            options["temperature"] = config["temperature"]
        try:
            response = await self._client.chat.completions.create(messages=messages, **options)
        except openai.APIStatusError as error:
            raise _status_error(error, options["model"]) from None
        except openai.APIConnectionError as error:  # includes timeouts
            raise LlmProviderError(
                f"Could not reach the model server at {self.base_url or 'api.openai.com'}: {error}",
                retryable=True,
            ) from None
        choices = getattr(response, "choices", None)
        if choices is None:  # e.g. an HTML page: OPENAI_BASE_URL is not a Chat Completions API
            raise LlmProviderError(
                f"The server at {self.base_url or 'api.openai.com'} did not answer with a chat "
                "completion; check OPENAI_BASE_URL (it usually ends in /v1).",
                retryable=False,
            )
        if not choices:
            raise LlmProviderError("The model server answered with no choices.", retryable=True)
        message = choices[0].message
        refusal = getattr(message, "refusal", None)
        if refusal:
            raise LlmProviderError(f"The model refused to answer: {refusal}", retryable=False)
        return LlmAnswer(message.content or "", _usage(response, options["model"]))


def _usage(response: Any, requested_model: str) -> TokenUsage | None:
    """The tokens the server says the call used, and the model that answered (servers
    may name it more precisely than it was asked for); ``None`` when the server says
    nothing of usage."""
    usage = getattr(response, "usage", None)
    if usage is None:
        return None
    prompt_tokens = _tokens(getattr(usage, "prompt_tokens", None))
    completion_tokens = _tokens(getattr(usage, "completion_tokens", None))
    total_tokens = _tokens(getattr(usage, "total_tokens", None))
    model = getattr(response, "model", None)
    return TokenUsage(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=total_tokens or prompt_tokens + completion_tokens,
        model=model if isinstance(model, str) and model else requested_model,
    )


def _tokens(value: Any) -> int:
    return value if type(value) is int and value >= 0 else 0


def _status_error(error: openai.APIStatusError, model: str) -> LlmProviderError:
    status = error.status_code
    retryable = status in RETRYABLE_STATUS or status >= 500
    hint = {
        401: "check OPENAI_API_KEY",
        403: "the key may not access this model",
        404: f"check the model name ({model}) and OPENAI_BASE_URL",
        400: "the request was refused as malformed (check `model`/`temperature`)",
    }.get(status, "will be retried" if retryable else "not retryable")
    return LlmProviderError(
        f"Model server answered {status} for model {model}: {_message(error)} ({hint})",
        retryable=retryable,
        retry_after=_retry_after(error),
    )


def _message(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return error.message


MAX_RETRY_AFTER_SECONDS = 3600.0


def _retry_after(error: openai.APIStatusError) -> timedelta | None:
    """The server's retry-after(-ms) hint, within an hour; ``None`` if absent or unreadable."""
    headers = error.response.headers
    try:
        if headers.get("retry-after-ms") is not None:
            seconds = float(headers["retry-after-ms"]) / 1000
        elif headers.get("retry-after") is not None:
            seconds = float(headers["retry-after"])
        else:
            return None
    except ValueError:
        return None  # an HTTP date, or garbage: Temporal's backoff applies
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return timedelta(seconds=min(seconds, MAX_RETRY_AFTER_SECONDS))
