"""Jinja as SOE uses it: prompt/parameter rendering with raw fallback (F-CTX-8),
condition classification with our Q-3 fix (F-SIG-2), truthiness (F-SIG-3), error
suppression (F-SIG-4), and the sandbox (DESIGN: templates render in Jinja's sandbox)."""

from __future__ import annotations

import pytest

from soe_temporal.engine.emissions import jinja_condition, programmatic_emission
from soe_temporal.engine.templates import condition_holds, render_prompt

from .helpers import ops, run, start

CONTEXT = {"n": [3], "name": ["Bob"], "__operational__": {"signals": ["GO"], "nodes": {}}}


# -- F-CTX-8: prompt / parameter rendering ----------------------------------------


def test_f_ctx_8_text_without_jinja_is_used_verbatim():
    text = "Hello } { context.name"
    assert render_prompt(text, CONTEXT) == (text, [])


def test_f_ctx_8_expression_template_is_rendered():
    assert render_prompt("Hello {{ context.name }}", CONTEXT) == ("Hello Bob", [])


def test_f_ctx_8_block_only_template_is_rendered():
    assert render_prompt("{% if context.n > 2 %}big{% endif %}", CONTEXT) == ("big", [])


def test_f_ctx_8_one_trailing_newline_is_dropped():
    assert render_prompt("Hi {{ context.name }}\n", CONTEXT)[0] == "Hi Bob"


def test_f_ctx_8_syntax_error_falls_back_to_raw_text_with_warning():
    text, warnings = render_prompt("Hi {{ context.name ", CONTEXT)
    assert text == "Hi {{ context.name "
    assert len(warnings) == 1 and warnings[0].startswith("Jinja syntax error: ")


def test_f_ctx_8_rendering_error_falls_back_to_raw_text_with_warning():
    text, warnings = render_prompt("Hi {{ context.missing.attr }}", CONTEXT)
    assert text == "Hi {{ context.missing.attr }}"
    assert len(warnings) == 1 and warnings[0].startswith("Template rendering error: ")


# -- F-SIG-2 with the Q-3 fix: `{{` or `{%` anywhere is Jinja ------------------------


@pytest.mark.parametrize(
    "condition",
    [
        "{{ context.n > 1 }}",
        "{% if context.n > 1 %}yes{% endif %}",
        "{{\n  context.n > 1\n}}",
        "Only when {{ context.n }} is big",
    ],
)
def test_f_sig_2_q_3_fix_conditions_with_braces_or_blocks_are_jinja(condition):
    assert jinja_condition({"signal_name": "S", "condition": condition}) == condition


@pytest.mark.parametrize("condition", ["the customer is happy", "", None, "{ x }"])
def test_f_sig_2_other_conditions_are_plain_text(condition):
    assert jinja_condition({"signal_name": "S", "condition": condition}) is None


def test_f_sig_2_q_3_fix_block_only_condition_is_evaluated_not_always_emitted():
    emissions = [
        {"signal_name": "BIG", "condition": "{% if context.n > 5 %}yes{% endif %}"},
        {"signal_name": "SMALL", "condition": "{% if context.n <= 5 %}yes{% endif %}"},
    ]
    assert programmatic_emission(emissions, CONTEXT) == ["SMALL"]


def test_f_sig_2_q_3_fix_multi_line_condition_is_evaluated_by_a_router():
    registry = {
        "wf": {
            "Gate": {
                "node_type": "router",
                "event_triggers": ["GO"],
                "event_emissions": [
                    {"signal_name": "BIG", "condition": "{{\n  context.n > 5\n}}"},
                    {"signal_name": "SMALL", "condition": "{{\n  context.n <= 5\n}}"},
                ],
            }
        }
    }
    execution = start(registry, ["GO"], {"n": 3})
    run(execution)
    assert ops(execution)["signals"] == ["GO", "SMALL"]


def test_f_sig_5_emissions_are_walked_in_order_into_one_list_duplicates_kept():
    emissions = [
        {"signal_name": "A"},
        {"signal_name": "B", "condition": "when the user is happy"},  # plain text: emitted
        {"signal_name": "C", "condition": "{{ context.x > 1 }}"},
        {"signal_name": "D", "condition": "{{ context.x > 5 }}"},
        {"signal_name": "A"},
    ]
    assert programmatic_emission(emissions, {"x": [3]}) == ["A", "B", "C", "A"]


def test_f_sig_1_absent_null_or_empty_condition_is_unconditional():
    emissions = [
        {"signal_name": "A"},
        {"signal_name": "B", "condition": None},
        {"signal_name": "C", "condition": ""},
    ]
    assert programmatic_emission(emissions, CONTEXT) == ["A", "B", "C"]


# -- F-SIG-3: truthiness of the rendered text --------------------------------------


@pytest.mark.parametrize(
    "condition",
    ["{{ 0.0 }}", "{{ [] }}", "{{ {} }}", "{{ 'no' }}", "{{ 'off' }}", "{{ 1 }}", "{{ 'x' }}"],
)
def test_f_sig_3_truthy_renderings(condition):
    assert condition_holds(condition, CONTEXT) is True


@pytest.mark.parametrize(
    "condition",
    [
        "{{ False }}",
        "{{ ' FALSE ' }}",
        "{{ None }}",
        "{{ 0 }}",
        "{{ '' }}",
        "{{ context.missing }}",
        "  {{ 'none' }}  ",
    ],
)
def test_f_sig_3_falsy_renderings(condition):
    assert condition_holds(condition, CONTEXT) is False


# -- F-SIG-4: evaluation errors mean "do not emit" ----------------------------------


@pytest.mark.parametrize(
    "condition",
    ["{{ 1 / 0 }}", "{{ context.missing.attr }}", "{{ 'a' + 1 }}", "{{ context.n > }}"],
)
def test_f_sig_4_condition_errors_mean_false(condition):
    assert condition_holds(condition, CONTEXT) is False


def test_f_sig_4_condition_error_in_router_is_silent():
    registry = {
        "wf": {
            "Gate": {
                "node_type": "router",
                "event_triggers": ["GO"],
                "event_emissions": [
                    {"signal_name": "BOOM", "condition": "{{ 1 / 0 }}"},
                    {"signal_name": "OK"},
                ],
            }
        }
    }
    execution = start(registry, ["GO"])
    run(execution)
    assert ops(execution)["signals"] == ["GO", "OK"]
    assert ops(execution)["errors"] == 0
    assert execution.state.failures == []


# -- The sandbox --------------------------------------------------------------------


def test_sandbox_class_attribute_never_renders_python_internals():
    text, _ = render_prompt("{{ context.__class__ }}", CONTEXT)
    assert "class" not in text and "dict" not in text


def test_sandbox_deeper_escape_attempt_renders_nothing_internal():
    source = "{{ context.__class__.__mro__[1].__subclasses__() }}"
    text, _ = render_prompt(source, CONTEXT)
    assert "<class" not in text


def test_sandbox_class_attribute_condition_is_false():
    assert condition_holds("{{ context.__class__ }}", CONTEXT) is False


def test_sandbox_random_filter_is_refused_in_templates():
    text, warnings = render_prompt("{{ [1, 2, 3] | random }}", CONTEXT)
    assert text == "{{ [1, 2, 3] | random }}"
    assert warnings and "random" in warnings[0]


def test_sandbox_random_filter_is_refused_in_conditions():
    assert condition_holds("{{ [1, 1] | random }}", CONTEXT) is False
