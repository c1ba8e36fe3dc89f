"""SOE's own contract, ``call_llm(prompt, config) -> str`` (plain or async), as a provider."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from ...errors import ConfigError
from ...tools.invoke import invoke
from .base import LlmAnswer, LlmProvider


class CallableProvider:
    """SOE's ``call_llm(prompt, config)``, plain (run in a thread) or async.

    Exceptions it raises are never retried (F-PROTO-6): they fail the node. It reports no
    token usage: SOE's contract returns text only.
    """

    def __init__(
        self, call_llm: Callable[[str, dict[str, Any]], Any], executor: Executor | None = None
    ) -> None:
        self._call_llm = call_llm
        self._executor = executor
        self.description = f"call_llm {getattr(call_llm, '__qualname__', repr(call_llm))}"

    async def complete(
        self, prompt: str, config: dict[str, Any], system_prompt: str | None
    ) -> LlmAnswer:
        # Whatever call_llm returned: the activity refuses what is not text, naming the node.
        return LlmAnswer(await invoke(self._call_llm, (prompt, config), {}, self._executor))


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
