"""The Execution state machine: idle, cascades and their failures, events, dispatch of
node types without a handler (Q-20), context inheritance (F-INH-3/4) and the
`__operational__` start rules (F-OPS-7, F-OPS-11)."""

from __future__ import annotations

import copy

from soe_temporal.engine import Execution, ToolOutcome

from .helpers import EXECUTION_ID, ops, run, start, taken_events

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
