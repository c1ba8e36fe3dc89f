"""An offline stand-in for a model, for demos and `soe-temporal run` without a key.

It reads the JSON Schema SOE puts in every prompt and answers with a valid instance:
strings say plainly that they come from a fake ("fake LLM answer to: ..."), numbers are
1, booleans true, selections take the first option. It is not a model: it never reasons.
Its strings hold no brackets, because SOE reads a bare answer from the first bracket on
(Q-18).
"""

from __future__ import annotations

import json
from typing import Any

from .protocol import FORMAT_LEAD

FAKE_PREFIX = "fake LLM answer to:"
_NO_BRACKETS = str.maketrans("{}[]", "()()")


class FakeProvider:
    description = "the offline fake LLM (answers are placeholders, not model output)"

    async def complete(self, prompt: str, config: dict[str, Any], system_prompt: str | None) -> str:
        return fake_answer(prompt)


def fake_answer(prompt: str) -> str:
    """A schema-valid answer to an SOE prompt.

    As an agent's router, it calls the first available tool once, then finishes.
    """
    schema = _schema_in(prompt)
    task = _task_in(prompt)
    decision = _agent_decision(prompt)
    if decision is not None:
        return json.dumps(decision)
    return json.dumps(_instance(schema, task))


def _agent_decision(prompt: str) -> dict[str, Any] | None:
    document = _document(prompt)
    if "available_tools" not in document:
        return None
    tools = str(document.get("available_tools") or "")
    used_a_tool = "[Tool: " in str(document.get("conversation_history") or "")
    if not tools or used_a_tool:
        return {"action": "finish", "tool_name": None}
    return {"action": "call_tool", "tool_name": tools.split("(", 1)[0].strip()}


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
