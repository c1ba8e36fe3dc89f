"""LLM nodes on the pure engine: config and call shape (F-LLM-1..10), counters (F-OPS-4),
signal selection (F-SIG-6/7 with DESIGN decision D-4, Q-16), prompt context and warnings
(F-CTX-8..10, Q-17), conversation history and identities (F-HIST-1..4, F-ID-3..5), the
schema warning (F-SCHEMA-3, Q-34, Q-39), null outputs (Q-40) and our Q-9 decision (a
downstream failure never triggers the llm node's failure signal)."""

from __future__ import annotations

import json
from typing import Any

from soe_temporal.engine import Execution
from soe_temporal.engine.commands import CallLlm, LlmOutcome
from soe_temporal.engine.prompts import history_text

from .helpers import ops, start, taken_events

NOT_JSON = "I cannot answer in JSON, sorry."


def llm_node(**config: Any) -> dict[str, Any]:
    return {"node_type": "llm", "event_triggers": ["GO"], "prompt": "Say hi", **config}


def begin(
    nodes: dict[str, dict[str, Any]],
    context: dict[str, Any] | None = None,
    signals: list[str] | None = None,
    **kwargs: Any,
) -> tuple[Execution, CallLlm]:
    """Start an execution of workflow ``wf`` and return its first (only) model call."""
    execution = start({"wf": nodes}, signals or ["GO"], context, **kwargs)
    [call] = execution.process_pending()
    assert isinstance(call, CallLlm)
    return execution, call


def reply(execution: Execution, call: CallLlm, text: str) -> list[Any]:
    """Answer ``call`` with ``text``; broadcast what it emits; return the new commands."""
    commands = list(execution.complete_call(call.call_id, LlmOutcome("ok", text=text)))
    commands.extend(execution.process_pending())
    return commands


def fail(execution: Execution, call: CallLlm, error: str = "boom") -> list[Any]:
    commands = list(execution.complete_call(call.call_id, LlmOutcome("failed", error=error)))
    commands.extend(execution.process_pending())
    return commands


def document(call: CallLlm) -> dict[str, Any]:
    """The input document: the first line of the prompt (F-PROTO-1)."""
    return json.loads(call.prompt.split("\n", 1)[0])


def response_schema(call: CallLlm) -> dict[str, Any]:
    """The response model's JSON Schema: the line after the format lead (F-PROTO-2)."""
    return json.loads(call.prompt.split("\n\n", 1)[1].split("\n")[1])


def broadcasts(events: list[dict[str, Any]]) -> list[list[str]]:
    return [e["signals"] for e in events if e["event_type"] == "signals_broadcast"]


def events_of(execution: Execution, event_type: str) -> list[dict[str, Any]]:
    return [e for e in taken_events(execution) if e["event_type"] == event_type]


def emitted_after_reply(
    emissions: list[dict[str, Any]], text: str, **config: Any
) -> tuple[list[list[str]], CallLlm]:
    """The broadcasts an llm node's answer causes (its own start broadcast excluded)."""
    execution, call = begin({"L": llm_node(event_emissions=emissions, **config)})
    execution.take_events()
    reply(execution, call, text)
    return broadcasts(taken_events(execution)), call


# -- F-LLM-1: config, defaults, passthrough --------------------------------------------


def test_f_llm_1_default_retries_is_three_so_four_calls_at_most():
    execution, call = begin({"L": llm_node()})
    calls = [call]
    while True:
        follow = reply(execution, calls[-1], NOT_JSON)
        if not follow:
            break
        calls.extend(follow)
    assert [c.attempt for c in calls] == [1, 2, 3, 4]
    assert execution.state.failures[-1].error.startswith("Max retries (3) exceeded.")


def test_f_llm_1_retries_zero_makes_a_single_call():
    execution, call = begin({"L": llm_node(retries=0)})
    assert reply(execution, call, NOT_JSON) == []
    assert len(execution.state.failures) == 1


def test_f_llm_1_unknown_keys_and_name_are_passed_to_the_model_call():
    node = llm_node(model="small-fast", temperature=0.2)
    _, call = begin({"Triage": node})
    assert call.config == {**node, "name": "Triage"}


def test_f_proto_8_every_retry_gets_the_same_config():
    execution, call = begin({"L": llm_node(model="m", retries=2)})
    [retry] = reply(execution, call, NOT_JSON)
    assert retry.config == call.config == {**llm_node(model="m", retries=2), "name": "L"}


def test_f_exec_7_f_api_5_f_cfg_7_the_node_config_reaches_the_model_with_its_name():
    """The node's whole config, unknown keys included, plus ``name`` (which overwrites a
    user ``name`` key), as SOE hands it to call_llm."""
    execution, call = begin({"L": llm_node(name="mine", temperature=0.2, vendor_key="x")})
    assert call.config == {**llm_node(temperature=0.2, vendor_key="x"), "name": "L"}


def test_f_llm_1_identity_system_prompt_travels_with_the_call():
    _, call = begin({"L": llm_node(identity="triage")}, identities={"triage": "You triage."})
    assert call.system_prompt == "You triage."


def test_f_llm_1_no_identity_means_no_system_prompt():
    _, call = begin({"L": llm_node()}, identities={"triage": "You triage."})
    assert call.system_prompt is None


# -- F-LLM-2: preparation order, the input document -----------------------------------


def test_f_llm_2_document_keys_are_prompt_context_history_in_order():
    _, call = begin({"L": llm_node()})
    assert list(document(call)) == ["prompt", "context", "conversation_history"]


def test_f_llm_2_prompt_is_rendered_against_the_context():
    _, call = begin({"L": llm_node(prompt="Summarise: {{ context.ticket }}")}, {"ticket": "fire"})
    assert document(call)["prompt"] == "Summarise: fire"


def test_f_llm_2_prompt_renders_the_latest_value_of_a_field():
    execution = start(
        {
            "wf": {
                "W": {
                    "node_type": "router",
                    "event_triggers": ["GO"],
                    "event_emissions": [{"signal_name": "ASK"}],
                },
                "L": llm_node(event_triggers=["ASK"], prompt="{{ context.n }}"),
            }
        },
        ["GO"],
        {"n": 1},
    )
    execution.context["n"].append(2)
    [call] = execution.process_pending()
    assert document(call)["prompt"] == "2"


def test_f_llm_2_llm_call_event_carries_the_identity():
    execution, _ = begin({"L": llm_node(identity="triage")})
    [event] = events_of(execution, "llm_call")
    assert event["identity"] == "triage"


def test_f_llm_2_llm_call_event_identity_null_without_identity():
    execution, _ = begin({"L": llm_node()})
    [event] = events_of(execution, "llm_call")
    assert event["identity"] is None


def test_f_llm_2_node_dispatch_is_counted():
    execution, _ = begin({"L": llm_node()})
    assert ops(execution)["nodes"] == {"L": 1}


# -- F-OPS-4 / F-OPS-6: counters -----------------------------------------------------------


def test_f_ops_4_llm_calls_counted_before_the_model_answers():
    execution, _ = begin({"L": llm_node()})
    assert ops(execution)["llm_calls"] == 1


def test_f_ops_4_llm_calls_counted_once_despite_retries():
    execution, call = begin({"L": llm_node(retries=2)})
    [retry] = reply(execution, call, NOT_JSON)
    [retry2] = reply(execution, retry, NOT_JSON)
    reply(execution, retry2, '{"output": "ok"}')
    assert ops(execution)["llm_calls"] == 1


def test_f_ops_4_llm_calls_counted_on_failure_too():
    execution, call = begin({"L": llm_node()})
    fail(execution, call)
    assert ops(execution)["llm_calls"] == 1


def test_f_ops_4_each_execution_of_the_node_counts_once():
    execution, call = begin({"L": llm_node()})
    reply(execution, call, '{"output": "a"}')
    execution.deliver(["GO"])
    [second] = execution.process_pending()
    reply(execution, second, '{"output": "b"}')
    assert ops(execution)["llm_calls"] == 2


def test_f_ops_6_errors_counted_once_for_a_failure_after_retries():
    execution, call = begin({"L": llm_node(retries=1)})
    [retry] = reply(execution, call, NOT_JSON)
    assert ops(execution)["errors"] == 0
    reply(execution, retry, NOT_JSON)
    assert ops(execution)["errors"] == 1


# -- F-LLM-3 / 4 / 5 / 6: what the model answers and what is saved ---------------------


def test_f_llm_3_no_output_field_expects_output_string():
    _, call = begin({"L": llm_node()})
    schema = response_schema(call)
    assert schema["required"] == ["output"]
    assert schema["properties"]["output"]["type"] == "string"


def test_f_llm_3_output_is_not_stored_in_context():
    execution, call = begin({"L": llm_node()}, {"x": 1})
    reply(execution, call, '{"output": "hello"}')
    assert {k for k in execution.context if not k.startswith("__")} == {"x"}
    assert execution.state.failures == []


def test_f_llm_3_non_string_output_is_refused_and_retried():
    execution, call = begin({"L": llm_node()})
    [retry] = reply(execution, call, '{"output": 5}')
    assert retry.attempt == 2


def test_f_llm_4_output_field_without_schema_takes_any_json_value():
    execution, call = begin({"L": llm_node(output_field="summary")})
    reply(execution, call, '{"summary": {"a": [1, 2]}}')
    assert execution.context["summary"] == [{"a": [1, 2]}]


def test_f_llm_4_missing_output_field_key_is_refused():
    execution, call = begin({"L": llm_node(output_field="summary")})
    [retry] = reply(execution, call, '{"other": 1}')
    assert retry.attempt == 2
    assert "summary" not in execution.context


def test_f_llm_6_null_output_is_not_stored():
    execution, call = begin({"L": llm_node(output_field="summary")})
    reply(execution, call, '{"summary": null}')
    assert "summary" not in execution.context
    assert execution.state.failures == []


def test_f_llm_6_output_is_appended_to_an_existing_history():
    execution, call = begin({"L": llm_node(output_field="summary")}, {"summary": "old"})
    reply(execution, call, '{"summary": "new"}')
    assert execution.context["summary"] == ["old", "new"]


def test_f_llm_5_schema_field_expects_the_bare_typed_value():
    execution, call = begin(
        {"L": llm_node(output_field="count")}, context_schema={"count": "integer"}
    )
    assert response_schema(call)["type"] == "integer"
    reply(execution, call, "42")
    assert execution.context["count"] == [42]


def test_f_llm_5_bare_value_is_coerced_per_schema():
    execution, call = begin(
        {"L": llm_node(output_field="count")}, context_schema={"count": "integer"}
    )
    reply(execution, call, '"7"')
    assert execution.context["count"] == [7]


def test_f_llm_5_wrong_typed_bare_value_is_refused():
    execution, call = begin(
        {"L": llm_node(output_field="count")}, context_schema={"count": "integer"}
    )
    [retry] = reply(execution, call, '"many"')
    assert retry.attempt == 2


def test_f_llm_5_nested_object_stored_as_mapping_with_extras_kept():
    schema = {"person": {"type": "object", "properties": {"name": "string", "age": "int"}}}
    execution, call = begin({"L": llm_node(output_field="person")}, context_schema=schema)
    reply(execution, call, '{"name": "Ada", "age": "36", "title": "Countess"}')
    assert execution.context["person"] == [{"name": "Ada", "age": 36, "title": "Countess"}]


def test_f_llm_5_with_selection_expects_typed_wrapper():
    execution, call = begin(
        {
            "L": llm_node(
                output_field="count",
                event_emissions=[{"signal_name": "BIG", "condition": "The count is large"}],
            )
        },
        context_schema={"count": "integer"},
    )
    schema = response_schema(call)
    assert schema["properties"]["count"]["type"] == "integer"
    assert "selected_signals" in schema["properties"]
    reply(execution, call, '{"count": "9", "selected_signals": ["BIG"]}')
    assert execution.context["count"] == [9]
    assert ops(execution)["signals"][-1] == "BIG"


# -- F-LLM-7 / F-HIST-3: the conversation turn -----------------------------------------


def test_f_hist_3_turn_appended_after_success():
    execution, call = begin(
        {"L": llm_node(identity="bot", prompt="Hi {{ context.name }}", output_field="out")},
        {"name": "Ada"},
    )
    reply(execution, call, '{"out": "Hello Ada"}')
    assert execution.state.conversation_history == [
        {"role": "user", "content": "Hi Ada"},
        {"role": "assistant", "content": "Hello Ada"},
    ]


def test_f_llm_7_assistant_turn_is_the_python_string_form_of_the_output():
    execution, call = begin({"L": llm_node(identity="bot", output_field="out")})
    reply(execution, call, '{"out": {"a": 1, "ok": true}}')
    assert execution.state.conversation_history[-1] == {
        "role": "assistant",
        "content": "{'a': 1, 'ok': True}",
    }


def test_f_llm_7_turn_without_output_field_uses_the_output_key():
    execution, call = begin({"L": llm_node(identity="bot")})
    reply(execution, call, '{"output": "plain answer"}')
    assert execution.state.conversation_history[-1]["content"] == "plain answer"


def test_f_llm_7_no_turn_on_failure():
    execution, call = begin({"L": llm_node(identity="bot")})
    fail(execution, call)
    assert execution.state.conversation_history == []


def test_f_llm_7_turn_recorded_before_emission_is_seen_downstream():
    execution = start(
        {
            "wf": {
                "A": llm_node(identity="bot", event_emissions=[{"signal_name": "NEXT"}]),
                "B": llm_node(identity="bot", event_triggers=["NEXT"]),
            }
        },
        ["GO"],
    )
    [first] = execution.process_pending()
    [second] = reply(execution, first, '{"output": "one"}')
    assert document(second)["conversation_history"] == "[user]: Say hi\n[assistant]: one"


# -- F-HIST-1 / 2 / 4, F-ID-3..5 ---------------------------------------------------------


def test_f_hist_1_no_identity_means_no_history():
    execution, call = begin({"L": llm_node()}, identities={"bot": "sys"})
    reply(execution, call, '{"output": "x"}')
    assert execution.state.conversation_history == []
    assert document(call)["conversation_history"] == ""


def test_f_id_3_empty_identity_disables_history():
    execution, call = begin({"L": llm_node(identity="")}, identities={"": "sys"})
    reply(execution, call, '{"output": "x"}')
    assert execution.state.conversation_history == []


def test_f_hist_2_system_prompt_inserted_when_history_is_empty():
    _, call = begin({"L": llm_node(identity="bot")}, identities={"bot": "You are kind."})
    assert document(call)["conversation_history"] == "[system]: You are kind."


def test_f_hist_2_system_prompt_persisted_even_if_the_node_fails():
    execution, call = begin({"L": llm_node(identity="bot")}, identities={"bot": "You are kind."})
    fail(execution, call)
    assert execution.state.conversation_history == [{"role": "system", "content": "You are kind."}]


def test_f_hist_2_system_prompt_persisted_before_the_model_answers():
    execution, _ = begin({"L": llm_node(identity="bot")}, identities={"bot": "You are kind."})
    assert execution.state.conversation_history == [{"role": "system", "content": "You are kind."}]


def test_f_id_4_second_identity_shares_history_and_adds_no_system_prompt():
    execution = start(
        {
            "wf": {
                "Ask": llm_node(identity="interviewer", event_emissions=[{"signal_name": "ASKED"}]),
                "Note": llm_node(identity="note_taker", event_triggers=["ASKED"]),
            }
        },
        ["GO"],
        identities={"interviewer": "You interview.", "note_taker": "You take notes."},
    )
    [ask] = execution.process_pending()
    [note] = reply(execution, ask, '{"output": "q1"}')
    reply(execution, note, '{"output": "n1"}')
    assert [e["role"] for e in execution.state.conversation_history] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
    ]
    assert execution.state.conversation_history[0]["content"] == "You interview."


def test_f_hist_4_history_text_has_one_line_per_entry():
    execution = start(
        {
            "wf": {
                "A": llm_node(identity="bot", event_emissions=[{"signal_name": "NEXT"}]),
                "B": llm_node(identity="bot", event_triggers=["NEXT"]),
            }
        },
        ["GO"],
        identities={"bot": "Be brief."},
    )
    [first] = execution.process_pending()
    [second] = reply(execution, first, '{"output": "one"}')
    assert document(second)["conversation_history"] == (
        "[system]: Be brief.\n[user]: Say hi\n[assistant]: one"
    )


def test_f_hist_4_entry_without_role_is_unknown():
    assert history_text([{"content": "x"}, {"role": "tool", "content": "y"}]) == (
        "[unknown]: x\n[tool]: y"
    )


def test_f_hist_4_empty_history_is_empty_text():
    assert history_text([]) == ""


def test_f_id_3_identity_is_used_literally_not_rendered():
    execution, call = begin(
        {"L": llm_node(identity="{{ context.who }}")},
        {"who": "bob"},
        identities={"{{ context.who }}": "literal", "bob": "rendered"},
    )
    assert execution.state.conversation_history == [{"role": "system", "content": "literal"}]
    assert call.system_prompt == "literal"


def test_f_id_5_unknown_identity_enables_history_without_system_prompt():
    execution, call = begin({"L": llm_node(identity="stranger")}, identities={"bot": "sys"})
    assert document(call)["conversation_history"] == ""
    reply(execution, call, '{"output": "x"}')
    assert [e["role"] for e in execution.state.conversation_history] == ["user", "assistant"]


# -- F-LLM-8, F-NODE-2, Q-40: what this node's conditions see -----------------------------


def test_f_llm_8_conditions_see_the_nodes_own_output():
    emissions = [
        {"signal_name": "YES", "condition": "{{ context.verdict == 'yes' }}"},
        {"signal_name": "NO", "condition": "{{ context.verdict == 'no' }}"},
    ]
    seen, _ = emitted_after_reply(emissions, '{"verdict": "yes"}', output_field="verdict")
    assert seen == [["YES"]]


def test_f_node_2_conditions_see_the_nodes_own_dispatch_count():
    emissions = [
        {"signal_name": "FIRST", "condition": "{{ context.__operational__.nodes['L'] == 1 }}"}
    ]
    seen, _ = emitted_after_reply(emissions, '{"output": "x"}')
    assert seen == [["FIRST"]]


def test_f_node_2_conditions_do_not_see_the_nodes_own_llm_calls_increment():
    emissions = [
        {"signal_name": "UNSEEN", "condition": "{{ context.__operational__.llm_calls == 0 }}"}
    ]
    seen, _ = emitted_after_reply(emissions, '{"output": "x"}')
    assert seen == [["UNSEEN"]]


def test_q_40_null_output_not_stored_but_seen_by_conditions():
    emissions = [{"signal_name": "EMPTY", "condition": "{{ context.out is none }}"}]
    execution, call = begin(
        {"L": llm_node(output_field="out", event_emissions=emissions)}, {"out": "old"}
    )
    reply(execution, call, '{"out": null}')
    assert execution.context["out"] == ["old"]
    assert ops(execution)["signals"] == ["GO", "EMPTY"]


def test_q_40_null_output_makes_a_new_field_defined_for_conditions():
    emissions = [{"signal_name": "DEFINED", "condition": "{{ 'out' in context }}"}]
    execution, call = begin({"L": llm_node(output_field="out", event_emissions=emissions)})
    reply(execution, call, '{"out": null}')
    assert "out" not in execution.context
    assert ops(execution)["signals"] == ["GO", "DEFINED"]


# -- F-SIG-6 / F-SIG-7 with D-4 -------------------------------------------------------------


def test_f_sig_6_no_emissions_emits_nothing_and_model_not_asked():
    seen, call = emitted_after_reply([], '{"output": "x"}')
    assert seen == []
    assert "selected_signals" not in response_schema(call)["properties"]


def test_d_4_single_unconditional_emission_always_emitted_without_asking():
    seen, call = emitted_after_reply([{"signal_name": "DONE"}], '{"output": "x"}')
    assert seen == [["DONE"]]
    assert "selected_signals" not in response_schema(call)["properties"]


def test_d_4_several_unconditional_emissions_all_emitted_in_one_broadcast():
    emissions = [{"signal_name": "A"}, {"signal_name": "B", "condition": ""}]
    seen, call = emitted_after_reply(emissions, '{"output": "x"}')
    assert seen == [["A", "B"]]
    assert "selected_signals" not in response_schema(call)["properties"]


def test_d_4_single_described_emission_is_offered_to_the_model():
    emissions = [{"signal_name": "URGENT", "condition": "An outage"}]
    _, call = emitted_after_reply(emissions, '{"output": "x"}')
    assert response_schema(call)["properties"]["selected_signals"]["items"]["enum"] == ["URGENT"]


def test_d_4_single_described_emission_not_emitted_when_model_picks_none():
    emissions = [{"signal_name": "URGENT", "condition": "An outage"}]
    seen, _ = emitted_after_reply(emissions, '{"output": "x", "selected_signals": []}')
    assert seen == []


def test_d_4_single_described_emission_emitted_when_model_picks_it():
    emissions = [{"signal_name": "URGENT", "condition": "An outage"}]
    seen, _ = emitted_after_reply(emissions, '{"output": "x", "selected_signals": ["URGENT"]}')
    assert seen == [["URGENT"]]


def test_f_sig_6_model_picks_broadcast_in_the_models_order():
    emissions = [
        {"signal_name": "A", "condition": "first"},
        {"signal_name": "B", "condition": "second"},
    ]
    seen, _ = emitted_after_reply(emissions, '{"output": "x", "selected_signals": ["B", "A"]}')
    assert seen == [["B", "A"]]


def test_f_sig_6_two_described_and_no_pick_emits_nothing():
    emissions = [
        {"signal_name": "A", "condition": "first"},
        {"signal_name": "B", "condition": "second"},
    ]
    seen, _ = emitted_after_reply(emissions, '{"output": "x"}')
    assert seen == []


def test_d_4_undescribed_first_in_config_order_then_picks_in_one_broadcast():
    emissions = [
        {"signal_name": "U1"},
        {"signal_name": "D1", "condition": "one"},
        {"signal_name": "U2", "condition": None},
        {"signal_name": "D2", "condition": "two"},
    ]
    seen, call = emitted_after_reply(emissions, '{"output": "x", "selected_signals": ["D2"]}')
    assert seen == [["U1", "U2", "D2"]]
    assert response_schema(call)["properties"]["selected_signals"]["items"]["enum"] == [
        "D1",
        "D2",
    ]


def test_f_sig_7_selection_description_lists_each_option_with_its_text():
    emissions = [
        {"signal_name": "URGENT", "condition": "An outage or data loss"},
        {"signal_name": "ROUTINE", "condition": "Anything else"},
    ]
    _, call = emitted_after_reply(emissions, '{"output": "x"}')
    description = response_schema(call)["properties"]["selected_signals"]["description"]
    assert "- URGENT: An outage or data loss" in description
    assert "- ROUTINE: Anything else" in description


def test_f_sig_7_selection_is_optional_with_empty_default():
    emissions = [{"signal_name": "A", "condition": "first"}]
    _, call = emitted_after_reply(emissions, '{"output": "x"}')
    schema = response_schema(call)
    assert "selected_signals" not in schema["required"]
    assert schema["properties"]["selected_signals"]["default"] == []


def test_f_sig_7_pick_outside_the_options_is_refused_and_retried():
    emissions = [
        {"signal_name": "A", "condition": "first"},
        {"signal_name": "B", "condition": "second"},
    ]
    execution, call = begin({"L": llm_node(event_emissions=emissions)})
    [retry] = reply(execution, call, '{"output": "x", "selected_signals": ["EVIL"]}')
    assert retry.attempt == 2
    assert "EVIL" not in ops(execution)["signals"]


def test_f_sig_7_unrequested_selected_signals_are_ignored():
    """With no described emission the model is not asked, so a volunteered
    ``selected_signals`` is not part of the response model and emits nothing."""
    seen, _ = emitted_after_reply(
        [{"signal_name": "DONE"}], '{"output": "x", "selected_signals": ["EVIL"]}'
    )
    assert seen == [["DONE"]]


def test_q_16_jinja_present_emits_plain_text_and_unconditional_without_asking():
    emissions = [
        {"signal_name": "PLAIN", "condition": "Described in prose"},
        {"signal_name": "ALWAYS"},
        {"signal_name": "TRUE", "condition": "{{ 1 == 1 }}"},
        {"signal_name": "FALSE", "condition": "{{ 1 == 2 }}"},
    ]
    seen, call = emitted_after_reply(emissions, '{"output": "x"}')
    assert seen == [["PLAIN", "ALWAYS", "TRUE"]]
    assert "selected_signals" not in response_schema(call)["properties"]


def test_q_16_jinja_present_ignores_volunteered_selected_signals():
    emissions = [{"signal_name": "A", "condition": "{{ false }}"}, {"signal_name": "B"}]
    seen, _ = emitted_after_reply(emissions, '{"output": "x", "selected_signals": ["A"]}')
    assert seen == [["B"]]


# -- F-LLM-9 / F-LLM-10: failures -------------------------------------------------------


def test_f_proto_6_model_call_error_is_not_retried():
    execution, call = begin({"L": llm_node(retries=3)})
    assert fail(execution, call, "provider down") == []
    assert execution.state.failures[-1].error == "provider down"


def test_f_llm_9_failure_signal_broadcast_and_failure_handled():
    execution, call = begin({"L": llm_node(llm_failure_signal="L_FAILED")})
    fail(execution, call, "boom")
    assert ops(execution)["signals"] == ["GO", "L_FAILED"]
    assert execution.state.failures[-1].handled is True
    assert ops(execution)["errors"] == 1


def test_f_llm_9_without_failure_signal_the_failure_is_unhandled():
    execution, call = begin({"L": llm_node()})
    fail(execution, call, "boom")
    [failure] = execution.state.failures
    assert (failure.node_name, failure.error, failure.handled) == ("L", "boom", False)
    assert ops(execution)["signals"] == ["GO"]


def test_f_llm_9_node_error_event_names_the_node_type_and_error():
    execution, call = begin({"L": llm_node()})
    execution.take_events()
    fail(execution, call, "boom")
    [event] = events_of(execution, "node_error")
    assert event["node_type"] == "llm"
    assert event["error"] == "boom"


def test_f_llm_9_retries_exhausted_message():
    execution, call = begin({"L": llm_node(retries=1, llm_failure_signal="F")})
    [retry] = reply(execution, call, NOT_JSON)
    reply(execution, retry, NOT_JSON)
    error = execution.state.failures[-1].error
    assert error.startswith("Max retries (1) exceeded. Last error: ")
    assert len(error) > len("Max retries (1) exceeded. Last error: ")


def test_f_llm_9_failure_writes_nothing_to_output_field():
    execution, call = begin({"L": llm_node(output_field="out", llm_failure_signal="F")})
    fail(execution, call)
    assert "out" not in execution.context


def test_f_llm_9_failure_emits_no_success_signals():
    execution, call = begin(
        {"L": llm_node(event_emissions=[{"signal_name": "DONE"}], llm_failure_signal="F")}
    )
    fail(execution, call)
    assert "DONE" not in ops(execution)["signals"]


def test_f_llm_10_success_on_a_later_attempt_stops_retrying():
    execution, call = begin({"L": llm_node(retries=3, output_field="out")})
    [retry] = reply(execution, call, NOT_JSON)
    assert reply(execution, retry, '{"out": "fine"}') == []
    assert execution.context["out"] == ["fine"]
    assert execution.state.failures == []


def test_f_proto_3_retry_prompt_extends_the_previous_prompt():
    execution, call = begin({"L": llm_node(retries=2)})
    [retry] = reply(execution, call, NOT_JSON)
    [retry2] = reply(execution, retry, "still not json")
    assert retry.prompt.startswith(call.prompt + "\n\n")
    assert retry2.prompt.startswith(retry.prompt + "\n\n")
    assert NOT_JSON in retry2.prompt and "still not json" in retry2.prompt


def test_q_9_downstream_failure_never_triggers_the_llm_failure_signal():
    execution = start(
        {
            "wf": {
                "L": llm_node(
                    output_field="out",
                    event_emissions=[{"signal_name": "DONE"}],
                    llm_failure_signal="L_FAILED",
                ),
                "M": llm_node(event_triggers=["DONE"]),
            }
        },
        ["GO"],
    )
    [first] = execution.process_pending()
    [downstream] = reply(execution, first, '{"out": "saved"}')
    fail(execution, downstream, "downstream broke")
    assert "L_FAILED" not in ops(execution)["signals"]
    assert [(f.node_name, f.handled) for f in execution.state.failures] == [("M", False)]
    assert execution.context["out"] == ["saved"]


def test_q_9_downstream_node_error_never_counts_against_the_llm_node():
    execution = start(
        {
            "wf": {
                "L": llm_node(
                    event_emissions=[{"signal_name": "DONE"}], llm_failure_signal="L_FAILED"
                ),
                "Broken": {"node_type": "_internal", "event_triggers": ["DONE"]},
            }
        },
        ["GO"],
    )
    [first] = execution.process_pending()
    reply(execution, first, '{"output": "ok"}')
    assert ops(execution)["signals"] == ["GO", "DONE"]
    assert [f.node_name for f in execution.state.failures] == ["Broken"]


# -- F-CTX-8 / 9 / 10: prompt rendering, context extraction, warnings ---------------------


def test_f_ctx_8_q_7_unparsable_template_is_sent_as_raw_text():
    _, call = begin({"L": llm_node(prompt="Use {x} and {{ not closed")})
    assert document(call)["prompt"] == "Use {x} and {{ not closed"


def test_f_ctx_8_prompt_without_jinja_markers_is_verbatim():
    _, call = begin({"L": llm_node(prompt="Return {x} as {'a': 1}\n")})
    assert document(call)["prompt"] == "Return {x} as {'a': 1}\n"


def test_f_ctx_8_rendering_drops_one_trailing_newline():
    _, call = begin({"L": llm_node(prompt="Hi {{ context.n }}\n")}, {"n": 1})
    assert document(call)["prompt"] == "Hi 1"


def test_f_ctx_8_rendering_error_keeps_the_raw_template_and_warns():
    template = "Hi {{ context.missing.deeper }}"
    execution, call = begin({"L": llm_node(prompt=template)})
    assert document(call)["prompt"] == template
    [event] = events_of(execution, "context_warning")
    assert any(w.startswith("Template rendering error: ") for w in event["warnings"])


def test_f_ctx_8_syntax_error_warns_as_jinja_syntax_error():
    execution, _ = begin({"L": llm_node(prompt="Hi {{ context.n + }}")}, {"n": 1})
    [event] = events_of(execution, "context_warning")
    assert any(w.startswith("Jinja syntax error: ") for w in event["warnings"])


def test_f_ctx_9_referenced_field_sent_as_indented_json():
    _, call = begin({"L": llm_node(prompt="Fix {{ context.ticket }}")}, {"ticket": "printer"})
    assert document(call)["context"] == json.dumps({"ticket": "printer"}, indent=2)


def test_f_ctx_9_latest_value_is_sent():
    execution = start(
        {
            "wf": {
                "W": {
                    "node_type": "router",
                    "event_triggers": ["GO"],
                    "event_emissions": [{"signal_name": "ASK"}],
                },
                "L": llm_node(event_triggers=["ASK"], prompt="{{ context.n }}"),
            }
        },
        ["GO"],
        {"n": 1},
    )
    execution.context["n"].append(2)
    [call] = execution.process_pending()
    assert json.loads(document(call)["context"]) == {"n": 2}


def test_f_ctx_9_bracket_references_are_found():
    _, call = begin(
        {"L": llm_node(prompt="{{ context['a'] }} {{ context[\"b\"] }}")}, {"a": 1, "b": 2}
    )
    assert json.loads(document(call)["context"]) == {"a": 1, "b": 2}


def test_f_ctx_9_no_reference_gives_empty_context_string():
    _, call = begin({"L": llm_node(prompt="Say hi")}, {"a": 1})
    assert document(call)["context"] == ""


def test_f_ctx_9_unreferenced_fields_are_not_sent():
    _, call = begin({"L": llm_node(prompt="{{ context.a }}")}, {"a": 1, "secret": "s"})
    assert json.loads(document(call)["context"]) == {"a": 1}


def test_q_17_only_last_reference_inside_one_expression():
    _, call = begin({"L": llm_node(prompt="{{ context.a ~ context.b }}")}, {"a": "1", "b": "2"})
    assert json.loads(document(call)["context"]) == {"b": "2"}


def test_q_17_references_in_statement_blocks_are_not_sent():
    _, call = begin({"L": llm_node(prompt="{% if context.flag %}yes{% endif %}")}, {"flag": True})
    assert document(call)["prompt"] == "yes"
    assert document(call)["context"] == ""


def test_f_ctx_9_missing_field_left_out_with_warning():
    execution, call = begin({"L": llm_node(prompt="{{ context.a }}{{ context.gone }}")}, {"a": 1})
    assert json.loads(document(call)["context"]) == {"a": 1}
    [event] = events_of(execution, "context_warning")
    assert "Context field 'gone' referenced in prompt but not found in context" in event["warnings"]


def test_f_ctx_9_none_field_included_as_null_with_warning():
    execution, call = begin({"L": llm_node(prompt="{{ context.a }}")}, {"a": None})
    assert json.loads(document(call)["context"]) == {"a": None}
    [event] = events_of(execution, "context_warning")
    assert event["warnings"] == ["Context field 'a' is None"]


def test_f_ctx_9_empty_string_field_included_with_warning():
    execution, call = begin({"L": llm_node(prompt="{{ context.a }}")}, {"a": ""})
    assert json.loads(document(call)["context"]) == {"a": ""}
    [event] = events_of(execution, "context_warning")
    assert event["warnings"] == ["Context field 'a' is empty string"]


def test_f_ctx_9_internal_field_sent_raw():
    _, call = begin({"L": llm_node(prompt="{{ context.__meta }}")}, {"__meta": [1, 2]})
    assert json.loads(document(call)["context"]) == {"__meta": [1, 2]}


def test_f_ctx_9_context_json_escapes_non_ascii():
    _, call = begin({"L": llm_node(prompt="{{ context.city }}")}, {"city": "Zürich"})
    assert "\\u00fc" in document(call)["context"]
    assert document(call)["prompt"] == "Zürich"


def test_f_ctx_10_one_warning_event_combines_extraction_and_rendering():
    execution, _ = begin({"L": llm_node(prompt="{{ context.gone.deeper }}")})
    [event] = events_of(execution, "context_warning")
    assert len(event["warnings"]) == 2
    assert event["warnings"][0].startswith("Context field 'gone'")
    assert event["warnings"][1].startswith("Template rendering error: ")


def test_f_ctx_10_no_warning_event_without_warnings():
    execution, _ = begin({"L": llm_node(prompt="{{ context.a }}")}, {"a": 1})
    assert events_of(execution, "context_warning") == []


def test_f_ctx_10_missing_variable_renders_empty_and_never_fails():
    execution, call = begin({"L": llm_node(prompt="[{{ context.gone }}]")})
    assert document(call)["prompt"] == "[]"
    assert execution.state.failures == []


# -- F-SCHEMA-3, Q-34, Q-39 -------------------------------------------------------------


def test_f_schema_3_warning_when_output_field_missing_from_schema():
    execution, _ = begin({"L": llm_node(output_field="out")}, context_schema={"other": "int"})
    [event] = events_of(execution, "context_warning")
    assert event["message"] == "Output field 'out' not found in context schema"
    assert event["output_field"] == "out"


def test_q_34_warning_even_with_no_schema_at_all():
    execution, _ = begin({"L": llm_node(output_field="out")})
    [event] = events_of(execution, "context_warning")
    assert event["message"] == "Output field 'out' not found in context schema"


def test_f_schema_3_no_warning_when_the_field_has_a_schema_entry():
    execution, _ = begin({"L": llm_node(output_field="out")}, context_schema={"out": "string"})
    assert events_of(execution, "context_warning") == []


def test_f_schema_3_no_warning_without_output_field():
    execution, _ = begin({"L": llm_node()})
    assert events_of(execution, "context_warning") == []


def test_f_schema_3_missing_entry_uses_the_untyped_wrapper():
    _, call = begin({"L": llm_node(output_field="out")}, context_schema={"other": "int"})
    schema = response_schema(call)
    assert schema["required"] == ["out"]
    assert "type" not in schema["properties"]["out"]


def test_q_39_top_level_description_not_shown_to_the_model():
    """F-SCHEMA-4: the bare typed value is asked for; its top-level description is not shown."""
    schema = {"out": {"type": "string", "description": "SECRET-HINT"}}
    _, call = begin({"L": llm_node(output_field="out")}, context_schema=schema)
    assert "SECRET-HINT" not in call.prompt


def test_q_39_top_level_required_and_default_are_ignored():
    schema = {"out": {"type": "string", "required": False, "default": "d"}}
    execution, call = begin({"L": llm_node(output_field="out")}, context_schema=schema)
    [retry] = reply(execution, call, "null")
    assert retry.attempt == 2
    assert "out" not in execution.context
