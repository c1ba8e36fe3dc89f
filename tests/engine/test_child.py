"""Child nodes on the pure engine (SOE_SPEC §15, F-CHILD-1..14), parent and children wired
together by the scripted host, with F-OPS-10, F-HIST-1/3 across the tree, our decisions D-3
(a child node emits once its children have started) and Q-28 (each value goes up once),
and Q-27 (kept: an empty fan-out starts one child)."""

from __future__ import annotations

from typing import Any

from soe_temporal.engine.commands import ReadHistory, StartChildren

from .helpers import ScriptedHost, ops

MAIN = "main"


def child_node(**config: Any) -> dict[str, Any]:
    return {
        "node_type": "child",
        "event_triggers": ["GO"],
        "child_workflow_name": "worker",
        "child_initial_signals": ["WORK"],
        **config,
    }


def worker_writes(field: str, value: str = "done", signal: str = "DONE") -> dict[str, Any]:
    """A child workflow whose tool writes ``field`` and emits ``signal``."""
    return {
        "Work": {
            "node_type": "tool",
            "event_triggers": ["WORK"],
            "tool_name": "work",
            "parameters": {"value": value},
            "output_field": field,
            "event_emissions": [{"signal_name": signal}],
        }
    }


def tree(
    parent_nodes: dict[str, Any], worker: dict[str, Any], context: dict[str, Any] | None = None
) -> ScriptedHost:
    host = ScriptedHost({"work": lambda value: value})
    host.start({"main": parent_nodes, "worker": worker}, ["GO"], context, "main", MAIN)
    host.run()
    return host


def children_of(host: ScriptedHost) -> list[str]:
    return [eid for eid in host.executions if eid != MAIN]


def test_f_child_4_the_child_gets_the_latest_input_values_and_its_parent_link():
    """F-CHILD-4, F-OPS-10: latest values only, missing names skipped, and __parent__."""
    spawn = child_node(input_fields=["topic", "missing"], signals_to_parent=["DONE"],
                       context_updates_to_parent=["result"])  # fmt: skip
    host = tree({"Spawn": spawn}, worker_writes("result"), {"topic": "first"})
    [child_id] = children_of(host)
    child = host.executions[child_id].context
    assert child["topic"] == ["first"]
    assert "missing" not in child
    assert child["__parent__"] == {
        "parent_execution_id": MAIN,
        "signals_to_parent": ["DONE"],
        "context_updates_to_parent": ["result"],
        "main_execution_id": MAIN,
    }
    assert child["__operational__"]["main_execution_id"] == MAIN


def test_f_child_5_a_child_starts_its_workflow_with_its_initial_signals_under_a_derived_id():
    host = tree({"Spawn": child_node()}, worker_writes("result"))
    assert children_of(host) == ["main/Spawn-1"]
    child = host.executions["main/Spawn-1"]
    assert child.state.workflow_name == "worker"
    assert ops(child)["signals"][0] == "WORK"
    assert host.executions[MAIN].state.children == ["main/Spawn-1"]


def test_f_child_3_the_child_gets_the_parent_s_current_registry_as_it_is_now():
    """Run-time edits included: the registry is copied when the child starts."""
    host = ScriptedHost({"work": lambda value: value})
    main = host.start({"main": {"Spawn": child_node()}, "worker": worker_writes("r")},
                      ["LATER"], execution_id=MAIN, workflow="main")  # fmt: skip
    main.replace_registry({**main.registry, "worker": worker_writes("r", value="edited")})
    host.deliver(MAIN, ["GO"])
    host.run()
    assert host.executions["main/Spawn-1"].context["r"] == ["edited"]


def test_f_child_6_a_fan_out_starts_one_child_per_item_with_the_item():
    spawn = child_node(fan_out_field="urls", child_input_field="url", spawn_interval=0.5)
    host = tree({"Spawn": spawn}, worker_writes("page"), {"urls": ["a", "b", "c"]})
    assert children_of(host) == ["main/Spawn-1-1", "main/Spawn-1-2", "main/Spawn-1-3"]
    assert [host.executions[c].context["url"] for c in children_of(host)] == [["a"], ["b"], ["c"]]
    [start] = [call for _, call in host.calls if isinstance(call, StartChildren)]
    assert start.spawn_interval == 0.5


def test_q_27_an_empty_fan_out_starts_one_child_without_an_item():
    spawn = child_node(fan_out_field="urls", child_input_field="url")
    host = tree({"Spawn": spawn}, worker_writes("page"), {"urls": []})
    [child_id] = children_of(host)
    assert child_id == "main/Spawn-1"
    assert "url" not in host.executions[child_id].context


def test_d_3_a_child_node_emits_its_emissions_once_its_children_have_started():
    """F-CHILD-2, changed by DESIGN decision D-3."""
    spawn = child_node(event_emissions=[{"signal_name": "SPAWNED"}])
    host = tree({"Spawn": spawn}, worker_writes("result"))
    assert ops(host.executions[MAIN])["signals"] == ["GO", "SPAWNED"]


def test_f_val_12_a_missing_child_workflow_fails_the_child_node():
    host = ScriptedHost()
    main = host.start({"main": {"Spawn": child_node(child_workflow_name="nope")}}, ["GO"],
                      execution_id=MAIN, workflow="main")  # fmt: skip
    host.run()
    [failure] = main.state.failures
    assert failure.error.startswith("Workflow 'nope' not found in config.")
    assert children_of(host) == []


def test_f_child_8_signals_the_parent_asked_for_are_broadcast_there():
    parent = {
        "Spawn": child_node(signals_to_parent=["DONE"]),
        "Collect": {"node_type": "router", "event_triggers": ["DONE"],
                    "event_emissions": [{"signal_name": "COLLECTED"}]},
    }  # fmt: skip
    host = tree(parent, worker_writes("result"))
    main = host.executions[MAIN]
    assert ops(main)["signals"] == ["GO", "DONE", "COLLECTED"]
    assert ops(main)["nodes"]["Collect"] == 1


def test_f_child_13_without_signals_to_parent_the_parent_never_hears_from_the_child():
    host = tree({"Spawn": child_node()}, worker_writes("result"))
    assert ops(host.executions[MAIN])["signals"] == ["GO"]
    assert "result" not in host.executions[MAIN].context


def test_f_child_9_q_28_a_synced_field_arrives_with_its_signal_each_value_once():
    parent = {
        "Spawn": child_node(signals_to_parent=["DONE"], context_updates_to_parent=["result"]),
        "Seen": {"node_type": "router", "event_triggers": ["DONE"],
                 "event_emissions": [{"signal_name": "HAD_RESULT",
                                      "condition": "{{ context.result is defined }}"}]},
    }  # fmt: skip
    host = tree(parent, worker_writes("result", "42"))
    main = host.executions[MAIN]
    assert main.context["result"] == ["42"]
    assert "HAD_RESULT" in ops(main)["signals"]


def test_f_child_8_9_signals_and_values_go_on_to_the_grandparent_when_each_level_lists_them():
    registry = {
        "main": {"Spawn": child_node(child_workflow_name="middle", signals_to_parent=["DONE"],
                                     context_updates_to_parent=["result"])},
        "middle": {"Spawn": child_node(event_triggers=["WORK"], signals_to_parent=["DONE"],
                                       context_updates_to_parent=["result"])},
        "worker": worker_writes("result", "deep"),
    }  # fmt: skip
    host = ScriptedHost({"work": lambda value: value})
    main = host.start(registry, ["GO"], execution_id=MAIN, workflow="main")
    host.run()
    assert "main/Spawn-1/Spawn-1" in host.executions
    assert main.context["result"] == ["deep"]
    assert ops(main)["signals"] == ["GO", "DONE"]


def test_f_child_10_counters_are_per_execution():
    """F-OPS-8: a child's work does not count in its parent."""
    host = tree({"Spawn": child_node()}, worker_writes("result"))
    assert ops(host.executions[MAIN])["tool_calls"] == 0
    assert ops(host.executions["main/Spawn-1"])["tool_calls"] == 1


def test_f_child_12_a_workflow_may_start_itself_as_a_child_to_any_depth():
    loop = {
        "Inc": {"node_type": "tool", "event_triggers": ["WORK"], "tool_name": "inc",
                "parameters": {"depth": "{{ context.depth }}"}, "output_field": "depth",
                "event_emissions": [{"signal_name": "DEEPER",
                                     "condition": "{{ result < 3 }}"}]},
        "Again": child_node(event_triggers=["DEEPER"], child_workflow_name="loop",
                            input_fields=["depth"]),
    }  # fmt: skip
    host = ScriptedHost({"inc": lambda depth: int(depth) + 1})
    host.start({"loop": loop}, ["WORK"], {"depth": 0}, "loop", MAIN)
    host.run()
    assert list(host.executions) == [MAIN, "main/Again-1", "main/Again-1/Again-1"]
    assert host.executions["main/Again-1/Again-1"].context["depth"] == [2, 3]


def test_f_child_14_a_signal_sent_later_to_a_child_still_reaches_the_parent():
    parent = {"Spawn": child_node(signals_to_parent=["DONE"], context_updates_to_parent=["result"])}
    host = tree(parent, {"Late": {**worker_writes("result", "late")["Work"],
                                  "event_triggers": ["LATER"]}})  # fmt: skip
    main = host.executions[MAIN]
    assert "result" not in main.context
    host.deliver("main/Spawn-1", ["LATER"])
    host.run()
    assert main.context["result"] == ["late"]
    assert ops(main)["signals"] == ["GO", "DONE"]


# -- the conversation history of a tree (F-HIST-1, F-HIST-3, F-CHILD-11) ---------------


def llm_with_identity(trigger: str) -> dict[str, Any]:
    return {"node_type": "llm", "event_triggers": [trigger], "prompt": f"Say {trigger}",
            "identity": "scribe", "output_field": "said"}  # fmt: skip


def test_f_hist_1_f_child_11_a_child_reads_the_tree_s_history_from_the_main_execution():
    answers = iter(['{"said": "one"}', '{"said": "two"}'])
    host = ScriptedHost(call_llm=lambda prompt, config: next(answers))
    registry = {
        "main": {"First": llm_with_identity("GO"),
                 "Spawn": child_node(event_triggers=["GO"])},
        "worker": {"Second": llm_with_identity("WORK")},
    }  # fmt: skip
    main = host.start(registry, ["GO"], execution_id=MAIN, workflow="main",
                      identities={"scribe": "You write things down."})  # fmt: skip
    host.run()
    reads = [call for eid, call in host.calls if isinstance(call, ReadHistory)]
    assert [read.main_execution_id for read in reads] == [MAIN]
    assert [entry["content"] for entry in main.conversation_history()] == [
        "You write things down.", "Say GO", "one", "Say WORK", "two",
    ]  # fmt: skip
    # the child keeps no history of its own: its turns went to the main execution
    assert host.executions["main/Spawn-1"].conversation_history() == []
