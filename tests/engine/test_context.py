"""Context: history lists, reads, internal fields, the Jinja view, `accumulated`
(SOE_SPEC §7, F-CTX-1..7 and F-CTX-11; quirks Q-4 fixed, Q-5 and Q-6 kept)."""

from __future__ import annotations

import pytest

from soe_temporal.engine.context import accumulated_items, read_field, write_field
from soe_temporal.engine.templates import render

from .helpers import run, start


def test_f_ctx_1_field_stores_every_value_written_oldest_first():
    registry = {
        "wf": {
            "Classify": {
                "node_type": "tool",
                "event_triggers": ["GO"],
                "tool_name": "classify",
                "output_field": "category",
            }
        }
    }
    answers = iter(["bug", "billing"])
    execution = start(registry, ["GO"], {"ticket": "printer on fire"})
    run(execution, {"classify": lambda: next(answers)})
    execution.deliver(["GO"])
    run(execution, {"classify": lambda: next(answers)})
    assert execution.context["ticket"] == ["printer on fire"]
    assert execution.context["category"] == ["bug", "billing"]


def test_f_ctx_2_write_creates_a_one_element_history():
    context: dict = {}
    write_field(context, "x", 1)
    assert context == {"x": [1]}


def test_f_ctx_2_write_appends_to_an_existing_history():
    context = {"x": [1]}
    write_field(context, "x", [2, 3])
    assert context == {"x": [1, [2, 3]]}


def test_f_ctx_2_write_to_internal_field_replaces_raw_value():
    context = {"__x": {"a": 1}}
    write_field(context, "__x", {"b": 2})
    assert context == {"__x": {"b": 2}}


def test_f_ctx_3_read_returns_latest_value():
    assert read_field({"x": [1, 2, 3]}, "x") == 3


def test_f_ctx_3_read_of_absent_field_is_none():
    assert read_field({"x": [1]}, "y") is None


def test_f_ctx_3_read_of_internal_field_is_raw():
    assert read_field({"__x": [1, 2]}, "__x") == [1, 2]


def test_f_ctx_4_internal_initial_fields_are_not_wrapped():
    execution = start({"wf": {}}, ["GO"], {"__x": [1, 2], "__y": "raw"})
    assert execution.context["__x"] == [1, 2]
    assert execution.context["__y"] == "raw"


def test_f_ctx_4_internal_fields_are_visible_to_jinja_raw():
    assert render("{{ context.__x }}", {"__x": [1, 2]}) == "[1, 2]"


def test_f_ctx_4_internal_fields_are_excluded_from_accumulated_lookup():
    # Were `__x` a candidate, its "latest" element "v" would match and give length 2.
    context = {"__x": ["a", "v"]}
    assert render("{{ 'v' | accumulated | length }}", context) == "1"


def test_f_ctx_5_initial_context_wraps_each_value_in_a_history():
    execution = start({"wf": {}}, ["GO"], {"x": 5, "items": [1, 2]})
    assert execution.context["x"] == [5]
    assert execution.context["items"] == [[1, 2]]


def test_f_ctx_5_initial_context_is_copied_not_shared():
    initial = {"items": [1, 2]}
    execution = start({"wf": {}}, ["GO"], initial)
    initial["items"].append(3)
    assert execution.context["items"] == [[1, 2]]


def test_f_ctx_6_jinja_sees_latest_value_of_each_field():
    assert render("{{ context.category }}", {"category": ["bug", "billing"]}) == "billing"


def test_f_ctx_6_values_render_in_python_string_form():
    context = {"d": [{"a": 1}], "flag": [True], "nothing": [None]}
    assert render("{{ context.d }} {{ context.flag }} {{ context.nothing }}", context) == (
        "{'a': 1} True None"
    )


def test_f_ctx_6_undefined_field_renders_empty_and_is_falsy():
    assert render("[{{ context.missing }}]", {}) == "[]"
    assert render("{{ 'yes' if context.missing else 'no' }}", {}) == "no"


def test_f_ctx_6_attribute_access_on_undefined_raises():
    with pytest.raises(Exception):  # noqa: B017 - any Jinja error is the documented outcome
        render("{{ context.missing.attr }}", {})


def test_f_ctx_6_subscript_reaches_mapping_keys_named_like_methods():
    context = {"order": [{"items": ["pen", "ink"]}]}
    assert render("{{ context.order['items'] | length }}", context) == "2"


def test_f_ctx_7_accumulated_returns_the_whole_history():
    context = {"f": ["a", "b"]}
    assert render("{{ context.f | accumulated }}", context) == "['a', 'b']"


def test_f_ctx_7_accumulated_of_unmatched_value_is_that_value_in_a_list():
    assert render("{{ 'zzz' | accumulated }}", {"f": ["a"]}) == "['zzz']"


def test_f_ctx_7_accumulated_of_none_is_empty():
    assert render("{{ none | accumulated }}", {"f": ["a"]}) == "[]"


def test_q_4_fix_accumulated_resolves_field_by_name_not_by_value():
    # Reference quirk: `b | accumulated` would return a's history (first equal value).
    context = {"a": ["1", "x"], "b": ["x"]}
    assert render("{{ context.b | accumulated }}", context) == "['x']"
    assert render("{{ context.a | accumulated }}", context) == "['1', 'x']"


def test_q_4_fix_accumulated_resolves_subscripted_field_by_name():
    context = {"a": ["1", "x"], "b": ["x"]}
    assert render("{{ context['b'] | accumulated | length }}", context) == "1"


def test_q_5_kept_accumulated_of_undefined_field_has_length_one():
    assert render("{{ context.missing | accumulated | length }}", {"f": ["a"]}) == "1"


def test_q_6_kept_single_list_history_is_unwrapped():
    context = {"batch": [[1, 2, 3]]}
    assert render("{{ context.batch | accumulated | length }}", context) == "3"


def test_q_6_kept_history_of_several_lists_is_not_unwrapped():
    context = {"items": [[1, 2, 3], [4]]}
    assert render("{{ context['items'] | accumulated | length }}", context) == "2"


def test_f_ctx_11_accumulated_items_of_absent_field_is_empty():
    assert accumulated_items({}, "items") == []


def test_f_ctx_11_accumulated_items_unwraps_a_single_list():
    assert accumulated_items({"items": [[1, 2]]}, "items") == [1, 2]


def test_f_ctx_11_accumulated_items_otherwise_is_the_history():
    assert accumulated_items({"items": ["a", "b"]}, "items") == ["a", "b"]


def test_f_ctx_11_accumulated_items_is_a_copy():
    context = {"items": [[{"n": 1}]]}
    items = accumulated_items(context, "items")
    items[0]["n"] = 2
    items.append("extra")
    assert context == {"items": [[{"n": 1}]]}
