"""Large workflow arguments travel in pieces (temporal/pieces.py): the value comes back
exactly, and a value that grew by appending changes only its last piece, so the payload
store keeps the rest once."""

from __future__ import annotations

from soe_temporal.temporal.pieces import PIECE_BYTES, cut, join

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
