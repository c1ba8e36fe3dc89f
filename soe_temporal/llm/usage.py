"""The tokens one model call used, as its provider reported them.

Pure data: providers make it, the LLM activity returns it in its result (a durable
payload: add fields with defaults only), and the engine adds it to the execution's totals.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TokenUsage:
    """``model`` is the model that answered; ``estimated`` when the provider guessed the
    counts instead of reading them from the model (the offline fake does)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    model: str = ""
    estimated: bool = False

    def is_well_formed(self) -> bool:
        """Counts are whole numbers of at least zero and the model a text: what the
        workflow can read back from the history."""
        counts = (self.prompt_tokens, self.completion_tokens, self.total_tokens)
        return (
            all(type(count) is int and count >= 0 for count in counts)
            and type(self.model) is str
            and type(self.estimated) is bool
        )
