"""Large workflow arguments travel in pieces (temporal/pieces.py): the value comes back
exactly, and a value that grew by appending changes only its last piece, so the payload
store keeps the rest once."""

from __future__ import annotations

import copy
import json

from soe_temporal.temporal.pieces import PIECE_BYTES, cut, join, set_apart

STATE = {
    "context": {
        "pages": ["p" * 1_000] * 300,
        "__operational__": {"signals": ["S"] * 50_000, "nodes": {"A": 1}},
        "note": "n" * 200_000,
        "small": [1, 2, 3],
    },
    "conversation": [{"role": "user", "content": "c" * 8_000}] * 40,
    "registry": {f"node{i}": {"node_type": "router", "x": "r" * 500} for i in range(300)},
}


def test_a_cut_value_joins_back_exactly():
    value, pieces = cut(STATE)
    assert join(value, pieces) == STATE
    assert value["context"]["small"] == [1, 2, 3]  # small values stay in place


def test_pieces_are_about_the_piece_size():
    _, pieces = cut(STATE)
    assert len(pieces) > 10
    assert all(len(str(piece)) <= 2 * PIECE_BYTES for piece in pieces)


def test_appending_changes_only_the_last_piece_of_what_grew():
    _, before = cut(STATE)
    grown = {
        **STATE,
        "conversation": [*STATE["conversation"], {"role": "assistant", "content": "new"}],
    }
    _, after = cut(grown)
    assert len(after) == len(before)
    assert sum(1 for a, b in zip(before, after, strict=True) if a != b) == 1


def test_user_data_that_looks_like_a_marker_is_not_one():
    data = {"soe-pieces": ["text", [0]], "list": [{"a": 1}]}
    value, pieces = cut(data)
    assert pieces == [] and join(value, pieces) == data


def test_emptying_the_arguments_after_a_join_leaves_the_value_whole():
    """The workflow empties its arguments once read (WorkflowArguments.release): the joined
    value is none of the containers the arguments are."""
    value, pieces = cut(copy.deepcopy(STATE))
    value["small"] = {"node": {"node_type": "router"}}
    set_apart(value, "small", pieces)  # as WorkflowArguments.write sets a registry apart
    joined = join(value, pieces)
    for argument in (value, *pieces):
        if isinstance(argument, (dict, list)):
            argument.clear()
    assert joined == {**STATE, "small": {"node": {"node_type": "router"}}}


def test_a_piece_holding_a_marker_is_joined_inside():
    """A value over the piece size inside a grouped list is cut too: its group's piece then
    holds a marker, and join follows it."""
    data = {"items": [{"big": "b" * (2 * PIECE_BYTES)}] + [{"i": i} for i in range(30_000)]}
    value, pieces = cut(data)
    assert any('"\\u0000soe-pieces"' in json.dumps(piece) for piece in pieces)
    assert join(value, pieces) == data


def test_what_the_pieces_hold_is_taken_as_it_is_when_no_piece_holds_a_marker():
    """A config set apart whole is the common start: its nodes are not walked and copied
    again (only the piece itself is, which the workflow empties once read)."""
    registry = {"chain": {f"Step{i}": {"node_type": "tool", "tool_name": "t"} for i in range(50)}}
    value, pieces = cut({"workflow_name": "chain", "registry": registry})
    set_apart(value, "registry", pieces)
    joined = join(value, pieces)
    assert joined["registry"] == registry
    assert joined["registry"] is not pieces[0]
    assert joined["registry"]["chain"] is pieces[0]["chain"]


def test_a_whole_piece_holding_a_marker_is_joined_inside():
    """A config under the piece size after one of its values was cut is set apart whole
    with that value's marker inside."""
    registry = {"chain": {"Step0": {"node_type": "llm", "prompt": "p" * (2 * PIECE_BYTES)}}}
    value, pieces = cut({"registry": registry})
    set_apart(value, "registry", pieces)
    assert '"\\u0000soe-pieces"' in json.dumps(pieces[-1])
    assert join(value, pieces) == {"registry": registry}
