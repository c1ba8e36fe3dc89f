"""soe_temporal's payload shapes decode as temporalio's converter decodes them, without its
per-decode type introspection (``dataclass_json.py``)."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from temporalio.converter import CompositePayloadConverter, value_to_type

from soe_temporal.engine.state import ExecutionState, NodeFailure, PendingBroadcast
from soe_temporal.engine.tokens import TokenAccount, TokenCount
from soe_temporal.llm.usage import TokenUsage
from soe_temporal.temporal.converter import OrderedPayloadConverter, json_value
from soe_temporal.temporal.dataclass_json import decode, decodes_fast, own_shape_decoder
from soe_temporal.temporal.payloads import (
    ChildMessage,
    IdleReport,
    LlmCallInput,
    LlmCallResult,
    SoeWorkflowInput,
    ToolCallInput,
    ToolOptions,
    WorkerOptions,
)


def round_trip(value):
    converter = OrderedPayloadConverter()
    [payload] = converter.to_payloads([value])
    [decoded] = converter.from_payloads([payload], [type(value)])
    return payload, decoded


SHAPES = [
    ToolCallInput("e", "w", "N", "tool", 1, {"a": [1, {"b": None}]}, [{"x": 1}]),
    LlmCallInput("e", "w", "N", 2, "prompt", {"model": "m"}, system_prompt=None),
    LlmCallResult("text", TokenUsage(3, 4, 7, "m", estimated=True)),
    WorkerOptions({"t": ToolOptions(2, "FAILED", {"local": True})}, {"retry": 1}),
    ChildMessage("c", [["f", {"deep": [1, 2]}]], [["A", "B"]]),
    IdleReport(3, True, failures=[{"node_name": "N"}], children=["c"], now="t"),
    SoeWorkflowInput(
        "w",
        {"w": {"N": {"node_type": "router"}}},
        ["START"],
        resumed=ExecutionState(
            "e",
            "w",
            {"w": {}},
            {"f": [1]},
            pending=[PendingBroadcast(["A"], 1)],
            failures=[NodeFailure("w", "N", "boom", 1, False, "t")],
            token_usage=TokenAccount({"N": TokenCount(3, 4, 7)}, {"m": TokenCount(3, 4, 7)}),
        ),
    ),
]


@pytest.mark.parametrize("value", SHAPES, ids=lambda v: type(v).__name__)
def test_each_shape_round_trips_to_an_equal_value(value):
    _, decoded = round_trip(value)
    assert decoded == value


@pytest.mark.parametrize("value", SHAPES, ids=lambda v: type(v).__name__)
def test_the_json_is_asdict_s_without_the_fields_that_hold_their_defaults(value):
    payload, _ = round_trip(value)
    written = json.loads(payload.data)
    full = json.loads(json.dumps(dataclasses.asdict(value)))
    assert written.keys() <= full.keys()
    for name in full.keys() - written.keys():
        field = next(f for f in dataclasses.fields(value) if f.name == name)
        assert field.default is not dataclasses.MISSING or field.default_factory is not (
            dataclasses.MISSING
        )


def test_a_field_at_its_default_is_not_written_and_a_required_one_always_is():
    payload, decoded = round_trip(ToolCallInput("", "w", "N", "t", 0))
    assert json.loads(payload.data) == {
        "execution_id": "",
        "workflow_name": "w",
        "node_name": "N",
        "tool_name": "t",
        "attempt": 0,
    }
    assert decoded.parameters is None and decoded.as_text is False


def test_a_value_equal_to_its_default_but_of_another_type_is_written():
    payload, decoded = round_trip(IdleReport(1, True, progress=False))  # type: ignore[arg-type]
    assert json.loads(payload.data)["progress"] is False


def test_temporalio_reads_what_is_written_without_defaults():
    value = ToolCallInput("e", "w", "N", "tool", 1)
    payload, _ = round_trip(value)
    assert value_to_type(ToolCallInput, json.loads(payload.data)) == value


@pytest.mark.parametrize("value", SHAPES, ids=lambda v: type(v).__name__)
def test_decoding_agrees_with_temporalio(value):
    data = json.loads(json.dumps(dataclasses.asdict(value)))
    assert decode(type(value), data) == value_to_type(type(value), data)


def test_a_value_of_the_wrong_type_is_refused_as_temporalio_refuses_it():
    data = {"execution_id": 1, "workflow_name": "w", "node_name": "N", "tool_name": "t"}
    data["attempt"] = 1
    with pytest.raises(TypeError, match="execution_id"):
        decode(ToolCallInput, data)


def test_a_missing_required_field_is_refused():
    with pytest.raises(TypeError):
        decode(ToolCallInput, {"execution_id": "e"})


def test_unknown_fields_are_ignored_as_temporalio_ignores_them():
    data = dataclasses.asdict(IdleReport(1, True)) | {"added_later": 1}
    assert decode(IdleReport, data) == IdleReport(1, True)


def test_only_this_package_s_shapes_take_the_fast_decoder():
    @dataclasses.dataclass
    class Elsewhere:
        x: int

    Elsewhere.__module__ = "users.module"
    assert decodes_fast(ToolCallInput)
    assert not decodes_fast(Elsewhere)
    assert not decodes_fast(dict)
    converter = OrderedPayloadConverter()
    [payload] = converter.to_payloads([Elsewhere(1)])
    assert converter.from_payloads([payload], [Elsewhere]) == [Elsewhere(1)]


def test_a_model_call_result_without_usage_is_written_as_recorded_histories_hold_it():
    payload, decoded = round_trip(LlmCallResult("text"))
    assert json.loads(payload.data) == {"text": "text"}
    assert decoded.usage is None


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": [1, "x", None]},
        ["x", 2.5],
        "text",
        7,
        1.5,
        True,
        None,
        b"bytes",
        NodeFailure("wf", "Node", "boom", 3, False, "t"),
    ],
)
def test_values_only_json_takes_are_written_as_the_composite_converter_writes_them(value):
    """The shortcut past the other converters writes the same payload temporalio's
    composite converter does, in the same encoding (bool, None and bytes take their own)."""
    ordered = OrderedPayloadConverter()
    composite = CompositePayloadConverter(*ordered.converters.values())
    assert ordered.to_payloads([value]) == composite.to_payloads([value])


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1,"b":[1,2.5,null,true]}',
        b' {"a": 1}\n',  # written by hand, with whitespace around it
        '\ufeff{"é":1}'.encode(),  # a UTF-8 byte order mark
        '{"é":1}'.encode("utf-16"),
        b"[1,2]",
        b'"text"',
        b'{"a":NaN}',
    ],
)
def test_a_payload_s_json_reads_as_json_loads_reads_it(data):
    assert json.dumps(json_value(data)) == json.dumps(json.loads(data))  # NaN != NaN


@pytest.mark.parametrize("data", [b"", b'{"a":1} x', b"{", b"\xff", b'{"a":1}{"b":2}'])
def test_a_payload_that_is_not_json_is_refused_as_json_loads_refuses_it(data):
    with pytest.raises(ValueError) as expected:
        json.loads(data)
    with pytest.raises(type(expected.value), match=re.escape(str(expected.value))):
        json_value(data)


def test_a_payload_that_is_not_json_fails_as_temporalio_s_converter_fails():
    converter = OrderedPayloadConverter()
    [payload] = converter.to_payloads([ToolCallInput("e", "w", "N", "t", 1)])
    payload.data = b'{"execution_id":'
    with pytest.raises(RuntimeError, match="could not be converted"):
        converter.from_payloads([payload], [ToolCallInput])


def test_a_hint_that_cannot_be_a_key_goes_to_temporalio():
    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

    assert own_shape_decoder(Unhashable()) is None
    assert own_shape_decoder(ToolCallInput) is not None
    assert own_shape_decoder(dict) is None
