"""The Execution state machine: idle, cascades and their failures, events, dispatch of
node types without a handler (Q-20), context inheritance (F-INH-3/4) and the
`__operational__` start rules (F-OPS-7, F-OPS-11)."""

from __future__ import annotations

import copy

from soe_temporal.engine import Execution, ToolOutcome
from soe_temporal.engine.commands import LlmOutcome

from .helpers import EXECUTION_ID, ScriptedHost, ops, run, start, taken_events

ROUTE = {"wf": {"R": {"node_type": "router", "event_triggers": ["GO"]}}}
TOOL = {"wf": {"T": {"node_type": "tool", "event_triggers": ["GO"], "tool_name": "work"}}}


# -- idle ---------------------------------------------------------------------------


def test_idle_false_while_initial_signals_are_queued():
    execution = start(ROUTE, ["GO"])
    assert not execution.idle


def test_idle_after_a_router_only_cascade():
    execution = start(ROUTE, ["GO"])
    assert execution.process_pending() == []
    assert execution.idle


def test_idle_false_while_a_tool_call_runs():
    execution = start(TOOL, ["GO"])
    [call] = execution.process_pending()
    assert not execution.idle
    assert execution.running_calls == 1
    execution.complete_call(call.call_id, ToolOutcome("ok", result=1))
    assert execution.idle


def test_idle_once_a_tool_emission_is_broadcast_with_its_outcome():
    """F-EXEC-3: the outcome's signals are broadcast before complete_call returns."""
    registry = copy.deepcopy(TOOL)
    registry["wf"]["T"]["event_emissions"] = [{"signal_name": "DONE"}]
    execution = start(registry, ["GO"])
    [call] = execution.process_pending()
    execution.complete_call(call.call_id, ToolOutcome("ok", result=1))
    assert execution.idle
    assert ops(execution)["signals"] == ["GO", "DONE"]


# -- cascades, failures, events -----------------------------------------------------


BROKEN = {
    "wf": {
        "Good": {"node_type": "router", "event_triggers": ["GO"]},
        "Bad": {"node_type": "bogus", "event_triggers": ["BAD"]},
    }
}


def test_a_waiting_caller_is_told_the_unhandled_failures_of_its_own_cascade():
    execution = start(BROKEN, ["GO"])
    run(execution)
    bad = execution.deliver(["BAD"])
    run(execution)
    assert execution.unhandled_failures(1) == []
    assert [f.node_name for f in execution.unhandled_failures(bad)] == ["Bad"]


def test_a_waiting_caller_is_told_the_unhandled_failures_since_a_moment():
    """For executions below the one it signalled, whose cascades it does not know."""
    times = iter(["2026-01-01T00:00:01", "2026-01-01T00:00:02"])
    execution = start(BROKEN, ["BAD"])
    execution.clock = lambda: next(times)
    run(execution)
    execution.deliver(["BAD"])
    run(execution)
    assert len(execution.unhandled_failures(since="2026-01-01T00:00:02")) == 1
    assert len(execution.unhandled_failures(since="")) == 2
    assert execution.unhandled_failures() == []


def test_deliver_gives_each_delivery_a_new_cascade():
    execution = start(ROUTE, ["GO"])
    first = execution.deliver(["GO"])
    second = execution.deliver(["GO"])
    assert 1 < first < second


def test_take_events_reports_broadcasts_and_node_executions():
    execution = start(ROUTE, ["GO"])
    run(execution)
    events = taken_events(execution)
    assert {"event_type": "signals_broadcast", "signals": ["GO"]} in events
    assert any(e["event_type"] == "node_execution" and e["node_name"] == "R" for e in events)


def test_f_exec_3_an_empty_broadcast_is_logged_and_triggers_nothing():
    """F-API-2 takes any list: broadcasting none logs the broadcast and fires no node."""
    execution = start(ROUTE, ["GO"])
    run(execution)
    execution.take_events()
    execution.deliver([])
    run(execution)
    assert execution.idle
    assert ops(execution)["signals"] == ["GO"]
    assert ops(execution)["nodes"] == {"R": 1}
    assert taken_events(execution) == [{"event_type": "signals_broadcast", "signals": []}]


def test_take_events_empties_the_queue():
    execution = start(ROUTE, ["GO"])
    run(execution)
    execution.take_events()
    assert taken_events(execution) == []


def test_take_events_reports_node_errors():
    execution = start(BROKEN, ["BAD"])
    run(execution)
    errors = [e for e in taken_events(execution) if e["event_type"] == "node_error"]
    assert [e["node_name"] for e in errors] == ["Bad"]


# -- Q-20: node types without a handler ------------------------------------------


def test_q_20_unknown_node_type_fails_the_node_with_a_clear_unhandled_failure():
    execution = start(BROKEN, ["BAD"])
    run(execution)
    [failure] = execution.state.failures
    assert failure.handled is False
    assert "'wf'" in failure.error and "'Bad'" in failure.error and "bogus" in failure.error
    assert ops(execution)["errors"] == 1
    assert ops(execution)["nodes"] == {"Bad": 1}


def test_q_20_underscore_node_type_fails_the_node_with_a_clear_unhandled_failure():
    registry = {"wf": {"Hidden": {"node_type": "_internal", "event_triggers": ["GO"]}}}
    execution = start(registry, ["GO"])
    run(execution)
    [failure] = execution.state.failures
    assert failure.handled is False
    assert "'Hidden'" in failure.error and "_internal" in failure.error


def test_q_20_failing_node_does_not_stop_its_siblings():
    registry = {
        "wf": {
            "Bad": {"node_type": "bogus", "event_triggers": ["GO"]},
            "Next": {
                "node_type": "router",
                "event_triggers": ["GO"],
                "event_emissions": [{"signal_name": "STILL_RUNS"}],
            },
        }
    }
    execution = start(registry, ["GO"])
    run(execution)
    assert ops(execution)["signals"] == ["GO", "STILL_RUNS"]
    assert execution.idle


def test_node_raising_inside_its_handler_fails_only_that_node():
    registry = {"wf": {"T": {"node_type": "tool", "event_triggers": ["GO"]}}}  # no tool_name
    execution = start(registry, ["GO"])
    run(execution)
    [failure] = execution.state.failures
    assert failure.handled is False and "'T'" in failure.error
    assert execution.idle


# -- F-INH-3 / F-INH-4: context inheritance -------------------------------------------

SOURCE = {
    "msg": ["old"],
    "n": [1],
    "__x": {"k": 1},
    "__operational__": {
        "signals": ["A"],
        "nodes": {"R": 4},
        "llm_calls": 2,
        "tool_calls": 3,
        "errors": 1,
        "main_execution_id": "root",
    },
    "__parent__": {
        "parent_execution_id": "p",
        "signals_to_parent": ["A"],
        "context_updates_to_parent": [],
        "main_execution_id": "root",
    },
}


def inherit(initial_context: dict) -> Execution:
    return Execution.start(
        "phase-2", "wf", ROUTE, initial_context, ["GO"], inherited_context=SOURCE
    )


def test_f_inh_3_initial_context_is_appended_to_inherited_histories():
    execution = inherit({"msg": "new"})
    assert execution.context["msg"] == ["old", "new"]
    assert execution.context["n"] == [1]


def test_f_inh_3_internal_fields_other_than_operational_and_parent_are_copied():
    execution = inherit({})
    assert execution.context["__x"] == {"k": 1}
    assert "__parent__" not in execution.context


def test_f_inh_3_internal_initial_fields_replace_inherited_ones():
    execution = inherit({"__x": 2})
    assert execution.context["__x"] == 2


def test_f_inh_3_inherited_context_is_a_deep_copy():
    execution = inherit({"msg": "new"})
    execution.context["n"].append(2)
    execution.context["__x"]["k"] = 9
    assert SOURCE["n"] == [1] and SOURCE["__x"] == {"k": 1} and SOURCE["msg"] == ["old"]


def test_f_inh_4_inheriting_execution_gets_fresh_operational_with_own_id():
    execution = inherit({})
    assert execution.context["__operational__"] == {
        "signals": [],
        "nodes": {},
        "llm_calls": 0,
        "tool_calls": 0,
        "errors": 0,
        "main_execution_id": "phase-2",
    }


# -- F-OPS-7 / F-OPS-11 ------------------------------------------------------------------


def test_f_ops_7_root_main_execution_id_is_its_own_id():
    execution = start(ROUTE, ["GO"])
    assert ops(execution)["main_execution_id"] == EXECUTION_ID


def test_f_ops_7_main_execution_id_comes_from_parent():
    parent = {
        "parent_execution_id": "mid",
        "signals_to_parent": [],
        "context_updates_to_parent": [],
        "main_execution_id": "root-id",
    }
    execution = start(ROUTE, ["GO"], {"__parent__": parent})
    assert ops(execution)["main_execution_id"] == "root-id"
    assert execution.context["__parent__"] == parent


def test_f_ops_11_pre_existing_operational_is_kept():
    existing = {
        "signals": ["EARLIER"],
        "nodes": {"R": 7},
        "llm_calls": 1,
        "tool_calls": 2,
        "errors": 3,
        "main_execution_id": "elsewhere",
    }
    execution = start(ROUTE, ["GO"], {"__operational__": copy.deepcopy(existing)})
    assert execution.context["__operational__"] == existing


def test_f_ops_11_kept_operational_keeps_counting():
    existing = {
        "signals": ["EARLIER"],
        "nodes": {"R": 7},
        "llm_calls": 1,
        "tool_calls": 2,
        "errors": 3,
        "main_execution_id": "elsewhere",
    }
    execution = start(ROUTE, ["GO"], {"__operational__": existing})
    run(execution)
    assert ops(execution)["signals"] == ["EARLIER", "GO"]
    assert ops(execution)["nodes"] == {"R": 8}
    assert ops(execution)["main_execution_id"] == "elsewhere"


def test_a_broadcast_that_cannot_run_becomes_an_unhandled_failure_not_an_exception():
    registry = {
        "wf": {
            "R": {
                "node_type": "router",
                "event_triggers": ["GO"],
                "event_emissions": [{"signal_name": "X"}],
            }
        }
    }
    execution = start(registry, ["GO"])
    execution.context["__operational__"]["nodes"] = None  # state no valid start allows
    assert execution.process_pending() == []
    failure = execution.state.failures[-1]
    assert failure.handled is False and "Broadcasting ['GO'] failed" in failure.error
    assert execution.idle


# -- what a start records, and what it does not inherit --------------------------------


def test_f_exec_1_a_start_records_orchestration_then_broadcasts_the_initial_signals():
    """F-EXEC-1 steps 5-12 as the engine runs them (the client did steps 1-4)."""
    execution = start(ROUTE, ["GO"], {"x": 1})
    run(execution)
    kinds = [e["event_type"] for e in taken_events(execution)]
    assert kinds[:3] == ["orchestration_start", "signals_broadcast", "node_execution"]
    assert execution.context["x"] == [1]
    assert ops(execution)["main_execution_id"] == EXECUTION_ID


def test_f_inh_7_an_inheriting_start_records_its_events_in_soe_s_order():
    source = {"notes": ["old"], "__operational__": {"signals": ["X"]}}
    execution = Execution.start(
        "new", "wf", ROUTE, {"notes": "new"}, ["GO"],
        inherited_context=source, inherited_config_from="phase-1",
    )  # fmt: skip
    run(execution)
    events = taken_events(execution)
    assert [e["event_type"] for e in events[:5]] == [
        "config_inheritance_start",
        "orchestration_start",
        "context_inheritance_start",
        "context_merge",
        "signals_broadcast",
    ]
    assert events[0]["source_execution_id"] == "phase-1"
    assert events[1]["workflow_name"] == "wf"
    assert events[3]["fields"] == ["notes"]


def test_f_inh_5_a_new_root_inherits_no_conversation_and_runs_its_own_workflow():
    other = {"wf": {}, "phase2": {"R": {"node_type": "router", "event_triggers": ["GO"]}}}
    source = {"notes": ["old"], "__operational__": {"main_execution_id": "phase-1"}}
    execution = Execution.start("phase-2", "phase2", other, {}, ["GO"], inherited_context=source)
    run(execution)
    assert execution.conversation_history() == []
    assert execution.main_execution_id == "phase-2"
    assert ops(execution)["nodes"] == {"R": 1}


def test_f_hist_6_the_tree_s_history_lasts_across_later_broadcasts():
    execution = start(ROUTE, ["GO"], identities={"scribe": "Write."})
    execution.append_conversation([{"role": "user", "content": "first"}])
    execution.deliver(["GO"])
    run(execution)
    execution.append_conversation([{"role": "user", "content": "later"}])
    assert [e["content"] for e in execution.conversation_history()] == ["first", "later"]


# -- dispatch and the current workflow -------------------------------------------------


def test_f_exec_12_after_its_workflow_is_removed_an_execution_only_records_signals():
    registry = {
        "wf": {
            "Remove": {"node_type": "tool", "event_triggers": ["GO"],
                       "tool_name": "soe_remove_workflow", "parameters": {"workflow_name": "wf"}},
        },
        "other": {"R": {"node_type": "router", "event_triggers": ["GO"]}},
    }  # fmt: skip
    execution = start(registry, ["GO"])
    run(execution)
    execution.deliver(["GO"])
    run(execution)
    assert ops(execution)["signals"] == ["GO", "GO"]
    assert ops(execution)["nodes"] == {"Remove": 1}  # other workflows are never dispatched


def test_f_node_3_all_signals_of_one_emission_go_in_one_broadcast():
    registry = {"wf": {"T": {**TOOL["wf"]["T"], "event_emissions": [
        {"signal_name": "A"}, {"signal_name": "B"}, {"signal_name": "A"}]}}}  # fmt: skip
    execution = start(registry, ["GO"])
    run(execution, {"work": lambda: 1})
    broadcasts = [e["signals"] for e in taken_events(execution)
                  if e["event_type"] == "signals_broadcast"]  # fmt: skip
    assert broadcasts == [["GO"], ["A", "B", "A"]]


def test_f_node_4_a_node_acts_only_through_its_execution():
    """A node's handler returns no value of its own: a router's signals are broadcast by
    the execution, a tool's call is carried out by the host; all else is the context's."""
    execution = start({"wf": {"R": {"node_type": "router", "event_triggers": ["GO"],
                                    "event_emissions": [{"signal_name": "NEXT"}]}}},
                      ["GO"])  # fmt: skip
    assert execution.process_pending() == []
    assert ops(execution)["signals"] == ["GO", "NEXT"]


def test_f_be_6_a_cascade_deeper_than_python_s_recursion_limit_keeps_depth_first_order():
    """The broadcast runs on an explicit stack, not host recursion (F-BE-6, F-EXEC-5)."""
    depth = 1_200
    chain = {f"R{i}": {"node_type": "router", "event_triggers": [f"S{i}"],
                       "event_emissions": [{"signal_name": f"S{i + 1}"}]}
             for i in range(depth)}  # fmt: skip
    execution = start({"wf": chain}, ["S0"])
    run(execution)
    assert ops(execution)["signals"] == [f"S{i}" for i in range(depth + 1)]


# -- telemetry (F-TEL): the events an execution records --------------------------------


def test_f_tel_2_events_and_counters_move_together():
    registry = {"wf": {"R": {"node_type": "router", "event_triggers": ["GO"],
                             "event_emissions": [{"signal_name": "WORK"}]},
                       "T": {**TOOL["wf"]["T"], "event_triggers": ["WORK"]}}}  # fmt: skip
    execution = start(registry, ["GO"])
    run(execution, {"work": lambda: 1})
    events = taken_events(execution)
    signals = [s for e in events if e["event_type"] == "signals_broadcast" for s in e["signals"]]
    assert signals == ops(execution)["signals"]
    # node_execution counts when it names a node (a router's own record does not)
    executed = [e["node_name"] for e in events if e["event_type"] == "node_execution"
                and "node_name" in e]  # fmt: skip
    assert {name: executed.count(name) for name in executed} == ops(execution)["nodes"]
    assert (
        len([e for e in events if e["event_type"] == "tool_call"]) == ops(execution)["tool_calls"]
    )


def test_f_tel_3_f_tel_4_a_router_s_events_are_soe_s():
    execution = start({"wf": {"R": {"node_type": "router", "event_triggers": ["GO"],
                                    "event_emissions": [{"signal_name": "NEXT"}]}}},
                      ["GO"])  # fmt: skip
    run(execution)
    assert taken_events(execution) == [
        {"event_type": "orchestration_start", "workflow_name": "wf"},
        {"event_type": "signals_broadcast", "signals": ["GO"]},
        {"event_type": "node_execution", "node_name": "R", "node_type": "router"},
        {"event_type": "node_execution", "node_type": "router"},
        {"event_type": "signals_broadcast", "signals": ["NEXT"]},
    ]


def test_f_tel_4_an_llm_node_s_events_follow_soe_s_sequence():
    """node_execution, the schema warning, llm_call, the render warning, the emission
    (soe_temporal adds one llm_response per model call, which SOE does not log)."""
    node = {"node_type": "llm", "event_triggers": ["GO"], "prompt": "Use {{ context.gone }}",
            "output_field": "answer", "event_emissions": [{"signal_name": "DONE"}]}  # fmt: skip
    execution = start({"wf": {"L": node}}, ["GO"])
    [call] = execution.process_pending()
    execution.complete_call(call.call_id, LlmOutcome("ok", '{"answer": "x"}'))
    kinds = [e["event_type"] for e in taken_events(execution) if e["event_type"] != "llm_response"]
    assert kinds == ["orchestration_start", "signals_broadcast", "node_execution",
                     "context_warning", "llm_call", "context_warning", "signals_broadcast"]  # fmt: skip


def test_a_tool_node_records_one_tool_call_per_attempt():
    """soe_temporal's own tool events (SOE logs tool_call once, then node_error per retry:
    README, Differences)."""
    registry = {"wf": {"T": {**TOOL["wf"]["T"], "event_emissions": [{"signal_name": "DONE"}]}}}
    execution = start(registry, ["GO"])
    run(execution, {"work": lambda: 1})
    assert [e["event_type"] for e in taken_events(execution)] == [
        "orchestration_start", "signals_broadcast", "node_execution", "tool_call",
        "signals_broadcast",
    ]  # fmt: skip


def test_f_exec_13_each_node_takes_only_its_own_failures():
    """A router's condition error is a false condition; a tool's failure takes its failure
    path, an llm node's model error its llm_failure_signal; a failure downstream of a node
    is never that node's (our Q-8/Q-9 fix): the tool is not run again."""
    registry = {"wf": {
        "Broken": {"node_type": "router", "event_triggers": ["GO"], "event_emissions": [
            {"signal_name": "NEVER", "condition": "{{ context.missing.deeper.x }}"}]},
        "Fails": {"node_type": "tool", "event_triggers": ["GO"], "tool_name": "boom"},
        "Ask": {"node_type": "llm", "event_triggers": ["GO"], "prompt": "hi",
                "llm_failure_signal": "LLM_FAILED"},
        "Works": {"node_type": "tool", "event_triggers": ["GO"], "tool_name": "ok",
                  "event_emissions": [{"signal_name": "NEXT"}]},
        "Downstream": {"node_type": "bogus", "event_triggers": ["NEXT"]},
    }}  # fmt: skip

    def boom() -> None:
        raise RuntimeError("boom")

    def no_model(prompt: str, config: dict) -> str:
        raise ConnectionError("model down")

    host = ScriptedHost({"boom": {"function": boom, "failure_signal": "TOOL_FAILED"},
                         "ok": lambda: 1}, call_llm=no_model)  # fmt: skip
    execution = host.start(registry, ["GO"])
    host.run()
    signals = ops(execution)["signals"]
    assert "NEVER" not in signals
    assert {"TOOL_FAILED", "LLM_FAILED", "NEXT"} <= set(signals)
    assert ops(execution)["nodes"]["Works"] == 1
    [unhandled] = execution.unhandled_failures(1)
    assert unhandled.node_name == "Downstream"


def test_an_execution_remembers_its_last_request_ids_and_says_when_it_forgot_some():
    from soe_temporal.engine.execution import REQUESTS_KEPT

    execution = start(ROUTE, ["GO"])
    first = execution.deliver(["GO"], request_id="r0")
    assert execution.deliver(["GO"], request_id="r0") == first  # taken once
    for index in range(1, REQUESTS_KEPT - 1):
        execution.deliver(["GO"], request_id=f"r{index}")
    assert not execution.forgets_requests and execution.request_cascade("r0") == first
    execution.deliver(["GO"], request_id="full")
    execution.deliver(["GO"], request_id="one-more")
    assert execution.forgets_requests and execution.request_cascade("r0") is None
