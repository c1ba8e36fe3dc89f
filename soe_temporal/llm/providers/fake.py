"""An offline stand-in for a model, for demos and `soe-temporal run` without a key.

It reads the JSON Schema SOE puts in every prompt and answers with a valid instance:
strings say plainly that they come from a fake ("fake LLM answer to: ..."), numbers are
1, booleans true, selections take the first option. It is not a model: it never reasons.
Its strings hold no brackets, because SOE reads a bare answer from the first bracket on
(Q-18). It reports token usage as an estimate (about four characters a token), marked as
such, under the model name ``fake``.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..protocol import FORMAT_LEAD
from ..usage import TokenUsage
from .base import LlmAnswer

FAKE_PREFIX = "fake LLM answer to:"
FAKE_MODEL = "fake"
# A rough rule for English text and JSON: about four characters a token.
CHARACTERS_PER_TOKEN = 4
_NO_BRACKETS = str.maketrans("{}[]", "()()")


class FakeProvider:
    description = "the offline fake LLM (answers are placeholders, not model output)"

    async def complete(
        self, prompt: str, config: dict[str, Any], system_prompt: str | None
    ) -> LlmAnswer:
        text = fake_answer(prompt)
        return LlmAnswer(text, estimated_usage((system_prompt or "") + prompt, text))


def estimated_usage(prompt: str, answer: str) -> TokenUsage:
    """What a call would have cost, guessed from the length of its texts."""
    prompt_tokens = math.ceil(len(prompt) / CHARACTERS_PER_TOKEN)
    completion_tokens = math.ceil(len(answer) / CHARACTERS_PER_TOKEN)
    return TokenUsage(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=prompt_tokens + completion_tokens,
        model=FAKE_MODEL,
        estimated=True,
    )


def fake_answer(prompt: str) -> str:
    """A schema-valid answer to an SOE prompt.

    As an agent, it calls each available tool once, in the order listed, then finishes.
    A tool's arguments are taken from a line ``tool_name: {JSON}`` of the task when there
    is one (so an example can say exactly what to call), else made up from its schema.
    """
    decision = _agent_decision(prompt)
    if decision is not None:
        return json.dumps(decision)
    arguments = _arguments_in_task(prompt)
    if arguments is not None:
        return json.dumps(arguments)
    return json.dumps(_instance(_schema_in(prompt), _task_in(prompt)))


def _agent_decision(prompt: str) -> dict[str, Any] | None:
    document = _document(prompt)
    if "available_tools" not in document:
        return None
    tools = [
        block.split("(", 1)[0].strip()
        for block in str(document.get("available_tools") or "").split("\n\n")
        if block.strip()
    ]
    history = str(document.get("conversation_history") or "")
    for tool in tools:
        if f"[Tool: {tool}]" not in history and f"[Tool Error: {tool}]" not in history:
            return {"action": "call_tool", "tool_name": tool}
    return {"action": "finish", "tool_name": None}


def _arguments_in_task(prompt: str) -> dict[str, Any] | None:
    """At an agent's parameter stage: the JSON given for this tool in the task, if any."""
    document = _document(prompt)
    tool = document.get("tool_name")
    if not tool or "available_tools" in document:
        return None
    lead = f"{tool}:"
    for line in str(document.get("task_description") or "").splitlines():
        line = line.strip()
        if line.startswith(lead):
            try:
                arguments = json.loads(line[len(lead) :])
            except json.JSONDecodeError:
                return None
            return arguments if isinstance(arguments, dict) else None
    return None


def _document(prompt: str) -> dict[str, Any]:
    try:
        document = json.loads(prompt.splitlines()[0])
    except (json.JSONDecodeError, IndexError):
        return {}
    return document if isinstance(document, dict) else {}


def _schema_in(prompt: str) -> dict[str, Any]:
    lines = prompt.splitlines()
    for index, line in enumerate(lines):
        if line == FORMAT_LEAD and index + 1 < len(lines):
            try:
                return json.loads(lines[index + 1])
            except json.JSONDecodeError:
                break
    return {"type": "object", "properties": {"output": {"type": "string"}}}


def _task_in(prompt: str) -> str:
    document = _document(prompt)
    task = document.get("prompt") or document.get("task_description") or "no task found"
    task = " ".join(str(task).split()).translate(_NO_BRACKETS)
    return task if len(task) <= 80 else task[:77] + "..."


def _instance(schema: dict[str, Any], task: str) -> Any:
    if "anyOf" in schema:
        return _instance(schema["anyOf"][0], task)
    if "enum" in schema:
        options = schema["enum"]
        return "finish" if "finish" in options else options[0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties")
        if not properties:
            return {"note": f"{FAKE_PREFIX} {task}"}
        return {name: _instance(item, task) for name, item in properties.items()}
    if kind == "array":
        items = schema.get("items", {})
        return [_instance(items, task)] if "enum" in items else []
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    return f"{FAKE_PREFIX} {task}"
