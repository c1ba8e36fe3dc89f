"""What an agent's tool receives (F-AGENT-7): SOE builds a Pydantic model from the tool's
signature, shows the model its JSON Schema, validates the arguments with it (lax mode) and
calls the tool with the dumped values. The same here: on the worker for registry tools,
and in the same shape from the engine's own describer for built-ins."""

import datetime
import enum
import inspect
from typing import Any, Literal, Optional, Union

import pytest
from pydantic import BaseModel, ValidationError, create_model

from soe_temporal.engine.signatures import describe_function
from soe_temporal.testing import SoeTestEnvironment
from soe_temporal.tools.registry import (
    agent_arguments,
    arguments_model,
    describe_tool,
    normalize_registry,
)


def soe_ai_schema(function: Any) -> dict[str, Any]:
    """soe-ai 0.1.4's create_tool_schema(function).model_json_schema(), transcribed."""
    fields: dict[str, Any] = {}
    for name, parameter in inspect.signature(function).parameters.items():
        annotation = (
            Any if parameter.annotation is inspect.Parameter.empty else parameter.annotation
        )
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[name] = (annotation, default)
    return create_model(f"{function.__name__}Schema", **fields).model_json_schema()


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(BaseModel):
    x: int
    y: int = 0


def simple(a: int, b: float = 1.5, c: str = "x", d: bool = False):
    pass


def containers(a: list[int], b: dict[str, int], c: Optional[str] = None, d: list = None):  # noqa: UP045
    pass


def choices(a: Literal["x", "y"], b: Union[int, str], c: tuple[int, int], e=3):  # noqa: UP007
    pass


def rich(when: datetime.datetime, color: Color, where: Point):
    pass


def convert(amount: float, rate: float) -> float:
    """Convert an amount at a rate."""
    return amount * rate


@pytest.mark.parametrize("function", [simple, containers, choices])
def test_f_agent_7_builtin_describer_matches_pydantic_schema(function):
    """The engine describes built-ins without Pydantic; for the annotations built-ins use,
    the schema is Pydantic's, key for key and in the same order."""
    ours = describe_function(function).arguments_schema
    assert list(ours.items()) == list(soe_ai_schema(function).items())
    for name, schema in ours["properties"].items():
        assert list(schema) == list(soe_ai_schema(function)["properties"][name])


@pytest.mark.parametrize("function", [simple, containers, choices, rich, convert])
def test_f_agent_7_registry_tool_schema_is_soe_s_model_schema(function):
    [entry] = normalize_registry({"tool": function}).values()
    assert describe_tool(entry).arguments_schema == soe_ai_schema(function)


def test_f_agent_7_dumped_arguments_are_what_soe_passes():
    """ISO text becomes a datetime, a value an Enum member, a mapping stays a mapping
    (model_dump), an int for a float a float."""
    model = arguments_model(rich)
    arguments = agent_arguments(
        model, {"when": "2026-12-02T10:00:00", "color": "red", "where": {"x": "3"}}
    )
    assert arguments == {
        "when": datetime.datetime(2026, 12, 2, 10, 0),
        "color": Color.RED,
        "where": {"x": 3, "y": 0},
    }
    assert agent_arguments(arguments_model(convert), {"amount": 10, "rate": -1}) == {
        "amount": 10.0,
        "rate": -1.0,
    }


def test_f_agent_7_arguments_the_model_refuses_raise_pydantic_s_error():
    with pytest.raises(ValidationError, match="Input should be 'red' or 'blue'"):
        agent_arguments(arguments_model(rich), {"when": "2026-12-02", "color": "green",
                                                "where": {"x": 1}})  # fmt: skip


def test_f_agent_7_a_signature_pydantic_cannot_model_falls_back_to_the_plain_schema():
    class Opaque:
        pass

    def tool(thing: Opaque, _private: int = 0):
        pass

    assert arguments_model(tool) is None
    [entry] = normalize_registry({"tool": tool}).values()
    assert describe_tool(entry).arguments_schema["title"] == "toolSchema"


def agent_config() -> str:
    return """
convert_flow:
  Converter:
    node_type: agent
    event_triggers: [GO]
    prompt: "Convert 10 at -1"
    tools: [convert]
    output_field: answer
"""


async def test_f_agent_7_the_tool_receives_coerced_arguments_on_temporal():
    """End to end: the model answers ``{"amount": 10, "rate": -1}``; the tool receives
    ``10.0`` and ``-1.0`` as floats, as it would under SOE."""
    received: list[tuple[Any, Any]] = []

    def tool(amount: float, rate: float) -> float:
        received.append((amount, rate))
        return amount * rate

    tool.__name__ = "convert"
    decisions = ['{"action": "call_tool", "tool_name": "convert"}', '{"action": "finish"}']

    def model(prompt: str, config: dict) -> str:
        if '"available_tools":' in prompt:
            return decisions.pop(0)
        if '"tool_name":' in prompt.splitlines()[0]:
            return '{"amount": 10, "rate": -1}'
        return '{"answer": "done"}'

    async with SoeTestEnvironment(call_llm=model, tools_registry={"convert": tool}) as env:
        eid = await env.soe.orchestrate(agent_config(), "convert_flow", ["GO"], {})
        context = await env.soe.get_context(eid)
    assert received == [(10.0, -1.0)]
    assert all(type(value) is float for value in received[0])
    assert context["answer"] == ["done"]
