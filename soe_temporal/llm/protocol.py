"""SOE's LLM call protocol (SOE_SPEC §13): the prompt a model receives, how a JSON answer
is cut out of its reply, and the feedback prompt after an invalid answer.

Pure and deterministic: it runs inside the workflow. Only the model call is an activity.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

FORMAT_LEAD = "Respond with ONLY a valid JSON object that matches the following JSON Schema:"
FORMAT_TAIL = (
    "Do not repeat the schema itself: return a JSON instance of it (just the data), "
    "with no other text."
)
PREVIOUS_RESPONSE = "Your previous response was:"
VALIDATION_FAILED = "Your response failed validation. Fix the following fields:"
VALID_JSON_REQUEST = "Respond again with valid JSON that matches the schema."


def input_document(**fields: str) -> str:
    """F-PROTO-1: the input object as compact JSON, keys in the order given."""
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


def assemble_prompt(document: str, response_schema: dict[str, Any]) -> str:
    """F-PROTO-1/2: the input document, a blank line, then the three format lines."""
    return f"{document}\n\n{FORMAT_LEAD}\n{json.dumps(response_schema)}\n{FORMAT_TAIL}"


@dataclass(frozen=True)
class Issue:
    """One reason an answer was refused: where (dotted path, empty for the whole answer)."""

    location: str
    message: str

    def line(self) -> str:
        return f"  - {self.location}: {self.message}"


def retry_prompt(previous_prompt: str, response_text: str, issues: list[Issue]) -> str:
    """F-PROTO-3: the previous prompt, the refused answer, and what was wrong with it."""
    feedback = "\n".join(
        [VALIDATION_FAILED, *(issue.line() for issue in issues), VALID_JSON_REQUEST]
    )
    return f"{previous_prompt}\n\n{PREVIOUS_RESPONSE}\n{response_text}\n\n{feedback}"


_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_FENCE = re.compile(r"```(?:json)?\s*([\{\[].*?[\}\]])\s*```", re.DOTALL)


def extract_json(text: str) -> str:
    """F-PROTO-4: the JSON text inside a model's reply.

    Drops ``<think>`` blocks, prefers a fenced block, else takes the first balanced
    ``{...}`` or ``[...]`` (strings respected), else the whole text (bare scalars).
    """
    text = _THINK.sub("", text).strip()
    fenced = _FENCE.search(text)
    if fenced:
        return fenced.group(1)
    starts = [index for index in (text.find("{"), text.find("[")) if index >= 0]
    if not starts:
        return text
    start = min(starts)
    return _balanced(text, start)


def _balanced(text: str, start: int) -> str:
    opening = text[start]
    closing = "}" if opening == "{" else "]"
    depth = 0
    in_string = False
    escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return text[start : index + 1]
    return text[start:]
