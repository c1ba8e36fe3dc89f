"""Routers and the broadcast algorithm: F-ROUTER-2..4, F-EXEC-3..10, F-OPS-1..3/9,
F-NODE-2, F-PAT-1/2, and our Q-29 decision (an explicit cascade limit)."""

from __future__ import annotations

from typing import Any

from soe_temporal.engine import EngineSettings, Execution, Firing, ToolOutcome
from soe_temporal.engine.host import NOTHING, Fired, NodeHost
from soe_temporal.engine.nodes import NODE_TYPES, NodeType

from .helpers import EXECUTION_ID, ops, run, start, taken_events


def router(triggers: list[str], *emissions: str | tuple[str, str]) -> dict[str, Any]:
    """A router config; an emission is a signal name or (signal name, condition)."""
    return {
        "node_type": "router",
        "event_triggers": triggers,
        "event_emissions": [
            {"signal_name": e} if isinstance(e, str) else {"signal_name": e[0], "condition": e[1]}
            for e in emissions
        ],
    }


def signals_of(execution: Execution) -> list[str]:
    return ops(execution)["signals"]


# -- F-ROUTER ------------------------------------------------------------------------


def test_f_router_2_router_writes_nothing_to_context():
    registry = {"wf": {"R": router(["GO"], "NEXT")}}
    execution = start(registry, ["GO"], {"x": 1, "__y": {"k": 2}})
    run(execution)
    assert {k: v for k, v in execution.context.items() if k != "__operational__"} == {
        "x": [1],
        "__y": {"k": 2},
    }
    assert signals_of(execution) == ["GO", "NEXT"]


def test_f_router_2_conditions_see_the_jinja_view_of_context():
    registry = {
        "wf": {
            "CheckAmount": router(
                ["BEGIN"],
                ("BIG", "{{ context.amount > 1000 }}"),
                ("SMALL", "{{ context.amount <= 1000 }}"),
            )
        }
    }
    execution = start(registry, ["BEGIN"], {"amount": 5000})
    run(execution)
    assert signals_of(execution) == ["BEGIN", "BIG"]


def test_f_router_3_every_passing_emission_is_emitted_in_one_broadcast():
    registry = {
        "wf": {
            "Fan": router(["GO"], ("A", "{{ true }}"), ("B", "{{ false }}"), ("C", "{{ 1 }}")),
            "Both": router(["A", "C"], "JOINED"),
        }
    }
    execution = start(registry, ["GO"])
    run(execution)
    assert signals_of(execution) == ["GO", "A", "C", "JOINED"]
    assert ops(execution)["nodes"]["Both"] == 1


def test_f_router_4_plain_text_condition_is_unconditional():
    registry = {"wf": {"R": router(["GO"], ("AUDIT", "only when the amount is large"))}}
    execution = start(registry, ["GO"], {"amount": 1})
    run(execution)
    assert signals_of(execution) == ["GO", "AUDIT"]


# -- F-EXEC ----------------------------------------------------------------------------


def test_f_exec_3_node_runs_once_per_broadcast_however_many_triggers_match():
    registry = {"wf": {"R": router(["A", "B"])}}
    execution = start(registry, ["A", "B", "A"])
    run(execution)
    assert ops(execution)["nodes"] == {"R": 1}
    assert signals_of(execution) == ["A", "B", "A"]


def test_f_exec_4_triggers_are_or():
    registry = {"wf": {"R": router(["LEFT", "RIGHT"], "SEEN")}}
    execution = start(registry, ["RIGHT"])
    run(execution)
    assert signals_of(execution) == ["RIGHT", "SEEN"]


def test_f_exec_4_signal_matching_is_exact_and_case_sensitive():
    registry = {"wf": {"R": router(["go", "GO "], "SEEN")}}
    execution = start(registry, ["GO"])
    run(execution)
    assert ops(execution)["nodes"] == {}
    assert signals_of(execution) == ["GO"]


def test_f_exec_5_declaration_order_depth_first():
    """The spec's example: broadcasting [GO] records [GO, X, Z, Y]."""
    registry = {
        "demo": {
            "First": router(["GO"], "X"),
            "Second": router(["GO"], "Y"),
            "OnX": router(["X"], "Z"),
        }
    }
    execution = start(registry, ["GO"], workflow="demo")
    run(execution)
    assert signals_of(execution) == ["GO", "X", "Z", "Y"]


def test_f_exec_5_node_execution_events_follow_depth_first_order():
    registry = {
        "demo": {
            "First": router(["GO"], "X"),
            "Second": router(["GO"], "Y"),
            "OnX": router(["X"], "Z"),
        }
    }
    execution = start(registry, ["GO"], workflow="demo")
    run(execution)
    order = [e["node_name"] for e in taken_events(execution) if "node_name" in e]
    assert order == ["First", "OnX", "Second"]


def test_f_exec_5_emissions_keep_config_order_and_duplicates():
    registry = {"wf": {"R": router(["GO"], "X", "Y", "X")}}
    execution = start(registry, ["GO"])
    run(execution)
    assert signals_of(execution) == ["GO", "X", "Y", "X"]


def test_f_exec_6_registry_is_a_snapshot_per_broadcast(monkeypatch):
    """A node removed during a broadcast still runs in it; one injected is not seen
    there, but a nested broadcast started afterwards sees both changes."""
    registry = {
        "wf": {
            "Evolve": {"node_type": "evolve", "event_triggers": ["GO"]},
            "Emit": router(["GO"], "AFTER"),
            "Removed": router(["GO", "AFTER"]),
        }
    }
    execution = start(registry, ["GO"])

    def evolve(host: NodeHost, firing: Firing, conversation: Any) -> Fired:
        # What the registry built-ins (soe_remove_node / soe_inject_node) do.
        nodes = {k: v for k, v in host.registry["wf"].items() if k != "Removed"}
        host.replace_registry({"wf": {**nodes, "Injected": router(["GO", "AFTER"])}})
        return NOTHING

    monkeypatch.setitem(NODE_TYPES, "evolve", NodeType(evolve, None))
    run(execution)
    assert ops(execution)["nodes"] == {"Evolve": 1, "Emit": 1, "Injected": 1, "Removed": 1}
    injected_runs = [e for e in taken_events(execution) if e.get("node_name") == "Injected"]
    assert len(injected_runs) == 1  # only in the nested [AFTER] broadcast


def test_f_exec_6_later_broadcasts_use_the_changed_registry():
    registry = {"wf": {"Old": router(["GO"])}}
    execution = start(registry, ["GO"])
    run(execution)
    execution.replace_registry({"wf": {**execution.registry["wf"], "New": router(["GO"])}})
    execution.deliver(["GO"])
    run(execution)
    assert ops(execution)["nodes"] == {"Old": 2, "New": 1}


def test_f_exec_8_unmatched_signals_are_recorded_and_nothing_runs():
    registry = {"wf": {"R": router(["OTHER"], "X")}}
    execution = start(registry, ["NOBODY_LISTENS"])
    commands = execution.process_pending()
    assert commands == []
    assert execution.idle
    assert signals_of(execution) == ["NOBODY_LISTENS"]
    assert ops(execution)["nodes"] == {}
    assert execution.state.failures == []


def test_f_exec_9_terminal_node_runs_and_emits_nothing():
    registry = {
        "wf": {
            "NoKey": {"node_type": "router", "event_triggers": ["GO"]},
            "Empty": {"node_type": "router", "event_triggers": ["GO"], "event_emissions": []},
        }
    }
    execution = start(registry, ["GO"])
    run(execution)
    assert ops(execution)["nodes"] == {"NoKey": 1, "Empty": 1}
    assert signals_of(execution) == ["GO"]


def test_f_exec_10_resending_a_signal_reruns_nodes_and_accumulates_counters():
    registry = {"wf": {"R": router(["GO"], "DONE")}}
    execution = start(registry, ["GO"])
    run(execution)
    assert execution.idle
    execution.deliver(["GO"])
    run(execution)
    assert ops(execution)["nodes"] == {"R": 2}
    assert signals_of(execution) == ["GO", "DONE", "GO", "DONE"]


def test_f_exec_10_external_signal_continues_a_stopped_execution():
    registry = {
        "wf": {
            "Ask": router(["START"], "WAITING_FOR_APPROVAL"),
            "Ship": router(["APPROVED"], "SHIPPED"),
        }
    }
    execution = start(registry, ["START"])
    run(execution)
    execution.deliver(["APPROVED"])
    run(execution)
    assert signals_of(execution) == ["START", "WAITING_FOR_APPROVAL", "APPROVED", "SHIPPED"]


# -- F-OPS -----------------------------------------------------------------------------


def test_f_ops_1_operational_structure_at_start():
    execution = start({"wf": {}}, ["GO"])
    assert execution.context["__operational__"] == {
        "signals": [],
        "nodes": {},
        "llm_calls": 0,
        "tool_calls": 0,
        "errors": 0,
        "main_execution_id": EXECUTION_ID,
    }


def test_f_ops_2_every_broadcast_extends_signals_in_order_with_duplicates():
    registry = {"wf": {"R": router(["GO"], "A", "A")}}
    execution = start(registry, ["GO", "GO"])
    run(execution)
    execution.deliver(["EXTERNAL"])
    run(execution)
    assert signals_of(execution) == ["GO", "GO", "A", "A", "EXTERNAL"]


def test_f_ops_3_node_counter_counts_each_dispatch():
    registry = {"wf": {"R": router(["GO", "AGAIN"]), "S": router(["GO"], "AGAIN")}}
    execution = start(registry, ["GO"])
    run(execution)
    assert ops(execution)["nodes"] == {"R": 2, "S": 1}


def test_f_ops_9_operational_signals_visible_in_conditions():
    registry = {
        "wf": {
            "Seen": router(["B"], ("SAW_A", "{{ 'A' in context.__operational__.signals }}")),
        }
    }
    execution = start(registry, ["A"])
    run(execution)
    execution.deliver(["B"])
    run(execution)
    assert signals_of(execution) == ["A", "B", "SAW_A"]


def test_f_ops_9_operational_node_counts_visible_in_conditions():
    registry = {
        "wf": {
            "Work": router(["GO"]),
            "Check": router(
                ["CHECK"], ("WORKED", "{{ context.__operational__.nodes.get('Work', 0) == 1 }}")
            ),
        }
    }
    execution = start(registry, ["GO"])
    run(execution)
    execution.deliver(["CHECK"])
    run(execution)
    assert signals_of(execution)[-1] == "WORKED"


def test_f_node_2_router_sees_its_own_node_counter():
    registry = {
        "wf": {
            "Once": router(
                ["GO"],
                ("FIRST_RUN", "{{ context.__operational__.nodes.get('Once', 0) == 1 }}"),
            )
        }
    }
    execution = start(registry, ["GO"])
    run(execution)
    execution.deliver(["GO"])
    run(execution)
    assert signals_of(execution) == ["GO", "FIRST_RUN", "GO"]


# -- F-PAT -----------------------------------------------------------------------------

JOIN = {
    "wf": {
        "WaitBoth": router(
            ["LEFT_DONE", "RIGHT_DONE"],
            (
                "BOTH_DONE",
                "{{ 'LEFT_DONE' in context.__operational__.signals and "
                "'RIGHT_DONE' in context.__operational__.signals }}",
            ),
        )
    }
}


def test_f_pat_1_and_join_waits_for_all_signals():
    execution = start(JOIN, ["LEFT_DONE"])
    run(execution)
    assert "BOTH_DONE" not in signals_of(execution)
    execution.deliver(["RIGHT_DONE"])
    run(execution)
    assert signals_of(execution) == ["LEFT_DONE", "RIGHT_DONE", "BOTH_DONE"]
    assert ops(execution)["nodes"] == {"WaitBoth": 2}


def test_f_pat_2_loop_limit_runs_exactly_n_times():
    registry = {
        "wf": {
            "Loop": router(
                ["START", "AGAIN"],
                ("AGAIN", "{{ context.__operational__.nodes.get('Loop', 0) < 5 }}"),
                ("DONE", "{{ context.__operational__.nodes.get('Loop', 0) >= 5 }}"),
            )
        }
    }
    execution = start(registry, ["START"])
    run(execution)
    assert ops(execution)["nodes"] == {"Loop": 5}
    assert signals_of(execution) == ["START"] + ["AGAIN"] * 4 + ["DONE"]


# -- Q-29: the cascade limit -----------------------------------------------------------

ENDLESS = {
    "wf": {
        "Loop": router(["GO", "AGAIN"], "AGAIN"),
        "After": router(["GO"]),
        "Ping": router(["PING"], "PONG"),
    }
}


def test_q_29_cascade_limit_fails_the_node_with_a_clear_message():
    execution = start(ENDLESS, ["GO"], settings=EngineSettings(cascade_limit=50))
    run(execution)
    assert ops(execution)["nodes"]["Loop"] == 50
    [failure] = execution.unhandled_failures(1)
    assert failure.node_name == "Loop"
    assert failure.handled is False
    assert "Cascade limit" in failure.error and "50" in failure.error
    assert ops(execution)["errors"] == 1


def test_q_29_cascade_limit_halts_the_rest_of_the_cascade():
    execution = start(ENDLESS, ["GO"], settings=EngineSettings(cascade_limit=50))
    run(execution)
    assert execution.idle
    assert "After" not in ops(execution)["nodes"]


def test_q_29_execution_stays_usable_after_a_halted_cascade():
    execution = start(ENDLESS, ["GO"], settings=EngineSettings(cascade_limit=50))
    run(execution)
    cascade = execution.deliver(["PING"])
    run(execution)
    assert signals_of(execution)[-2:] == ["PING", "PONG"]
    assert execution.unhandled_failures(cascade) == []


# A tool node that calls itself again after every call, endlessly.
AGAIN_TOOL = {
    "node_type": "tool",
    "event_triggers": ["GO", "AGAIN"],
    "tool_name": "work",
    "event_emissions": [{"signal_name": "AGAIN"}],
}


def test_q_29_cascade_limit_counts_firings_across_tool_round_trips():
    registry = {"wf": {"Again": AGAIN_TOOL}}
    execution = start(registry, ["GO"], settings=EngineSettings(cascade_limit=10))
    calls = run(execution, {"work": lambda: 1})
    assert len(calls) == 10
    assert ops(execution)["nodes"] == {"Again": 10}
    [failure] = execution.unhandled_failures(1)
    assert "Cascade limit" in failure.error


def test_q_29_an_ended_cascade_is_forgotten_by_the_time_the_execution_is_idle():
    execution = start(ENDLESS, ["GO"], settings=EngineSettings(cascade_limit=50))
    run(execution)
    assert execution.idle
    assert execution.state.cascade_firings == {}
    assert execution.state.halted_cascades == []


def test_q_29_counts_kept_stay_as_many_as_the_cascades_that_can_still_fire():
    """A tool chain that runs while a new signal arrives at every step: each arrival is
    a cascade that ends at once, and its count is not kept beyond what runs."""
    registry = {"wf": {"Again": AGAIN_TOOL, "Ping": router(["PING"], "PONG")}}
    execution = start(registry, ["GO"])
    execution.cascade_each_outcome = True
    [call] = execution.process_pending()
    for _ in range(200):
        execution.deliver(["PING"])
        [call] = execution.complete_call(call.call_id, ToolOutcome("ok", result=1))
        live = len(execution.state.pending) + execution.running_calls
        assert len(execution.state.cascade_firings) <= live + 1
    assert ops(execution)["nodes"] == {"Again": 201, "Ping": 200}
    assert len(execution.state.cascade_firings) <= 2
