"""Config loading and validation: SOE_SPEC §3 (F-CFG) and §4 (F-VAL), with the decisions
of DESIGN.md on Q-21, Q-22, Q-24, Q-26 and Q-41, and soe_temporal's own checks (duplicate
YAML keys, sandbox escapes, the `temporal:` block, JSON round trip, the JSON Schema).

SOE messages are asserted exactly, prefixed with `Workflow '{w}', node '{n}': `.
"""

from __future__ import annotations

import copy
import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from soe_temporal import ConfigError, load_config
from soe_temporal.config import (
    SoeConfig,
    check_initial_workflow,
    config_schema,
    validate_workflows,
)
from soe_temporal.llm.response import field_schema

PREFIX = "Workflow 'w', node 'n': "
MISSING = object()  # a key to remove from a base node

ROUTER: dict[str, Any] = {
    "node_type": "router",
    "event_triggers": ["START"],
    "event_emissions": [{"signal_name": "DONE"}],
}
LLM: dict[str, Any] = {"node_type": "llm", "event_triggers": ["START"], "prompt": "Say hi"}
AGENT: dict[str, Any] = {"node_type": "agent", "event_triggers": ["START"], "prompt": "Do it"}
TOOL: dict[str, Any] = {"node_type": "tool", "event_triggers": ["START"], "tool_name": "echo"}
CHILD: dict[str, Any] = {
    "node_type": "child",
    "event_triggers": ["START"],
    "child_workflow_name": "sub",
    "child_initial_signals": ["BEGIN"],
}

QUOTE_HINT = "put the name in quotes"


def node(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of ``base`` with ``changes`` applied (MISSING removes the key)."""
    result = copy.deepcopy(base)
    for key, value in changes.items():
        if value is MISSING:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def single(node_config: Any) -> dict[str, Any]:
    """A legacy config with one workflow 'w' holding one node 'n'."""
    return {"w": {"n": node_config}}


def error_of(source: Any) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(source)
    return str(info.value)


def node_error(base: dict[str, Any], **changes: Any) -> str:
    return error_of(single(node(base, **changes)))


def emission_condition(condition: str, signal: str = "DONE") -> dict[str, Any]:
    return single(node(ROUTER, event_emissions=[{"signal_name": signal, "condition": condition}]))


# -- messages (SOE_SPEC §4) -----------------------------------------------------------

R_TRIGGERS_REQUIRED = "'event_triggers' is required - specify which signals activate this router"
R_TRIGGERS_LIST = '\'event_triggers\' must be a list, e.g., ["START", "RETRY"]'
R_EMISSIONS_REQUIRED = (
    "'event_emissions' is required - specify which signals to emit based on conditions"
)
EMISSIONS_LIST = "'event_emissions' must be a list of signal definitions"


def item_not_mapping(i: int) -> str:
    return f"Each event_emission must be an object with 'signal_name', got invalid item at position {i}"


def item_missing_signal(i: int) -> str:
    return f"Event emission at position {i} is missing 'signal_name'"


def item_bad_condition(i: int) -> str:
    return f"Event emission at position {i} has invalid 'condition' - must be a jinja string"


L_TRIGGERS_REQUIRED = "'event_triggers' is required - specify which signals activate this LLM node"
L_TRIGGERS_LIST = '\'event_triggers\' must be a list, e.g., ["START", "PROCESS"]'
L_PROMPT_REQUIRED = "'prompt' is required - provide the prompt template for the LLM"
L_INPUT_FIELDS = (
    "'input_fields' is no longer supported for LLM nodes. "
    "Use Jinja syntax in prompts instead: {{ context.field_name }}"
)
L_OUTPUT_FIELD = (
    "'output_field' must be a string - the context field name to store the LLM response"
)
RESERVED_OPERATIONAL = (
    "'output_field' cannot be '__operational__' - this is a reserved system field"
)
RETRIES = "'retries' must be a positive integer (default is 3)"
IDENTITY = "'identity' must be a string - used to persist conversation history across executions"
LLM_FAILURE_SIGNAL = (
    "'llm_failure_signal' must be a string - the signal to emit when LLM call fails"
)

A_TRIGGERS_REQUIRED = "'event_triggers' is required - specify which signals activate this agent"
A_TRIGGERS_LIST = '\'event_triggers\' must be a list, e.g., ["START", "RETRY"]'
A_PROMPT_REQUIRED = "'prompt' is required - provide the agent's task description or instructions"
A_INPUT_FIELDS = (
    "'input_fields' is no longer supported for Agent nodes. "
    "Use Jinja syntax in prompts instead: {{ context.field_name }}"
)
A_OUTPUT_FIELD = (
    "'output_field' must be a string - the context field name to store the agent's output"
)
A_TOOLS = "'tools' must be a list of tool names available to the agent"

T_TRIGGERS_REQUIRED = "'event_triggers' is required - specify which signals activate this tool node"
T_TRIGGERS_LIST = "'event_triggers' must be a list, e.g., [\"EXECUTE_TOOL\"]"
T_TOOL_NAME = "'tool_name' is required - specify which tool to execute"
T_OUTPUT_FIELD = "'output_field' must be a string - the context field name to store the tool output"
T_PARAMETERS = "'parameters' must be a dict - the kwargs to pass to the tool"
T_BOTH = "Cannot specify both 'parameters' and 'context_parameter_field' - use one or the other"


def tool_item_not_mapping(j: int) -> str:
    return f"'event_emissions[{j}]' must be a dict with 'signal_name'"


def tool_item_missing_signal(j: int) -> str:
    return f"'event_emissions[{j}]' must have 'signal_name'"


C_NAME_REQUIRED = "'child_workflow_name' is required - specify which workflow to start as a child"
C_NAME_STRING = "'child_workflow_name' must be a string"
C_SIGNALS_REQUIRED = (
    "'child_initial_signals' is required - specify which signals to start the child workflow with"
)
C_SIGNALS_LIST = "'child_initial_signals' must be a list of signal names"
C_TRIGGERS_REQUIRED = (
    "'event_triggers' is required - specify which signals trigger the start of the child workflow"
)
C_TRIGGERS_LIST = "'event_triggers' must be a list of signal names, e.g., [\"START_CHILD\"]"
C_STP_LIST = (
    "'signals_to_parent' must be a list of signal names that should propagate from child to parent"
)
C_CUTP_LIST = (
    "'context_updates_to_parent' must be a list of context key names that should "
    "propagate from child to parent"
)
C_INPUT_FIELDS = (
    "'input_fields' must be a list of context field names to pass to the child workflow"
)
C_FAN_OUT = "'fan_out_field' must be a string (the context field to iterate over)"
C_CHILD_INPUT_REQUIRED = (
    "'child_input_field' is required when 'fan_out_field' is set - specify which field in "
    "child context receives each item"
)
C_CHILD_INPUT_STRING = "'child_input_field' must be a string"
C_SPAWN_NUMBER = "'spawn_interval' must be a number (seconds to sleep between spawns)"
C_SPAWN_NEGATIVE = "'spawn_interval' must be non-negative"


# == F-VAL-3 combined-format sections ==================================================


F_VAL_3_CASES = [
    pytest.param(
        {"workflows": ["w"]},
        "'workflows' section must be an object containing workflow definitions",
        id="f_val_3_workflows_section_not_a_mapping",
    ),
    pytest.param(
        "workflows:\n",
        "'workflows' section must be an object containing workflow definitions",
        id="f_val_3_workflows_section_null",
    ),
    pytest.param(
        {"workflows": {"w": 5}},
        "Workflow 'w' must be an object containing node definitions",
        id="f_val_3_combined_workflow_value_not_a_mapping",
    ),
    pytest.param(
        {"workflows": {"w": {"n": ROUTER}}, "context_schema": "text"},
        "'context_schema' section must be an object mapping field names to schemas",
        id="f_val_3_context_schema_not_a_mapping",
    ),
    pytest.param(
        {
            "workflows": {"w": {"n": ROUTER}},
            "context_schema": {"ok": "string", "count": 5},
        },
        "context_schema.count: schema must be an object or type string",
        id="f_val_3_context_schema_field_neither_mapping_nor_string",
    ),
    pytest.param(
        {"workflows": {"w": {"n": ROUTER}}, "context_schema": {"tags": ["string"]}},
        "context_schema.tags: schema must be an object or type string",
        id="f_val_3_context_schema_field_list_rejected",
    ),
    pytest.param(
        {"workflows": {"w": {"n": ROUTER}}, "identities": ["triage"]},
        "'identities' section must be an object mapping identity names to prompts",
        id="f_val_3_identities_not_a_mapping",
    ),
    pytest.param(
        {"workflows": {"w": {"n": ROUTER}}, "identities": {"ok": "fine", "bad": 5}},
        "identities.bad: identity prompt must be a string, got int",
        id="f_val_3_identity_value_not_a_string",
    ),
    pytest.param(
        {"workflows": {"w": {"n": ROUTER}}, "identities": {"bad": None}},
        "identities.bad: identity prompt must be a string, got NoneType",
        id="f_val_3_identity_value_null_names_nonetype",
    ),
    pytest.param(
        {"workflows": {"w": {"n": node(ROUTER, event_triggers=MISSING)}}, "context_schema": 5},
        PREFIX + R_TRIGGERS_REQUIRED,
        id="f_val_3_order_workflows_checked_before_context_schema",
    ),
    pytest.param(
        {"workflows": {"w": {"n": ROUTER}}, "identities": 5, "context_schema": 5},
        "'context_schema' section must be an object mapping field names to schemas",
        id="f_val_3_order_context_schema_checked_before_identities",
    ),
    pytest.param(
        {
            "workflows": {"w": {"n": ROUTER}},
            "identities": {"bad": 5},
            "context_schema": {"x": 5},
        },
        "context_schema.x: schema must be an object or type string",
        id="f_val_3_order_context_schema_fields_before_identity_values",
    ),
    pytest.param(
        {"workflows": {"w": {"n": ROUTER}}, "context_schema": {"zeta": 5, "alpha": [1]}},
        "context_schema.zeta: schema must be an object or type string",
        id="f_val_3_order_context_schema_fields_in_declaration_order",
    ),
    pytest.param(
        {"workflows": {"a": {"n": node(ROUTER, event_triggers=MISSING)}, "b": 5}},
        "Workflow 'a', node 'n': " + R_TRIGGERS_REQUIRED,
        id="f_val_3_order_earlier_workflow_validated_before_later_non_mapping_workflow",
    ),
    pytest.param(
        {"w": ["n"]},
        "Workflow 'w' must be an object containing node definitions",
        id="f_val_3_legacy_workflow_value_not_a_mapping",
    ),
    pytest.param(
        "w:\n",
        "Workflow 'w' must be an object containing node definitions",
        id="f_val_3_legacy_workflow_with_no_value_is_not_a_mapping",
    ),
]


@pytest.mark.parametrize(("config", "message"), F_VAL_3_CASES)
def test_f_val_3_refuses_with_its_message(config: Any, message: str) -> None:
    assert error_of(config) == message


# == F-VAL-4 workflow-level rules ======================================================


F_VAL_4_CASES = [
    pytest.param(
        {"w": {}},
        "Workflow 'w' is empty - at least one node is required",
        id="f_val_4_1_empty_workflow",
    ),
    pytest.param(
        {"w": {"__n": ROUTER}},
        "Workflow 'w': node name '__n' is reserved - names starting with '__' are reserved "
        "for internal use",
        id="f_val_4_2_reserved_node_name",
    ),
    pytest.param(
        {"w": {"__n": {}}},
        "Workflow 'w': node name '__n' is reserved - names starting with '__' are reserved "
        "for internal use",
        id="f_val_4_2_reserved_name_checked_before_the_node_itself",
    ),
    pytest.param(
        single({"event_triggers": ["A"]}),
        PREFIX + "'node_type' is required - specify the type (router, agent, llm, tool, child)",
        id="f_val_4_3_node_type_missing",
    ),
    pytest.param(
        single({"node_type": ""}),
        PREFIX + "'node_type' is required - specify the type (router, agent, llm, tool, child)",
        id="f_val_4_3_node_type_empty",
    ),
    pytest.param(
        single({"node_type": None}),
        PREFIX + "'node_type' is required - specify the type (router, agent, llm, tool, child)",
        id="f_val_4_3_node_type_null",
    ),
    pytest.param(
        single({"node_type": "robot"}),
        PREFIX + "unknown node_type 'robot'. Valid types are: router, agent, llm, child, tool",
        id="f_val_4_5_unknown_node_type",
    ),
    pytest.param(
        {
            "w": {
                "zeta": node(ROUTER, event_triggers=MISSING),
                "alpha": {"node_type": "robot"},
            }
        },
        "Workflow 'w', node 'zeta': " + R_TRIGGERS_REQUIRED,
        id="f_val_4_order_nodes_in_declaration_order",
    ),
    pytest.param(
        {
            "zeta": {"n": node(ROUTER, event_triggers=MISSING)},
            "alpha": {"n": {"node_type": "robot"}},
        },
        "Workflow 'zeta', node 'n': " + R_TRIGGERS_REQUIRED,
        id="f_val_4_order_workflows_in_declaration_order",
    ),
    pytest.param(
        {"w": {"n": node(ROUTER, event_triggers=MISSING), "__late": ROUTER}},
        PREFIX + R_TRIGGERS_REQUIRED,
        id="f_val_4_order_later_reserved_name_does_not_preempt_earlier_node",
    ),
    pytest.param(
        {"a": {"n": node(ROUTER, event_triggers=MISSING)}, "b": {}},
        "Workflow 'a', node 'n': " + R_TRIGGERS_REQUIRED,
        id="f_val_4_order_earlier_node_error_before_later_empty_workflow",
    ),
    pytest.param(
        {"a": {}, "b": {"n": node(ROUTER, event_triggers=MISSING)}},
        "Workflow 'a' is empty - at least one node is required",
        id="f_val_4_order_empty_workflow_before_later_workflow",
    ),
]


@pytest.mark.parametrize(("config", "message"), F_VAL_4_CASES)
def test_f_val_4_refuses_with_its_message(config: Any, message: str) -> None:
    assert error_of(config) == message


def test_f_val_4_2_single_underscore_node_name_allowed() -> None:
    assert list(load_config({"w": {"_n": ROUTER}}).workflows["w"]) == ["_n"]


# == F-VAL-5 router rules ==============================================================

ROUTER_CASES = [
    pytest.param({"event_triggers": MISSING}, R_TRIGGERS_REQUIRED, id="1-missing"),
    pytest.param({"event_triggers": []}, R_TRIGGERS_REQUIRED, id="1-empty-list"),
    pytest.param({"event_triggers": ""}, R_TRIGGERS_REQUIRED, id="1-empty-string"),
    pytest.param({"event_triggers": "START"}, R_TRIGGERS_LIST, id="2-string"),
    pytest.param({"event_emissions": MISSING}, R_EMISSIONS_REQUIRED, id="3-missing"),
    pytest.param({"event_emissions": []}, R_EMISSIONS_REQUIRED, id="3-empty"),
    pytest.param({"event_emissions": "DONE"}, EMISSIONS_LIST, id="4-string"),
    pytest.param({"event_emissions": {"signal_name": "DONE"}}, EMISSIONS_LIST, id="4-mapping"),
    pytest.param(
        {"event_emissions": [{"signal_name": "A"}, "B"]}, item_not_mapping(2), id="5-item"
    ),
    pytest.param(
        {"event_emissions": [{"signal_name": "A"}, {"condition": "x"}]},
        item_missing_signal(2),
        id="6-missing",
    ),
    pytest.param({"event_emissions": [{"signal_name": None}]}, item_missing_signal(1), id="6-null"),
    pytest.param({"event_emissions": [{"signal_name": ""}]}, item_missing_signal(1), id="6-empty"),
    pytest.param(
        {"event_emissions": [{"signal_name": "A"}, {"signal_name": "B", "condition": 5}]},
        item_bad_condition(2),
        id="7-int-condition",
    ),
    pytest.param(
        {"event_emissions": [{"signal_name": "B", "condition": ["x"]}]},
        item_bad_condition(1),
        id="7-list-condition",
    ),
]


@pytest.mark.parametrize(("changes", "message"), ROUTER_CASES)
def test_f_val_5_router_rule(changes: dict[str, Any], message: str) -> None:
    """F-ROUTER-1: a router's keys, checked by F-VAL-5's rules. F-VAL-5: each router rule with its exact message."""
    assert node_error(ROUTER, **changes) == PREFIX + message


def test_f_val_5_7_null_condition_allowed() -> None:
    config = single(node(ROUTER, event_emissions=[{"signal_name": "DONE", "condition": None}]))
    assert load_config(config).workflows["w"]["n"]["event_emissions"][0]["condition"] is None


def test_f_val_5_positions_are_one_based() -> None:
    assert node_error(ROUTER, event_emissions=["first"]) == PREFIX + item_not_mapping(1)


def test_f_val_5_order_triggers_before_emissions() -> None:
    assert node_error(ROUTER, event_triggers="A", event_emissions=MISSING) == (
        PREFIX + R_TRIGGERS_LIST
    )


def test_f_val_5_order_items_in_order() -> None:
    """F-VAL-5: item 1's missing signal_name is reported before item 2's wrong type."""
    assert node_error(ROUTER, event_emissions=[{}, "x"]) == PREFIX + item_missing_signal(1)


def test_f_val_5_order_signal_name_before_condition_in_one_item() -> None:
    assert node_error(ROUTER, event_emissions=[{"condition": 5}]) == (
        PREFIX + item_missing_signal(1)
    )


def test_f_val_5_order_item_checked_fully_before_next_item() -> None:
    """F-VAL-5: rows 5-7 run per item: item 1's condition before item 2's signal_name."""
    emissions = [{"signal_name": "A", "condition": 5}, {}]
    assert node_error(ROUTER, event_emissions=emissions) == PREFIX + item_bad_condition(1)


# == F-VAL-11 Jinja syntax check (router conditions) ===================================


def test_f_val_11_unknown_filter() -> None:
    assert error_of(emission_condition("{{ context.x | shout }}")) == (
        PREFIX + "Event emission 'DONE' condition: Jinja syntax error - No filter named 'shout'."
    )


def test_f_val_11_unknown_test() -> None:
    assert error_of(emission_condition("{{ context.x is shouty }}")) == (
        PREFIX + "Event emission 'DONE' condition: Jinja syntax error - No test named 'shouty'."
    )


def test_f_val_11_syntax_error() -> None:
    message = error_of(emission_condition("{{ context.x }"))
    assert message.startswith(PREFIX + "Event emission 'DONE' condition: Jinja syntax error - ")


def test_f_val_11_label_names_the_signal_of_the_failing_emission() -> None:
    emissions = [
        {"signal_name": "OK", "condition": "{{ context.x }}"},
        {"signal_name": "RETRY", "condition": "{{ context.x | nope }}"},
    ]
    assert node_error(ROUTER, event_emissions=emissions) == (
        PREFIX + "Event emission 'RETRY' condition: Jinja syntax error - No filter named 'nope'."
    )


def test_f_val_11_block_tag_only_condition_is_checked() -> None:
    """F-VAL-11 with the Q-3 fix: `{%` alone makes a condition Jinja."""
    message = error_of(emission_condition("{% if context.x %}yes"))
    assert message.startswith(PREFIX + "Event emission 'DONE' condition: Jinja syntax error - ")


def test_f_val_11_multi_line_expression_is_checked() -> None:
    """F-VAL-11 with the Q-3 fix: a multi-line `{{ ... }}` is Jinja too."""
    assert error_of(emission_condition("{{ context.x\n | shout }}")) == (
        PREFIX + "Event emission 'DONE' condition: Jinja syntax error - No filter named 'shout'."
    )


def test_f_val_11_text_without_jinja_markers_passes() -> None:
    config = load_config(emission_condition("x | shout }}"))
    assert config.workflows["w"]["n"]["event_emissions"][0]["condition"] == "x | shout }}"


def test_f_val_11_undefined_names_and_runtime_errors_not_detected() -> None:
    condition = "{{ nothing.here / 0 > 1 }}"
    config = load_config(emission_condition(condition))
    assert config.workflows["w"]["n"]["event_emissions"][0]["condition"] == condition


def test_f_val_11_accumulated_filter_is_known() -> None:
    condition = "{{ context.votes | accumulated | length >= 3 }}"
    config = load_config(emission_condition(condition))
    assert config.workflows["w"]["n"]["event_emissions"][0]["condition"] == condition


def test_f_val_11_router_only_llm_conditions_not_checked() -> None:
    """F-VAL-11 / Q-23 kept: LLM emission conditions are not Jinja-checked."""
    emissions = [{"signal_name": "DONE", "condition": "{{ context.x | shout }}"}]
    config = load_config(single(node(LLM, event_emissions=emissions)))
    assert config.workflows["w"]["n"]["event_emissions"] == emissions


def test_f_val_11_router_only_llm_prompt_not_checked() -> None:
    """F-VAL-11 / Q-23 kept: prompts are not Jinja-checked."""
    config = load_config(single(node(LLM, prompt="{{ context.x | shout }}")))
    assert config.workflows["w"]["n"]["prompt"] == "{{ context.x | shout }}"


def test_f_val_11_router_only_tool_conditions_not_checked() -> None:
    """F-VAL-8: tool conditions are not Jinja-checked."""
    emissions = [{"signal_name": "DONE", "condition": "{{ result | shout }}"}]
    config = load_config(single(node(TOOL, event_emissions=emissions)))
    assert config.workflows["w"]["n"]["event_emissions"] == emissions


def test_f_val_11_order_jinja_error_item_1_before_item_2_structure() -> None:
    """F-VAL-5 rows 5-8 run per item: item 1's Jinja error before item 2's wrong type."""
    emissions = [{"signal_name": "DONE", "condition": "{{ context.x | shout }}"}, "bad"]
    assert node_error(ROUTER, event_emissions=emissions) == (
        PREFIX + "Event emission 'DONE' condition: Jinja syntax error - No filter named 'shout'."
    )


def test_f_val_11_order_jinja_error_node_1_before_node_2_structure() -> None:
    """F-VAL-4: nodes in order, each fully validated (Jinja included) before the next."""
    bad_jinja = node(
        ROUTER, event_emissions=[{"signal_name": "DONE", "condition": "{{ x | shout }}"}]
    )
    config = {"w": {"first": bad_jinja, "second": node(ROUTER, event_triggers=MISSING)}}
    assert error_of(config) == (
        "Workflow 'w', node 'first': Event emission 'DONE' condition: Jinja syntax error - "
        "No filter named 'shout'."
    )


def test_f_val_11_order_jinja_error_workflow_1_before_workflow_2_structure() -> None:
    """F-VAL-3: each workflow is fully validated before the next one."""
    bad_jinja = node(
        ROUTER, event_emissions=[{"signal_name": "DONE", "condition": "{{ x | shout }}"}]
    )
    config = {"a": {"n": bad_jinja}, "b": {"n": node(ROUTER, event_triggers=MISSING)}}
    assert error_of(config) == (
        "Workflow 'a', node 'n': Event emission 'DONE' condition: Jinja syntax error - "
        "No filter named 'shout'."
    )


# == F-VAL-6 LLM rules =================================================================

LLM_CASES = [
    pytest.param({"event_triggers": MISSING}, L_TRIGGERS_REQUIRED, id="1-missing"),
    pytest.param({"event_triggers": []}, L_TRIGGERS_REQUIRED, id="1-empty"),
    pytest.param({"event_triggers": "START"}, L_TRIGGERS_LIST, id="2-string"),
    pytest.param({"prompt": MISSING}, L_PROMPT_REQUIRED, id="3-missing"),
    pytest.param({"prompt": ""}, L_PROMPT_REQUIRED, id="3-empty"),
    pytest.param({"input_fields": ["x"]}, L_INPUT_FIELDS, id="4-list"),
    pytest.param({"input_fields": []}, L_INPUT_FIELDS, id="4-empty-list"),
    pytest.param({"output_field": 5}, L_OUTPUT_FIELD, id="5-int"),
    pytest.param({"retries": -1}, RETRIES, id="7-negative"),
    pytest.param({"retries": "3"}, RETRIES, id="7-string"),
    pytest.param({"retries": 1.5}, RETRIES, id="7-float"),
    pytest.param({"event_emissions": "DONE"}, EMISSIONS_LIST, id="8-string"),
    pytest.param({"event_emissions": ["DONE"]}, item_not_mapping(1), id="9-item"),
    pytest.param({"event_emissions": [{}]}, item_missing_signal(1), id="10-missing"),
    pytest.param(
        {"event_emissions": [{"signal_name": "A"}, {"signal_name": "B", "condition": 1}]},
        item_bad_condition(2),
        id="11-condition",
    ),
    pytest.param({"identity": 5}, IDENTITY, id="12-identity"),
    # A number here is Q-21's case and gets a quoting hint; a list gets SOE's message alone.
    pytest.param({"llm_failure_signal": ["X"]}, LLM_FAILURE_SIGNAL, id="13-failure-signal"),
]


@pytest.mark.parametrize(("changes", "message"), LLM_CASES)
def test_f_val_6_llm_rule(changes: dict[str, Any], message: str) -> None:
    """F-VAL-6: each LLM rule with its exact message."""
    assert node_error(LLM, **changes) == PREFIX + message


def test_f_val_6_6_output_field_operational() -> None:
    """F-VAL-6 rule 6: SOE's message (the Q-24 fix may add a note after it)."""
    message = node_error(LLM, output_field="__operational__")
    assert message.startswith(PREFIX + RESERVED_OPERATIONAL)


def test_f_val_6_4_null_input_fields_allowed() -> None:
    assert load_config(single(node(LLM, input_fields=None))).workflows["w"]["n"]["prompt"]


def test_f_val_6_7_zero_retries_allowed() -> None:
    assert load_config(single(node(LLM, retries=0))).workflows["w"]["n"]["retries"] == 0


def test_f_val_6_7_boolean_retries_pass_as_ints() -> None:
    assert load_config(single(node(LLM, retries=True))).workflows["w"]["n"]["retries"] is True


def test_f_val_6_empty_emissions_allowed() -> None:
    config = load_config(single(node(LLM, event_emissions=[])))
    assert config.workflows["w"]["n"]["event_emissions"] == []


LLM_ORDER_CASES = [
    pytest.param(
        {"event_triggers": "A", "prompt": MISSING}, L_TRIGGERS_LIST, id="triggers-before-prompt"
    ),
    pytest.param(
        {"prompt": "", "input_fields": ["x"]}, L_PROMPT_REQUIRED, id="prompt-before-input_fields"
    ),
    pytest.param(
        {"input_fields": ["x"], "output_field": 5},
        L_INPUT_FIELDS,
        id="input_fields-before-output_field",
    ),
    pytest.param(
        {"output_field": 5, "retries": -1}, L_OUTPUT_FIELD, id="output_field-before-retries"
    ),
    pytest.param({"retries": -1, "event_emissions": "x"}, RETRIES, id="retries-before-emissions"),
    pytest.param(
        {"event_emissions": "x", "identity": 5}, EMISSIONS_LIST, id="emissions-before-identity"
    ),
    pytest.param(
        {"identity": 5, "llm_failure_signal": 5}, IDENTITY, id="identity-before-failure-signal"
    ),
]


@pytest.mark.parametrize(("changes", "message"), LLM_ORDER_CASES)
def test_f_val_6_order(changes: dict[str, Any], message: str) -> None:
    """F-VAL-6: the first failing rule in SOE's order is the one reported."""
    assert node_error(LLM, **changes) == PREFIX + message


# == F-VAL-7 agent rules ===============================================================

AGENT_CASES = [
    pytest.param({"event_triggers": MISSING}, A_TRIGGERS_REQUIRED, id="1-missing"),
    pytest.param({"event_triggers": "START"}, A_TRIGGERS_LIST, id="2-string"),
    pytest.param({"prompt": MISSING}, A_PROMPT_REQUIRED, id="3-missing"),
    pytest.param({"input_fields": ["x"]}, A_INPUT_FIELDS, id="4-input-fields"),
    pytest.param({"output_field": 5}, A_OUTPUT_FIELD, id="5-output-field"),
    pytest.param({"retries": -2}, RETRIES, id="7-retries"),
    pytest.param({"event_emissions": "x"}, EMISSIONS_LIST, id="8-emissions"),
    pytest.param({"event_emissions": [5]}, item_not_mapping(1), id="9-item"),
    pytest.param({"tools": "search"}, A_TOOLS, id="tools"),
    pytest.param({"identity": 5}, IDENTITY, id="12-identity"),
    # A number here is Q-21's case and gets a quoting hint; a list gets SOE's message alone.
    pytest.param({"llm_failure_signal": ["X"]}, LLM_FAILURE_SIGNAL, id="13-failure-signal"),
]


@pytest.mark.parametrize(("changes", "message"), AGENT_CASES)
def test_f_val_7_agent_rule(changes: dict[str, Any], message: str) -> None:
    """F-AGENT-1: an agent's keys, checked by F-VAL-7's rules. F-VAL-7: each agent rule with its exact message."""
    assert node_error(AGENT, **changes) == PREFIX + message


def test_f_val_7_order_emissions_before_tools() -> None:
    assert node_error(AGENT, event_emissions="x", tools="y") == PREFIX + EMISSIONS_LIST


def test_f_val_7_order_tools_before_identity() -> None:
    assert node_error(AGENT, tools="y", identity=5) == PREFIX + A_TOOLS


# == F-VAL-8 tool rules ================================================================

TOOL_CASES = [
    pytest.param({"event_triggers": MISSING}, T_TRIGGERS_REQUIRED, id="1-missing"),
    pytest.param({"event_triggers": []}, T_TRIGGERS_REQUIRED, id="1-empty"),
    pytest.param({"event_triggers": "START"}, T_TRIGGERS_LIST, id="2-string"),
    pytest.param({"tool_name": MISSING}, T_TOOL_NAME, id="3-missing"),
    pytest.param({"event_emissions": "DONE"}, EMISSIONS_LIST, id="4-string"),
    pytest.param(
        {"event_emissions": [{"signal_name": "A"}, "B"]}, tool_item_not_mapping(1), id="5-item"
    ),
    pytest.param(
        {"event_emissions": [{"signal_name": "A"}, {"condition": "x"}]},
        tool_item_missing_signal(1),
        id="6-missing",
    ),
    pytest.param({"output_field": 5}, T_OUTPUT_FIELD, id="7-output-field"),
    pytest.param({"parameters": ["a"]}, T_PARAMETERS, id="9-parameters"),
    pytest.param({"parameters": {"a": 1}, "context_parameter_field": "args"}, T_BOTH, id="10-both"),
]


@pytest.mark.parametrize(("changes", "message"), TOOL_CASES)
def test_f_val_8_tool_rule(changes: dict[str, Any], message: str) -> None:
    """F-TOOL-1: a tool node's keys, checked by F-VAL-8's rules. F-VAL-8: each tool rule with its exact message."""
    assert node_error(TOOL, **changes) == PREFIX + message


def test_f_val_8_8_output_field_operational() -> None:
    """F-VAL-8 rule 8: SOE's message (the Q-24 fix may add a note after it)."""
    message = node_error(TOOL, output_field="__operational__")
    assert message.startswith(PREFIX + RESERVED_OPERATIONAL)


def test_f_val_8_positions_are_zero_based() -> None:
    assert node_error(TOOL, event_emissions=["first"]) == PREFIX + tool_item_not_mapping(0)


def test_f_val_8_tool_existence_not_checked() -> None:
    config = load_config(single(node(TOOL, tool_name="no_such_tool")))
    assert config.workflows["w"]["n"]["tool_name"] == "no_such_tool"


def test_f_val_8_context_parameter_field_alone_allowed() -> None:
    config = load_config(single(node(TOOL, context_parameter_field="args")))
    assert config.workflows["w"]["n"]["context_parameter_field"] == "args"


def test_f_val_8_empty_emissions_allowed() -> None:
    config = load_config(single(node(TOOL, event_emissions=[])))
    assert config.workflows["w"]["n"]["event_emissions"] == []


TOOL_ORDER_CASES = [
    pytest.param(
        {"event_triggers": MISSING, "tool_name": MISSING},
        T_TRIGGERS_REQUIRED,
        id="triggers-before-tool_name",
    ),
    pytest.param(
        {"tool_name": MISSING, "event_emissions": "x"},
        T_TOOL_NAME,
        id="tool_name-before-emissions",
    ),
    pytest.param({"event_emissions": [{}, "x"]}, tool_item_missing_signal(0), id="items-in-order"),
    pytest.param(
        {"event_emissions": ["x"], "output_field": 5},
        tool_item_not_mapping(0),
        id="emissions-before-output_field",
    ),
    pytest.param(
        {"output_field": 5, "parameters": []}, T_OUTPUT_FIELD, id="output_field-before-parameters"
    ),
    pytest.param(
        {"parameters": [], "context_parameter_field": "args"},
        T_PARAMETERS,
        id="parameters-before-both",
    ),
]


@pytest.mark.parametrize(("changes", "message"), TOOL_ORDER_CASES)
def test_f_val_8_order(changes: dict[str, Any], message: str) -> None:
    """F-VAL-8: the first failing rule in SOE's order is the one reported."""
    assert node_error(TOOL, **changes) == PREFIX + message


# == F-VAL-10 child rules ==============================================================

CHILD_CASES = [
    pytest.param({"child_workflow_name": MISSING}, C_NAME_REQUIRED, id="1-missing"),
    pytest.param({"child_workflow_name": ""}, C_NAME_REQUIRED, id="1-empty"),
    pytest.param({"child_workflow_name": 5}, C_NAME_STRING, id="2-int"),
    pytest.param({"child_initial_signals": MISSING}, C_SIGNALS_REQUIRED, id="3-missing"),
    pytest.param({"child_initial_signals": []}, C_SIGNALS_REQUIRED, id="3-empty"),
    pytest.param({"child_initial_signals": "BEGIN"}, C_SIGNALS_LIST, id="4-string"),
    pytest.param({"event_triggers": MISSING}, C_TRIGGERS_REQUIRED, id="5-missing"),
    pytest.param({"event_triggers": "START"}, C_TRIGGERS_LIST, id="6-string"),
    pytest.param({"signals_to_parent": "DONE"}, C_STP_LIST, id="7-string"),
    pytest.param(
        {"signals_to_parent": ["DONE", None]},
        "All items in 'signals_to_parent' must be strings. Found: NoneType",
        id="8-item",
    ),
    pytest.param({"context_updates_to_parent": "x"}, C_CUTP_LIST, id="9-string"),
    pytest.param(
        {"context_updates_to_parent": ["a", 1.5]},
        "All items in 'context_updates_to_parent' must be strings. Found: float",
        id="10-item",
    ),
    pytest.param({"input_fields": "x"}, C_INPUT_FIELDS, id="11-string"),
    pytest.param({"fan_out_field": 1}, C_FAN_OUT, id="12-int"),
    pytest.param({"fan_out_field": "items"}, C_CHILD_INPUT_REQUIRED, id="13-missing"),
    pytest.param(
        {"fan_out_field": "items", "child_input_field": ""}, C_CHILD_INPUT_REQUIRED, id="13-empty"
    ),
    pytest.param(
        {"fan_out_field": "items", "child_input_field": 1}, C_CHILD_INPUT_STRING, id="14-int"
    ),
    pytest.param({"spawn_interval": "1"}, C_SPAWN_NUMBER, id="15-string"),
    pytest.param({"spawn_interval": -0.5}, C_SPAWN_NEGATIVE, id="16-negative"),
    pytest.param({"event_emissions": "x"}, EMISSIONS_LIST, id="17-emissions"),
    pytest.param({"event_emissions": [1]}, item_not_mapping(1), id="18-item"),
    pytest.param({"event_emissions": [{}]}, item_missing_signal(1), id="19-missing"),
    pytest.param(
        {"event_emissions": [{"signal_name": "A", "condition": 1}]},
        item_bad_condition(1),
        id="20-condition",
    ),
]


@pytest.mark.parametrize(("changes", "message"), CHILD_CASES)
def test_f_val_10_child_rule(changes: dict[str, Any], message: str) -> None:
    """F-CHILD-1: a child node's keys, checked by F-VAL-10's rules. F-VAL-10: each child rule with its exact message."""
    assert node_error(CHILD, **changes) == PREFIX + message


def test_f_val_10_14_child_input_field_type_only_checked_with_fan_out() -> None:
    """F-VAL-10 rule 14 applies only when fan_out_field is present."""
    config = load_config(single(node(CHILD, child_input_field=1)))
    assert config.workflows["w"]["n"]["child_input_field"] == 1


def test_f_val_10_15_boolean_spawn_interval_passes() -> None:
    config = load_config(single(node(CHILD, spawn_interval=True)))
    assert config.workflows["w"]["n"]["spawn_interval"] is True


def test_f_val_10_15_float_spawn_interval_allowed() -> None:
    config = load_config(single(node(CHILD, spawn_interval=0.25)))
    assert config.workflows["w"]["n"]["spawn_interval"] == 0.25


def test_f_val_10_child_workflow_existence_not_checked() -> None:
    config = load_config(single(node(CHILD, child_workflow_name="elsewhere")))
    assert config.workflows["w"]["n"]["child_workflow_name"] == "elsewhere"


CHILD_ORDER_CASES = [
    pytest.param(
        {"child_workflow_name": MISSING, "child_initial_signals": MISSING},
        C_NAME_REQUIRED,
        id="name-before-signals",
    ),
    pytest.param(
        {"child_initial_signals": MISSING, "event_triggers": MISSING},
        C_SIGNALS_REQUIRED,
        id="signals-before-triggers",
    ),
    pytest.param(
        {"event_triggers": "x", "signals_to_parent": "y"},
        C_TRIGGERS_LIST,
        id="triggers-before-signals_to_parent",
    ),
    pytest.param(
        {"signals_to_parent": [[1]], "context_updates_to_parent": "y"},
        "All items in 'signals_to_parent' must be strings. Found: list",
        id="signals_to_parent-before-context_updates",
    ),
    pytest.param(
        {"context_updates_to_parent": "y", "input_fields": "z"},
        C_CUTP_LIST,
        id="context_updates-before-input_fields",
    ),
    pytest.param(
        {"input_fields": "z", "fan_out_field": 1},
        C_INPUT_FIELDS,
        id="input_fields-before-fan_out",
    ),
    pytest.param(
        {"fan_out_field": "items", "spawn_interval": -1},
        C_CHILD_INPUT_REQUIRED,
        id="child_input-before-spawn_interval",
    ),
    pytest.param(
        {"spawn_interval": -1, "event_emissions": "x"},
        C_SPAWN_NEGATIVE,
        id="spawn_interval-before-emissions",
    ),
]


@pytest.mark.parametrize(("changes", "message"), CHILD_ORDER_CASES)
def test_f_val_10_order(changes: dict[str, Any], message: str) -> None:
    """F-VAL-10: the first failing rule in SOE's order is the one reported."""
    assert node_error(CHILD, **changes) == PREFIX + message


# == F-VAL-12 initial workflow existence ===============================================


def test_f_val_12_unknown_initial_workflow() -> None:
    config = load_config({"a": {"n": ROUTER}, "b": {"n": ROUTER}})
    with pytest.raises(ConfigError) as info:
        check_initial_workflow(config, "c")
    assert str(info.value) == "Workflow 'c' not found in config. Available workflows: ['a', 'b']"


def test_f_val_12_known_initial_workflow_passes() -> None:
    config = load_config({"a": {"n": ROUTER}})
    assert check_initial_workflow(config, "a") is None


def test_f_val_12_empty_registry_lists_no_workflows() -> None:
    with pytest.raises(ConfigError) as info:
        check_initial_workflow(SoeConfig(workflows={}), "main")
    assert str(info.value) == "Workflow 'main' not found in config. Available workflows: []"


# == F-CFG-1..5, 8, 9 ==================================================================


def test_f_cfg_1_mapping_is_copied() -> None:
    source = {"w": {"n": node(ROUTER)}}
    config = load_config(source)
    source["w"]["n"]["event_triggers"].append("LATER")
    assert config.workflows["w"]["n"]["event_triggers"] == ["START"]


def test_f_cfg_1_soe_config_passes_through() -> None:
    config = load_config({"w": {"n": ROUTER}})
    assert load_config(config) is config


def test_f_cfg_1_empty_string_refused() -> None:
    assert error_of("").startswith("The config is empty")


def test_f_cfg_1_empty_mapping_refused() -> None:
    assert error_of({}).startswith("The config is empty")


def test_f_cfg_1_other_python_types_refused() -> None:
    assert error_of(42) == (
        "A config is YAML text, a file path, a mapping or a SoeConfig; got int."
    )


def test_f_cfg_2_invalid_yaml() -> None:
    assert error_of("w: [unclosed\n").startswith("Invalid YAML configuration: ")


def test_f_cfg_2_invalid_yaml_in_a_file_names_the_file_line_and_column(tmp_path) -> None:
    path = tmp_path / "orders.yaml"
    path.write_text("orders:\n  Start:\n    node_type: router\n    event_triggers: [START]: oops\n")
    assert error_of(str(path)) == (
        f"Invalid YAML configuration: {path}, line 4, column 28: mapping values are not "
        "allowed here"
    )


def test_f_cfg_2_invalid_yaml_text_names_line_and_column_and_no_pseudo_file() -> None:
    message = error_of('w:\n  n: "unclosed\n')
    assert "<unicode string>" not in message
    assert message.startswith("Invalid YAML configuration: line 3, column 1: ")
    assert "while scanning a quoted scalar that started at line 2, column 6" in message


def test_f_cfg_2_a_key_defined_twice_in_a_file_names_the_file(tmp_path) -> None:
    path = tmp_path / "orders.yaml"
    path.write_text("w: {}\nw: {}\n")
    assert error_of(path).startswith(f"{path}: 'w' is defined twice in the same mapping")


def test_f_cfg_2_yaml_1_1_booleans_in_parameters() -> None:
    text = (
        "w:\n  n:\n    node_type: tool\n    event_triggers: [START]\n    tool_name: t\n"
        "    parameters: {flag: on, other: No, nothing: ~}\n"
    )
    parameters = load_config(text).workflows["w"]["n"]["parameters"]
    assert parameters == {"flag": True, "other": False, "nothing": None}


def test_f_cfg_3_workflows_key_selects_combined_format() -> None:
    config = load_config({"workflows": {"w": {"n": ROUTER}}})
    assert list(config.workflows) == ["w"]


def test_f_cfg_4_legacy_every_top_level_key_is_a_workflow() -> None:
    config = load_config({"a": {"n": ROUTER}, "b": {"m": LLM}})
    assert (list(config.workflows), config.context_schema, config.identities) == (
        ["a", "b"],
        {},
        {},
    )


def test_f_cfg_5_combined_sections_loaded() -> None:
    text = """
workflows:
  intake:
    Classify:
      node_type: llm
      event_triggers: [BEGIN]
      prompt: "Classify: {{ context.ticket }}"
      identity: triage
      output_field: category
context_schema:
  category:
    type: string
    description: one of billing, bug, other
identities:
  triage: "You sort support tickets."
"""
    config = load_config(text)
    assert (config.context_schema, config.identities) == (
        {"category": {"type": "string", "description": "one of billing, bug, other"}},
        {"triage": "You sort support tickets."},
    )


def test_f_cfg_5_null_sections_treated_as_absent() -> None:
    config = load_config("workflows:\n  w:\n    n: {node_type: _x}\ncontext_schema:\nidentities:\n")
    assert (config.context_schema, config.identities) == ({}, {})


def test_f_id_1_identities_map_names_to_system_prompts() -> None:
    config = load_config(
        {"workflows": {"w": {"n": ROUTER}}, "identities": {"triage": "Sort.", "chat": "Talk."}}
    )
    assert config.identities == {"triage": "Sort.", "chat": "Talk."}


def test_f_schema_8_only_the_top_level_entries_are_checked_when_a_config_loads() -> None:
    """Nested content is not checked, and an unknown type degrades to "any"."""
    schema = {
        "invoice": {"type": "object", "properties": {"total": {"type": "no-such-type"}}},
        "mood": "feelings",
    }
    config = load_config({"workflows": {"w": {"n": ROUTER}}, "context_schema": schema})
    assert config.context_schema == schema
    assert field_schema("feelings") == {}


def test_f_cfg_5_other_top_level_keys_ignored() -> None:
    config = load_config({"workflows": {"w": {"n": ROUTER}}, "version": 3})
    assert config.to_dict().keys() == {"workflows", "context_schema", "identities"}


def test_f_cfg_8_declaration_order_from_yaml() -> None:
    text = (
        "zeta:\n  Zulu: {node_type: _x}\n  Alpha: {node_type: _x}\n  Mike: {node_type: _x}\n"
        "alpha:\n  One: {node_type: _x}\n"
    )
    workflows = load_config(text).workflows
    assert [(w, list(nodes)) for w, nodes in workflows.items()] == [
        ("zeta", ["Zulu", "Alpha", "Mike"]),
        ("alpha", ["One"]),
    ]


def test_f_cfg_8_declaration_order_from_mapping() -> None:
    source = {"workflows": {"z": {"b": ROUTER, "a": ROUTER}, "a": {"z": ROUTER}}}
    workflows = load_config(source).workflows
    assert [(w, list(nodes)) for w, nodes in workflows.items()] == [
        ("z", ["b", "a"]),
        ("a", ["z"]),
    ]


def test_f_cfg_8_declaration_order_kept_by_to_dict() -> None:
    source = {"z": {"b": ROUTER, "a": ROUTER}, "a": {"z": ROUTER}}
    workflows = load_config(source).to_dict()["workflows"]
    assert [(w, list(nodes)) for w, nodes in workflows.items()] == [
        ("z", ["b", "a"]),
        ("a", ["z"]),
    ]


def test_f_cfg_9_underscore_node_type_skips_validation() -> None:
    internal = {"node_type": "_custom", "event_triggers": "not a list", "prompt": 5}
    config = load_config({"w": {"n": internal}})
    assert config.workflows["w"]["n"] == internal


def test_f_cfg_9_underscore_node_type_skips_jinja_and_temporal_checks() -> None:
    internal = {
        "node_type": "_custom",
        "event_emissions": [{"signal_name": "X", "condition": "{{ x | shout }}"}],
        "temporal": {"nonsense": 1},
    }
    assert load_config({"w": {"n": internal}}).workflows["w"]["n"] == internal


# == Q-21: YAML booleans and numbers as signal names ===================================


def test_q21_boolean_trigger_refused_with_quote_hint() -> None:
    message = error_of(
        "w:\n  n:\n    node_type: router\n    event_triggers: [ON]\n"
        "    event_emissions: [{signal_name: DONE}]\n"
    )
    assert message.startswith(PREFIX + "'event_triggers' contains True")
    assert QUOTE_HINT in message


def test_q21_numeric_trigger_refused_with_quote_hint() -> None:
    message = error_of("w:\n  n:\n    node_type: llm\n    event_triggers: [404]\n    prompt: p\n")
    assert message.startswith(PREFIX + "'event_triggers' contains 404")
    assert QUOTE_HINT in message


def test_q21_boolean_router_signal_name_refused_with_quote_hint() -> None:
    message = error_of(
        "w:\n  n:\n    node_type: router\n    event_triggers: [START]\n"
        "    event_emissions: [{signal_name: YES}, {signal_name: NO}]\n"
    )
    assert message.startswith(PREFIX + "Event emission at position 1 has 'signal_name' True")
    assert QUOTE_HINT in message


def test_q21_numeric_tool_signal_name_refused_with_quote_hint() -> None:
    message = error_of(
        "w:\n  n:\n    node_type: tool\n    event_triggers: [START]\n    tool_name: t\n"
        "    event_emissions: [{signal_name: OK}, {signal_name: 500}]\n"
    )
    assert message.startswith(PREFIX + "'event_emissions[1]' has 'signal_name' 500")
    assert QUOTE_HINT in message


def test_q21_boolean_child_initial_signal_refused_with_quote_hint() -> None:
    message = error_of(
        "w:\n  n:\n    node_type: child\n    event_triggers: [START]\n"
        "    child_workflow_name: sub\n    child_initial_signals: [Off]\n"
    )
    assert message.startswith(PREFIX + "'child_initial_signals' contains False")
    assert QUOTE_HINT in message


def test_q21_boolean_signals_to_parent_refused_with_quote_hint() -> None:
    """Q-21 decision: signals_to_parent holds signal names, so say to quote them."""
    message = error_of(
        "w:\n  n:\n    node_type: child\n    event_triggers: [START]\n"
        "    child_workflow_name: sub\n    child_initial_signals: [BEGIN]\n"
        "    signals_to_parent: [DONE, NO]\n"
    )
    assert message.startswith(PREFIX) and "signals_to_parent" in message
    assert QUOTE_HINT in message


def test_q21_boolean_llm_failure_signal_refused_with_quote_hint() -> None:
    """Q-21 decision: llm_failure_signal is a signal name, so say to quote it."""
    message = error_of(
        "w:\n  n:\n    node_type: llm\n    event_triggers: [START]\n    prompt: p\n"
        "    llm_failure_signal: NO\n"
    )
    assert message.startswith(PREFIX) and "llm_failure_signal" in message
    assert QUOTE_HINT in message


def test_q21_quoted_names_load_as_strings() -> None:
    config = load_config(
        "w:\n  n:\n    node_type: router\n    event_triggers: ['ON', \"404\"]\n"
        "    event_emissions: [{signal_name: 'NO'}]\n"
    )
    n = config.workflows["w"]["n"]
    assert (n["event_triggers"], n["event_emissions"][0]["signal_name"]) == (["ON", "404"], "NO")


# == Q-22: config shapes that crash the reference ======================================


Q22_CASES = [
    pytest.param(
        "- a\n- b\n",
        "The config must be a mapping: either workflows by name (legacy format) or a mapping "
        "with a 'workflows' key (combined format); got list",
        id="q22_list_document_refused",
    ),
    pytest.param(
        "42\n",
        "The config must be a mapping: either workflows by name (legacy format) or a mapping "
        "with a 'workflows' key (combined format); got int",
        id="q22_scalar_document_refused",
    ),
    pytest.param(
        {"w": {"n": ["router"]}},
        PREFIX + "the node must be a mapping of keys (node_type, event_triggers, ...), got list",
        id="q22_non_mapping_node_refused",
    ),
    pytest.param(
        "w:\n  n:\n",
        PREFIX
        + "the node must be a mapping of keys (node_type, event_triggers, ...), got NoneType",
        id="q22_null_node_refused",
    ),
    pytest.param(
        single({"node_type": 5}),
        PREFIX
        + "'node_type' must be a string, one of router, agent, llm, tool, child; got 5 (int)",
        id="q22_non_string_node_type_refused",
    ),
    pytest.param(
        {"w": {"n": ROUTER}, "context_schema": {"x": "string"}},
        "'context_schema' is a section of the combined format, which needs a top-level "
        "'workflows' key; without it every top-level key is read as a workflow (legacy "
        "format): here 'w' and 'context_schema'. Move the workflows ('w') under "
        "'workflows:' next to 'context_schema'.",
        id="q22_legacy_config_with_context_schema_refused",
    ),
]


@pytest.mark.parametrize(("config", "message"), Q22_CASES)
def test_q22_refuses_with_its_message(config: Any, message: str) -> None:
    assert error_of(config) == message


def test_q22_null_document_refused() -> None:
    assert error_of("null\n").startswith("The config is empty")


def test_q22_legacy_config_with_identities_refused() -> None:
    """The message names the keys that would be read as workflows, so the user sees which
    config is meant."""
    config = {
        "orders": {"n": ROUTER},
        "refunds": {"n": ROUTER},
        "identities": {"triage": "You sort tickets."},
    }
    assert error_of(config) == (
        "'identities' is a section of the combined format, which needs a top-level "
        "'workflows' key; without it every top-level key is read as a workflow (legacy "
        "format): here 'orders', 'refunds' and 'identities'. Move the workflows ('orders' "
        "and 'refunds') under 'workflows:' next to 'identities'."
    )


def test_q22_non_string_node_name_is_not_called_reserved() -> None:
    """Q-22: a node name YAML reads as a boolean (`yes:`) crashes SOE's `startswith`;
    ours must refuse it clearly, not claim it starts with '__'."""
    message = error_of(
        "w:\n  yes:\n    node_type: router\n    event_triggers: [START]\n"
        "    event_emissions: [{signal_name: DONE}]\n"
    )
    assert message.startswith("Workflow 'w'") and "True" in message
    assert "reserved" not in message


# == Q-24: any `__` output field =======================================================


def test_q24_llm_output_field_parent_refused() -> None:
    assert node_error(LLM, output_field="__parent__").startswith(
        PREFIX + "'output_field' cannot be '__parent__'"
    )


def test_q24_agent_output_field_dunder_refused() -> None:
    assert node_error(AGENT, output_field="__scratch").startswith(
        PREFIX + "'output_field' cannot be '__scratch'"
    )


def test_q24_tool_output_field_dunder_refused() -> None:
    assert node_error(TOOL, output_field="__x").startswith(
        PREFIX + "'output_field' cannot be '__x'"
    )


def test_q24_single_underscore_output_field_allowed() -> None:
    config = load_config(single(node(TOOL, output_field="_private")))
    assert config.workflows["w"]["n"]["output_field"] == "_private"


# == Q-41: tool_name null and signal_name "" ===========================================


def test_q41_null_tool_name_refused() -> None:
    assert node_error(TOOL, tool_name=None) == PREFIX + T_TOOL_NAME


def test_q41_empty_tool_name_refused() -> None:
    assert node_error(TOOL, tool_name="") == PREFIX + T_TOOL_NAME


def test_q41_empty_tool_signal_name_refused() -> None:
    emissions = [{"signal_name": "OK"}, {"signal_name": ""}]
    assert node_error(TOOL, event_emissions=emissions) == PREFIX + tool_item_missing_signal(1)


# == duplicate YAML keys ===============================================================


def test_duplicate_node_name_refused() -> None:
    text = "w:\n  n: {node_type: _x}\n  m: {node_type: _x}\n  n: {node_type: _y}\n"
    assert error_of(text) == (
        "'n' is defined twice in the same mapping (lines 2 and 4); YAML would keep only the "
        "last one. Rename or merge them."
    )


def test_duplicate_workflow_name_refused() -> None:
    text = "w:\n  n: {node_type: _x}\nw:\n  m: {node_type: _x}\n"
    assert error_of(text) == (
        "'w' is defined twice in the same mapping (lines 1 and 3); YAML would keep only the "
        "last one. Rename or merge them."
    )


def test_duplicate_node_key_refused() -> None:
    text = (
        "w:\n  n:\n    node_type: router\n    event_triggers: [A]\n    event_triggers: [B]\n"
        "    event_emissions: [{signal_name: DONE}]\n"
    )
    assert error_of(text) == (
        "'event_triggers' is defined twice in the same mapping (lines 4 and 5); YAML would "
        "keep only the last one. Rename or merge them."
    )


# == templates that reach for Python internals =========================================

ESCAPE_TAIL = (
    ", which templates may not use (they render in Jinja's sandbox). Templates can read "
    "context fields, e.g. {{ context.field }} or {{ context.__operational__.signals }}."
)


def test_sandbox_escape_in_router_condition_refused() -> None:
    assert error_of(emission_condition("{{ context.x.__class__ }}")) == (
        PREFIX
        + "Event emission 'DONE' condition reaches for the Python internal '__class__'"
        + ESCAPE_TAIL
    )


def test_sandbox_escape_in_llm_prompt_refused() -> None:
    assert node_error(LLM, prompt="Hi {{ context.f.__globals__ }}") == (
        PREFIX + "'prompt' reaches for the Python internal '__globals__'" + ESCAPE_TAIL
    )


def test_sandbox_escape_in_tool_parameters_refused() -> None:
    parameters = {"query": {"parts": ["ok", "{{ context.x.__class__.__mro__ }}"]}}
    message = node_error(TOOL, parameters=parameters)
    assert message.startswith(
        PREFIX + "'parameters.query.parts[1]' reaches for the Python internal"
    )
    assert message.endswith(ESCAPE_TAIL)


def test_sandbox_escape_in_tool_condition_refused() -> None:
    emissions = [{"signal_name": "DONE", "condition": "{{ result.__class__ }}"}]
    assert node_error(TOOL, event_emissions=emissions) == (
        PREFIX
        + "Event emission 'DONE' condition reaches for the Python internal '__class__'"
        + ESCAPE_TAIL
    )


def test_operational_allowed_in_router_condition() -> None:
    condition = "{{ context.__operational__.signals | length > 2 }}"
    config = load_config(emission_condition(condition))
    assert config.workflows["w"]["n"]["event_emissions"][0]["condition"] == condition


def test_operational_and_parent_allowed_in_prompt() -> None:
    prompt = "{{ context.__operational__.llm_calls }} {{ context.__parent__ }}"
    assert load_config(single(node(LLM, prompt=prompt))).workflows["w"]["n"]["prompt"] == prompt


# == the `temporal:` block =============================================================


def temporal_error(options: Any, base: dict[str, Any] = TOOL) -> str:
    return node_error(base, temporal=options)


def temporal_loads(options: Any, base: dict[str, Any] = TOOL) -> dict[str, Any]:
    return load_config(single(node(base, temporal=options))).workflows["w"]["n"]["temporal"]


@pytest.mark.parametrize("duration", [30, 0.5, "30s", "5m", "500ms", "2h", "1d", "1.5s"])
def test_temporal_duration_accepted(duration: Any) -> None:
    assert temporal_loads({"start_to_close_timeout": duration}) == {
        "start_to_close_timeout": duration
    }


@pytest.mark.parametrize("duration", [0, -1, "30 seconds", "5", True])
def test_temporal_bad_duration_refused(duration: Any) -> None:
    message = temporal_error({"start_to_close_timeout": duration})
    assert message.startswith(PREFIX + "'start_to_close_timeout' must be a duration")


def test_temporal_all_timeouts_accepted_on_llm() -> None:
    options = {
        "start_to_close_timeout": "30s",
        "schedule_to_close_timeout": "5m",
        "schedule_to_start_timeout": 10,
        "heartbeat_timeout": "5s",
        "task_queue": "gpu",
    }
    assert temporal_loads(options, LLM) == options


def test_temporal_accepted_on_agent() -> None:
    assert temporal_loads({"local": True}, AGENT) == {"local": True}


def test_temporal_full_retry_policy_accepted() -> None:
    options = {
        "retry_policy": {
            "initial_interval": "1s",
            "backoff_coefficient": 2,
            "maximum_interval": 60,
            "maximum_attempts": 5,
            "non_retryable_error_types": ["ValueError"],
        }
    }
    assert temporal_loads(options) == options


def test_temporal_unknown_retry_policy_key_refused() -> None:
    assert temporal_error({"retry_policy": {"max_attempts": 3}}) == (
        PREFIX + "'temporal.retry_policy' has unknown key(s) 'max_attempts'; known keys: "
        "initial_interval, backoff_coefficient, maximum_interval, maximum_attempts, "
        "non_retryable_error_types"
    )


def test_temporal_backoff_below_one_refused() -> None:
    assert temporal_error({"retry_policy": {"backoff_coefficient": 0.5}}) == (
        PREFIX + "'temporal.retry_policy.backoff_coefficient' must be a number >= 1"
    )


def test_temporal_negative_maximum_attempts_refused() -> None:
    assert temporal_error({"retry_policy": {"maximum_attempts": -1}}) == (
        PREFIX + "'temporal.retry_policy.maximum_attempts' must be a whole number (0 = unlimited)"
    )


def test_temporal_retry_policy_not_a_mapping_refused() -> None:
    assert temporal_error({"retry_policy": 3}).startswith(
        PREFIX + "'temporal.retry_policy' must be a mapping"
    )


def test_temporal_unknown_key_refused() -> None:
    assert temporal_error({"timeout": 5}) == (
        PREFIX + "'temporal' has unknown key(s) 'timeout'; known keys: start_to_close_timeout, "
        "schedule_to_close_timeout, schedule_to_start_timeout, heartbeat_timeout, "
        "retry_policy, task_queue, local"
    )


def test_temporal_not_a_mapping_refused() -> None:
    assert temporal_error("30s").startswith(
        PREFIX + "'temporal' must be a mapping of activity options"
    )


def test_temporal_local_must_be_boolean() -> None:
    assert temporal_error({"local": "yes"}) == PREFIX + "'temporal.local' must be true or false"


def test_temporal_local_with_task_queue_refused() -> None:
    assert temporal_error({"local": True, "task_queue": "gpu"}) == (
        PREFIX + "'temporal' sets both 'local: true' and 'task_queue': a local activity runs "
        "on the workflow's own worker. Remove one of them."
    )


def test_temporal_local_with_heartbeat_timeout_refused() -> None:
    assert temporal_error({"local": True, "heartbeat_timeout": "5s"}) == (
        PREFIX + "'temporal' sets both 'local: true' and 'heartbeat_timeout': local "
        "activities do not heartbeat. Remove 'heartbeat_timeout' or run the node as a "
        "normal activity."
    )


def test_temporal_not_local_with_task_queue_allowed() -> None:
    assert temporal_loads({"local": False, "task_queue": "gpu"}) == {
        "local": False,
        "task_queue": "gpu",
    }


def test_temporal_refused_on_router() -> None:
    assert temporal_error({"start_to_close_timeout": "5s"}, ROUTER) == (
        PREFIX + "'temporal' has no effect on a router: routers run inside the workflow, "
        "with no activity; remove the block"
    )


def test_temporal_refused_on_child() -> None:
    assert temporal_error({}, CHILD).startswith(
        PREFIX + "'temporal' is not supported on child nodes"
    )


# == loading from a file ===============================================================

FILE_TEXT = (
    "greeting_flow:\n  SayHello:\n    node_type: router\n    event_triggers: [BEGIN]\n"
    "    event_emissions:\n      - signal_name: HELLO_SENT\n"
)


def test_load_from_path_object(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(FILE_TEXT, encoding="utf-8")
    assert list(load_config(path).workflows["greeting_flow"]) == ["SayHello"]


def test_load_from_path_string(tmp_path: Path) -> None:
    path = tmp_path / "flow.yml"
    path.write_text(FILE_TEXT, encoding="utf-8")
    assert list(load_config(str(path)).workflows) == ["greeting_flow"]


def test_load_from_path_string_without_extension(tmp_path: Path) -> None:
    path = tmp_path / "flow"
    path.write_text(FILE_TEXT, encoding="utf-8")
    assert list(load_config(str(path)).workflows) == ["greeting_flow"]


def test_missing_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    assert error_of(path) == f"Config file '{path}' not found."


def test_missing_file_given_as_string_refused(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yml"
    assert error_of(str(path)) == f"Config file '{path}' not found."


def test_file_contents_are_validated(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("w:\n  n:\n    node_type: router\n", encoding="utf-8")
    assert error_of(path) == PREFIX + R_TRIGGERS_REQUIRED


# == JSON round trip ===================================================================


def test_json_unquoted_date_in_parameters_refused() -> None:
    text = (
        "w:\n  n:\n    node_type: tool\n    event_triggers: [START]\n    tool_name: t\n"
        "    parameters: {since: 2024-01-02}\n"
    )
    assert error_of(text) == (
        "config['workflows']['w']['n']['parameters']['since'] is a date, which is not JSON "
        "data; return dicts, lists, strings, numbers, booleans or None. YAML turns unquoted "
        "dates and times into objects: quote them."
    )


def test_json_datetime_in_context_schema_refused() -> None:
    config = {
        "workflows": {"w": {"n": ROUTER}},
        "context_schema": {"due": {"type": "string", "default": datetime.date(2024, 1, 2)}},
    }
    assert error_of(config).startswith("config['context_schema']['due']['default'] is a date")


def test_json_quoted_date_stays_a_string() -> None:
    text = (
        "w:\n  n:\n    node_type: tool\n    event_triggers: [START]\n    tool_name: t\n"
        "    parameters: {since: '2024-01-02'}\n"
    )
    assert load_config(text).workflows["w"]["n"]["parameters"] == {"since": "2024-01-02"}


def test_json_round_trip_of_to_dict_is_identical() -> None:
    source = {
        "workflows": {
            "w": {
                "n": node(TOOL, parameters={"a": [1, 2.5, None, True]}, temporal={"local": True}),
                "r": ROUTER,
            }
        },
        "context_schema": {"x": "string"},
        "identities": {"bot": "You help."},
    }
    data = load_config(source).to_dict()
    assert json.loads(json.dumps(data)) == data


def test_json_to_dict_loads_back_to_an_equal_config() -> None:
    config = load_config({"workflows": {"w": {"n": LLM}}, "identities": {"bot": "Hi"}})
    assert load_config(config.to_dict()) == config


def test_json_numeric_workflow_name_does_not_change_in_transit() -> None:
    """A workflow name YAML reads as a number must not silently become a string in JSON
    (the workflow input): refuse it, as unquoted dates are refused."""
    text = "2024:\n  n:\n    node_type: router\n    event_triggers: [A]\n    event_emissions: [{signal_name: B}]\n"
    assert "2024" in error_of(text)


# == validate_workflows ================================================================


def test_validate_workflows_accepts_a_valid_registry() -> None:
    assert validate_workflows({"w": {"n": ROUTER}, "x": {"m": LLM}}) is None


def test_validate_workflows_reports_with_prefix() -> None:
    with pytest.raises(ConfigError) as info:
        validate_workflows({"w": {"n": node(TOOL, tool_name=MISSING)}})
    assert str(info.value) == PREFIX + T_TOOL_NAME


def test_validate_workflows_runs_the_jinja_check() -> None:
    with pytest.raises(ConfigError) as info:
        validate_workflows(emission_condition("{{ x | shout }}"))
    assert str(info.value) == (
        PREFIX + "Event emission 'DONE' condition: Jinja syntax error - No filter named 'shout'."
    )


def test_validate_workflows_workflow_named_workflows_is_a_workflow() -> None:
    """Q-26 fix: a registry is passed explicitly, so a workflow named 'workflows' is not
    mistaken for the combined format's section."""
    assert validate_workflows({"workflows": {"n": ROUTER}}) is None


# == the JSON Schema ===================================================================


def test_schema_is_valid_draft_2020_12() -> None:
    schema = config_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_accepts_the_spec_examples() -> None:
    validator = Draft202012Validator(config_schema())
    document = {
        "workflows": {"intake": {"Classify": node(LLM, identity="triage")}},
        "identities": {"triage": "You sort support tickets."},
    }
    assert list(validator.iter_errors(document)) == []


def test_schema_copy_is_independent() -> None:
    config_schema()["$defs"].clear()
    assert "node" in config_schema()["$defs"]
