"""Tool nodes: parameters (F-TOOL-4..6), results and conditions (F-TOOL-7, 8, 11),
retries and failure handling (F-TOOL-9, 10), counters (F-OPS-5, 6), our Q-8 decision
(a downstream failure never re-runs the tool) and setup failures."""

from __future__ import annotations

from typing import Any

import soe_temporal.engine.execution as execution_module
from soe_temporal.engine import ToolOutcome
from soe_temporal.engine.state import ToolFacts

from .helpers import ops, run, start


def tool_node(tool_name: str = "work", **config: Any) -> dict[str, Any]:
    return {"node_type": "tool", "event_triggers": ["GO"], "tool_name": tool_name, **config}


def first_call(registry: dict[str, Any], context: dict[str, Any] | None = None):
    execution = start(registry, ["GO"], context)
    [call] = execution.process_pending()
    return execution, call


def failing(*_: Any, **__: Any) -> Any:
    raise RuntimeError("boom")


def flaky(failures: int, result: Any = "ok"):
    """A tool that fails ``failures`` times, then returns ``result``; records calls."""
    calls: list[int] = []

    def tool(**_: Any) -> Any:
        calls.append(1)
        if len(calls) <= failures:
            raise RuntimeError(f"boom {len(calls)}")
        return result

    tool.calls = calls  # type: ignore[attr-defined]
    return tool


# -- F-TOOL-4: parameter source priority ----------------------------------------------


def test_f_tool_4_inline_parameters_win_over_parameter_field():
    registry = {"wf": {"T": tool_node(parameters={"a": 1}, context_parameter_field="args")}}
    _, call = first_call(registry, {"args": {"a": 2}})
    assert call.parameters == {"a": 1}
    assert call.parameter_history is None


def test_f_tool_4_empty_inline_parameters_still_win():
    registry = {"wf": {"T": tool_node(parameters={}, context_parameter_field="args")}}
    _, call = first_call(registry, {"args": {"a": 2}})
    assert call.parameters == {}
    assert call.parameter_history is None


def test_f_tool_4_parameter_field_used_when_no_inline_parameters():
    registry = {"wf": {"T": tool_node(parameters=None, context_parameter_field="args")}}
    _, call = first_call(registry, {"args": {"a": 2}})
    assert call.parameters is None
    assert call.parameter_history == [{"a": 2}]


def test_f_tool_4_missing_parameter_field_means_no_arguments():
    registry = {"wf": {"T": tool_node(context_parameter_field="args")}}
    execution, call = first_call(registry)
    assert call.parameters == {}
    assert execution.state.failures == []


def test_f_tool_4_no_parameter_source_means_no_arguments():
    _, call = first_call({"wf": {"T": tool_node()}})
    assert call.parameters == {}


# -- F-TOOL-5: inline parameters render to strings ------------------------------------


def test_f_tool_5_jinja_parameters_render_to_strings():
    registry = {"wf": {"T": tool_node(parameters={"count": "{{ context.n }}"})}}
    _, call = first_call(registry, {"n": 3})
    assert call.parameters == {"count": "3"}


def test_f_tool_5_text_around_jinja_is_kept():
    registry = {"wf": {"T": tool_node(parameters={"subject": "Order {{ context.order_id }}"})}}
    _, call = first_call(registry, {"order_id": 7})
    assert call.parameters == {"subject": "Order 7"}


def test_f_tool_5_nested_mappings_and_lists_are_rendered():
    parameters = {"outer": {"inner": ["{{ context.a }}", {"deep": "x{{ context.b }}"}]}}
    registry = {"wf": {"T": tool_node(parameters=parameters)}}
    _, call = first_call(registry, {"a": 1, "b": "y"})
    assert call.parameters == {"outer": {"inner": ["1", {"deep": "xy"}]}}


def test_f_tool_5_non_string_values_pass_through_unchanged():
    parameters = {"urgent": True, "n": 3, "ratio": 0.5, "none": None, "items": [1, False]}
    registry = {"wf": {"T": tool_node(parameters=parameters)}}
    _, call = first_call(registry)
    assert call.parameters == parameters
    assert call.parameters["urgent"] is True


def test_f_tool_5_block_only_strings_are_not_rendered():
    text = "{% if context.n %}yes{% endif %}"
    registry = {"wf": {"T": tool_node(parameters={"text": text, "plain": "no jinja"})}}
    _, call = first_call(registry, {"n": 1})
    assert call.parameters == {"text": text, "plain": "no jinja"}


def test_f_tool_5_rendering_failure_passes_the_raw_string():
    registry = {"wf": {"T": tool_node(parameters={"to": "{{ context.customer.email }}"})}}
    _, call = first_call(registry)
    assert call.parameters == {"to": "{{ context.customer.email }}"}


# -- F-TOOL-6: context parameters travel as the raw history --------------------------


def test_f_tool_6_parameter_history_is_the_raw_history():
    registry = {"wf": {"T": tool_node(context_parameter_field="args")}}
    execution = start(registry, ["GO"], {"args": {"a": 1}})
    execution.context["args"].append('{"a": 2}')
    [call] = execution.process_pending()
    assert call.parameter_history == [{"a": 1}, '{"a": 2}']


def test_f_tool_6_single_list_history_is_not_unwrapped():
    registry = {"wf": {"T": tool_node(context_parameter_field="items")}}
    _, call = first_call(registry, {"items": [1, 2, 3]})
    assert call.parameter_history == [[1, 2, 3]]


def test_f_tool_6_parameter_history_is_a_copy():
    registry = {"wf": {"T": tool_node(context_parameter_field="args")}}
    execution, call = first_call(registry, {"args": {"a": 1}})
    execution.context["args"][0]["a"] = 99
    assert call.parameter_history == [{"a": 1}]


def test_f_tool_6_yaml_string_arguments_reach_the_tool():
    seen: list[dict] = []
    registry = {"wf": {"T": tool_node(context_parameter_field="args")}}
    execution = start(registry, ["GO"], {"args": '{"a": 1, "b": "two"}'})
    run(execution, {"work": lambda **kw: seen.append(kw)})
    assert seen == [{"a": 1, "b": "two"}]


# -- F-TOOL-7 / F-TOOL-8: success path and conditions ---------------------------------


def test_f_tool_7_result_is_appended_to_output_field():
    registry = {"wf": {"T": tool_node(output_field="out")}}
    execution = start(registry, ["GO"], {"out": "old"})
    run(execution, {"work": lambda: {"v": 1}})
    assert execution.context["out"] == ["old", {"v": 1}]


def test_f_tool_7_a_result_is_measured_once_to_be_checked_and_kept(monkeypatch):
    """The state limit check and the write share one measurement of a (large) result."""
    registry = {"wf": {"T": tool_node(output_field="out")}}
    execution, call = first_call(registry)
    measured: list[Any] = []
    real_json_size = execution_module.json_size

    def counting_json_size(value: Any) -> int:
        measured.append(value)
        return real_json_size(value)

    monkeypatch.setattr(execution_module, "json_size", counting_json_size)
    result = {"page": "x" * 10_000}
    execution.complete_call(call.call_id, ToolOutcome("ok", result=result))
    assert execution.context["out"] == [result]
    assert sum(1 for value in measured if value is result) == 1


def test_f_tool_7_success_emissions_are_broadcast_once():
    registry = {
        "wf": {"T": tool_node(event_emissions=[{"signal_name": "A"}, {"signal_name": "B"}])}
    }
    execution = start(registry, ["GO"])
    run(execution, {"work": lambda: 1})
    assert ops(execution)["signals"] == ["GO", "A", "B"]


def test_f_tool_8_conditions_see_result():
    emissions = [
        {"signal_name": "MAIL_SENT", "condition": "{{ result.accepted }}"},
        {"signal_name": "MAIL_REJECTED", "condition": "{{ not result.accepted }}"},
    ]
    registry = {"wf": {"T": tool_node(event_emissions=emissions)}}
    execution = start(registry, ["GO"])
    run(execution, {"work": lambda: {"accepted": True}})
    assert ops(execution)["signals"] == ["GO", "MAIL_SENT"]


def test_f_tool_8_conditions_do_not_see_the_new_output():
    emissions = [{"signal_name": "STILL_OLD", "condition": "{{ context.out == 'old' }}"}]
    registry = {"wf": {"T": tool_node(output_field="out", event_emissions=emissions)}}
    execution = start(registry, ["GO"], {"out": "old"})
    run(execution, {"work": lambda: "new"})
    assert execution.context["out"] == ["old", "new"]
    assert ops(execution)["signals"] == ["GO", "STILL_OLD"]


def test_f_tool_8_accumulated_looks_in_the_pre_execution_snapshot():
    condition = "{{ context.out | accumulated | length == 1 }}"
    emissions = [{"signal_name": "ONE", "condition": condition}]
    registry = {"wf": {"T": tool_node(output_field="out", event_emissions=emissions)}}
    execution = start(registry, ["GO"], {"out": "old"})
    run(execution, {"work": lambda: "new"})
    assert ops(execution)["signals"] == ["GO", "ONE"]


def test_f_tool_8_conditions_ignore_writes_made_while_the_tool_ran():
    """The snapshot is taken when the node starts, even if a sibling finishes first."""
    emissions = [{"signal_name": "NO_B_YET", "condition": "{{ context.b is not defined }}"}]
    registry = {
        "wf": {
            "T1": tool_node("one", output_field="a", event_emissions=emissions),
            "T2": tool_node("two", output_field="b"),
        }
    }
    execution = start(registry, ["GO"])
    call_one, call_two = execution.process_pending()
    execution.complete_call(call_two.call_id, ToolOutcome("ok", result="B"))
    execution.complete_call(call_one.call_id, ToolOutcome("ok", result="A"))
    execution.process_pending()
    assert execution.context["b"] == ["B"]
    assert "NO_B_YET" in ops(execution)["signals"]


def test_f_node_2_tool_conditions_see_own_node_counter_not_own_tool_call():
    condition = (
        "{{ context.__operational__.nodes.get('T', 0) == 1 "
        "and context.__operational__.tool_calls == 0 }}"
    )
    registry = {
        "wf": {"T": tool_node(event_emissions=[{"signal_name": "S", "condition": condition}])}
    }
    execution = start(registry, ["GO"])
    run(execution, {"work": lambda: 1})
    assert ops(execution)["tool_calls"] == 1
    assert ops(execution)["signals"] == ["GO", "S"]


# -- F-TOOL-9: retries ------------------------------------------------------------------


def test_f_tool_9_failed_attempt_is_retried_with_the_same_arguments():
    tool = flaky(2)
    registry = {"wf": {"T": tool_node(parameters={"x": "{{ context.n }}"})}}
    execution = start(registry, ["GO"], {"n": 1})
    calls = run(execution, {"work": {"function": tool, "max_retries": 2}})
    assert [c.attempt for c in calls] == [1, 2, 3]
    assert all(c.parameters == {"x": "1"} for c in calls)
    assert len(tool.calls) == 3


def test_f_tool_9_each_retried_failure_counts_an_error():
    registry = {"wf": {"T": tool_node()}}
    execution = start(registry, ["GO"])
    run(execution, {"work": {"function": flaky(2), "max_retries": 2}})
    assert ops(execution)["errors"] == 2
    assert execution.state.failures == []


def test_f_tool_9_output_appended_only_for_the_successful_attempt():
    registry = {"wf": {"T": tool_node(output_field="out", event_emissions=[{"signal_name": "OK"}])}}
    execution = start(registry, ["GO"])
    run(execution, {"work": {"function": flaky(1, "done"), "max_retries": 3}})
    assert execution.context["out"] == ["done"]
    assert ops(execution)["signals"] == ["GO", "OK"]


# -- F-TOOL-10: failure handling ------------------------------------------------------


def failing_registry(**config: Any) -> dict[str, Any]:
    emissions = [{"signal_name": "SUCCESS"}]
    return {
        "wf": {
            "T": tool_node(output_field="out", event_emissions=emissions, **config),
            "OnFail": {"node_type": "router", "event_triggers": ["FAILED"]},
        }
    }


def test_f_tool_10_last_error_text_is_written_to_output_field():
    execution = start(failing_registry(), ["GO"])
    run(execution, {"work": {"function": flaky(5), "max_retries": 1}})
    assert execution.context["out"] == ["boom 2"]


def test_f_tool_10_failure_signal_is_broadcast_and_success_is_not():
    execution = start(failing_registry(), ["GO"])
    run(execution, {"work": {"function": failing, "max_retries": 1, "failure_signal": "FAILED"}})
    assert ops(execution)["signals"] == ["GO", "FAILED"]
    assert ops(execution)["nodes"]["OnFail"] == 1


def test_f_tool_10_failure_with_failure_signal_is_handled():
    execution = start(failing_registry(), ["GO"])
    run(execution, {"work": {"function": failing, "failure_signal": "FAILED"}})
    assert [f.handled for f in execution.state.failures] == [True]
    assert execution.state.failures[0].node_name == "T"


def test_f_tool_10_failure_without_failure_signal_raises_nothing():
    """D-5: tool nodes never raise on failure, with or without a failure signal."""
    execution = start(failing_registry(), ["GO"])
    run(execution, {"work": failing})
    assert [f.handled for f in execution.state.failures] == [True]
    assert ops(execution)["signals"] == ["GO"]


# -- F-TOOL-11: null results ----------------------------------------------------------


def test_f_tool_11_none_result_is_not_stored():
    registry = {"wf": {"T": tool_node(output_field="out"), "U": tool_node(output_field="new")}}
    execution = start(registry, ["GO"], {"out": "old"})
    run(execution, {"work": lambda: None})
    assert execution.context["out"] == ["old"]
    assert "new" not in execution.context


def test_f_tool_11_emissions_are_evaluated_with_none_result():
    emissions = [{"signal_name": "NOTHING", "condition": "{{ result is none }}"}]
    registry = {"wf": {"T": tool_node(output_field="out", event_emissions=emissions)}}
    execution = start(registry, ["GO"])
    run(execution, {"work": lambda: None})
    assert ops(execution)["signals"] == ["GO", "NOTHING"]


# -- F-OPS-5 / F-OPS-6 ------------------------------------------------------------------


def test_f_ops_5_tool_calls_counted_once_per_node_execution_not_per_retry():
    registry = {"wf": {"T": tool_node()}}
    execution = start(registry, ["GO"])
    run(execution, {"work": {"function": flaky(2), "max_retries": 2}})
    assert ops(execution)["tool_calls"] == 1
    execution.deliver(["GO"])
    run(execution, {"work": {"function": failing, "max_retries": 2}})
    assert ops(execution)["tool_calls"] == 2


def test_f_ops_6_always_failing_tool_with_two_retries_adds_three_errors():
    registry = {"wf": {"T": tool_node()}}
    execution = start(registry, ["GO"])
    run(execution, {"work": {"function": failing, "max_retries": 2}})
    assert ops(execution)["errors"] == 3


# -- Q-8 decision: a downstream failure never re-runs the tool ----------------------


def test_q_8_fix_downstream_failure_does_not_rerun_the_tool():
    tool = flaky(0, "result")
    registry = {
        "wf": {
            "T": tool_node(output_field="out", event_emissions=[{"signal_name": "DONE"}]),
            "Down": {"node_type": "no_such_type", "event_triggers": ["DONE"]},
        }
    }
    execution = start(registry, ["GO"])
    run(execution, {"work": {"function": tool, "max_retries": 2, "failure_signal": "WORK_FAILED"}})
    assert len(tool.calls) == 1
    assert execution.context["out"] == ["result"]
    assert "WORK_FAILED" not in ops(execution)["signals"]
    assert [f.node_name for f in execution.state.failures] == ["Down"]
    assert ops(execution)["errors"] == 1


# -- setup failures (F-VAL-9 / F-TOOL-2 step 2) ------------------------------------


def test_setup_failed_records_an_unhandled_failure_and_writes_the_message():
    registry = {"wf": {"T": tool_node("nope", output_field="out")}}
    execution, call = first_call(registry)
    execution.complete_call(
        call.call_id, ToolOutcome("setup_failed", error="Tool 'nope' not found")
    )
    [failure] = execution.state.failures
    assert failure.handled is False
    assert "Tool 'nope' not found" in failure.error
    assert ops(execution)["errors"] == 1
    assert execution.context["out"] == ["Tool 'nope' not found"]


def test_setup_failed_is_not_retried_and_does_not_count_a_tool_call():
    registry = {"wf": {"T": tool_node("nope")}}
    execution, call = first_call(registry)
    retries = execution.complete_call(
        call.call_id, ToolOutcome("setup_failed", error="bad", max_retries=3)
    )
    assert retries == []
    assert ops(execution)["tool_calls"] == 0
    assert execution.idle


def _parameter_field_call(execution):
    return execution.process_pending()[0]


FIELD_TOOL = {
    "wf": {
        "T": {
            "node_type": "tool",
            "event_triggers": ["GO"],
            "tool_name": "t",
            "context_parameter_field": "args",
        }
    }
}


def test_f_tool_6_known_non_accumulating_tool_gets_only_the_latest_value():
    execution = start(FIELD_TOOL, ["GO"], {"args": {"a": 1}})
    execution.context["args"].append({"a": 2})
    execution.learn_tools({"t": ToolFacts(process_accumulated=False)})
    assert _parameter_field_call(execution).parameter_history == [{"a": 2}]


def test_f_tool_6_accumulating_or_unknown_tools_get_the_whole_history():
    for known in ({"t": ToolFacts(process_accumulated=True)}, {}):
        execution = start(FIELD_TOOL, ["GO"], {"args": {"a": 1}})
        execution.context["args"].append({"a": 2})
        execution.learn_tools(known)
        assert _parameter_field_call(execution).parameter_history == [{"a": 1}, {"a": 2}]


# -- F-TOOL-2, F-TOOL-13, F-SIG-8, F-SCHEMA-7 -----------------------------------------


def test_f_tool_2_counts_the_call_then_tries_then_takes_the_failure_path():
    """Resolve parameters, count one tool call, run the attempts, then fail with the
    failure signal: in that order, once per node execution."""
    tool = flaky(failures=5)
    registry = {"wf": {"T": tool_node(parameters={"n": "{{ context.n }}"},
                                      output_field="out")}}  # fmt: skip
    execution = start(registry, ["GO"], {"n": 7})
    calls = run(execution, {"work": {"function": tool, "max_retries": 2,
                                     "failure_signal": "GAVE_UP"}})  # fmt: skip
    assert [c.attempt for c in calls] == [1, 2, 3]
    assert all(c.parameters == {"n": "7"} for c in calls)
    assert ops(execution)["tool_calls"] == 1
    assert ops(execution)["signals"] == ["GO", "GAVE_UP"]
    assert execution.context["out"] == ["boom 3"]


def test_f_tool_13_a_builtin_through_a_tool_node_takes_its_arguments_from_a_field():
    """Arguments from context_parameter_field, the returned mapping is the result."""
    node = tool_node("soe_update_context", context_parameter_field="change",
                     output_field="status")  # fmt: skip
    execution = start({"wf": {"T": node}}, ["GO"], {"change": {"updates": {"note": "hi"}}})
    assert run(execution) == []  # ran in the execution
    assert execution.context["note"] == ["hi"]
    assert execution.context["status"] == [{"status": "updated", "fields": ["note"]}]


def test_f_tool_13_a_builtin_s_exception_is_the_tool_node_s_failure():
    node = tool_node("soe_remove_workflow", parameters={"workflow_name": "nope"},
                     output_field="out")  # fmt: skip
    execution = start({"wf": {"T": node}}, ["GO"])
    run(execution)
    assert execution.context["out"] == ["Workflow 'nope' not found in workflows registry"]
    assert ops(execution)["errors"] == 1


def test_f_sig_8_a_tool_node_emits_plain_text_conditions_without_asking_a_model():
    node = tool_node(event_emissions=[{"signal_name": "DONE", "condition": "when finished"}])
    execution = start({"wf": {"T": node}}, ["GO"])
    calls = run(execution, {"work": lambda: 1})
    assert [c.tool_name for c in calls] == ["work"]  # no model call among them
    assert ops(execution)["signals"] == ["GO", "DONE"]


def test_f_schema_7_the_context_schema_never_checks_a_tool_s_output():
    execution = start({"wf": {"T": tool_node(output_field="count")}}, ["GO"],
                      context_schema={"count": "integer"})  # fmt: skip
    run(execution, {"work": lambda: "not a number"})
    assert execution.context["count"] == ["not a number"]
    assert execution.state.failures == []
