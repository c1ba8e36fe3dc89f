"""The signal graph of a config (soe_temporal.graph): what is drawn, and the Mermaid and
DOT texts it is drawn as. Pure: no server."""

from __future__ import annotations

import re

import pytest

from soe_temporal import ConfigError, load_config
from soe_temporal.graph import GraphEdge, Ref, signal_graph, to_dot, to_mermaid

from .conftest import EXAMPLES

MERMAID_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def workflows(name: str) -> dict:
    return load_config(EXAMPLES / name).workflows


def node(workflow: str, name: str) -> Ref:
    return Ref("node", workflow, name)


def links(graph, kind: str = "signal") -> set[tuple[Ref, Ref, str]]:
    return {(e.source, e.target, e.signal) for e in graph.edges if e.kind == kind}


def test_an_emission_is_an_edge_to_every_node_it_triggers_labelled_with_the_signal():
    graph = signal_graph(workflows("approval.yaml"))
    wf = "waiting_workflow"
    between_nodes = {
        (s.name, t.name, signal)
        for s, t, signal in links(graph)
        if s.kind == "node" and t.kind == "node"
    }
    assert between_nodes == {
        ("HandleApproval", "ProcessApproved", "PROCESS_APPROVED"),
        ("HandleRejection", "NotifyRejection", "PROCESS_REJECTED"),
    }
    assert [(n.name, n.node_type) for n in graph.nodes if n.workflow == wf] == [
        ("Initialize", "router"),
        ("HandleApproval", "router"),
        ("HandleRejection", "router"),
        ("ProcessApproved", "tool"),
        ("NotifyRejection", "tool"),
    ]


def test_conditional_router_emissions_and_llm_failure_signals_are_edges():
    graph = signal_graph(
        {
            "w": {
                "Classify": {
                    "node_type": "router",
                    "event_triggers": ["START"],
                    "event_emissions": [
                        {"signal_name": "TEXT", "condition": "{{ context.kind == 'text' }}"},
                        {"signal_name": "IMAGE", "condition": "{{ context.kind == 'image' }}"},
                    ],
                },
                "Read": {
                    "node_type": "llm",
                    "prompt": "p",
                    "event_triggers": ["TEXT", "IMAGE"],
                    "llm_failure_signal": "READ_FAILED",
                    "event_emissions": [{"signal_name": "READ", "condition": "it was read"}],
                },
                "Recover": {"node_type": "agent", "prompt": "p", "event_triggers": ["READ_FAILED"]},
                "Store": {"node_type": "tool", "tool_name": "t", "event_triggers": ["READ"]},
            }
        }
    )
    edges = {(e.source.name, e.target.name, e.signal, e.kind) for e in graph.edges}
    assert {
        ("Classify", "Read", "TEXT", "signal"),
        ("Classify", "Read", "IMAGE", "signal"),
        ("Read", "Store", "READ", "signal"),
        ("Read", "Recover", "READ_FAILED", "failure"),
    } <= edges
    text = next(e for e in graph.edges if e.signal == "TEXT")
    assert text.condition == "{{ context.kind == 'text' }}"
    assert '-->|"TEXT, IMAGE"|' in to_mermaid(graph)


def test_signals_no_node_emits_are_entry_points_and_unheard_signals_exit_points():
    graph = signal_graph(workflows("approval.yaml"))
    wf = "waiting_workflow"
    assert [p.signal for p in graph.entries] == ["START", "APPROVED", "REJECTED"]
    assert [p.signal for p in graph.exits] == ["WAITING_FOR_APPROVAL", "COMPLETE"]
    entry_edges = {(s.name, t.name) for s, t, _ in links(graph) if s.kind == "entry"}
    assert entry_edges == {
        ("START", "Initialize"),
        ("APPROVED", "HandleApproval"),
        ("REJECTED", "HandleRejection"),
    }
    assert (node(wf, "ProcessApproved"), Ref("exit", wf, "COMPLETE"), "COMPLETE") in links(graph)


def test_a_child_node_links_dashed_to_its_child_workflow_and_its_emission_is_an_edge():
    graph = signal_graph(workflows("classifier_ecosystem.yaml"))
    assert graph.workflows == ("main_workflow", "text_workflow", "image_workflow")
    assert links(graph, "child") == {
        (node("main_workflow", "DelegateToTextProcessor"), Ref("entry", "text_workflow", "START"), "START"),
        (node("main_workflow", "DelegateToImageProcessor"), Ref("entry", "image_workflow", "START"), "START"),
    }  # fmt: skip
    delegate = node("main_workflow", "DelegateToTextProcessor")
    finalize = node("main_workflow", "Finalize")
    assert (delegate, finalize, "PROCESSING_COMPLETE") in links(graph)  # DESIGN D-3
    mermaid = to_mermaid(graph)
    assert (
        'main_workflow__DelegateToTextProcessor -.->|"START"| text_workflow__in__START' in mermaid
    )


def test_signals_to_parent_are_drawn_back_into_the_parent_nodes_they_trigger():
    graph = signal_graph(workflows("fanout_field.yaml"))
    assert links(graph, "to_parent") == {
        (Ref("exit", "worker", "PAGE_DONE"), node("batch", "Collect"), "PAGE_DONE")
    }
    # a trigger a child sends up is no entry point of the parent
    assert [p.signal for p in graph.entries if p.workflow == "batch"] == ["BEGIN"]
    child = next(e for e in graph.edges if e.kind == "child")
    assert child.fan_out_field == "urls"
    assert '-.->|"WORK per urls item"|' in to_mermaid(graph)


def test_a_signal_sent_up_that_no_parent_node_hears_ends_at_the_parent_exit_point():
    graph = signal_graph(workflows("classifier_ecosystem.yaml"))
    assert links(graph, "to_parent") == {
        (Ref("exit", "text_workflow", "DONE"), Ref("exit", "main_workflow", "DONE"), "DONE"),
        (Ref("exit", "image_workflow", "DONE"), Ref("exit", "main_workflow", "DONE"), "DONE"),
    }


def test_signals_from_a_grandchild_climb_each_level_that_lists_them():
    graph = signal_graph(
        {
            "top": {
                "Spawn": {"node_type": "child", "event_triggers": ["GO"], "child_workflow_name": "mid", "child_initial_signals": ["GO"], "signals_to_parent": ["DONE"]},
                "Done": {"node_type": "router", "event_triggers": ["DONE"], "event_emissions": [{"signal_name": "FIN"}]},
            },
            "mid": {
                "Spawn": {"node_type": "child", "event_triggers": ["GO"], "child_workflow_name": "leaf", "child_initial_signals": ["GO"], "signals_to_parent": ["DONE"]},
            },
            "leaf": {
                "Work": {"node_type": "tool", "tool_name": "t", "event_triggers": ["GO"], "event_emissions": [{"signal_name": "DONE"}]},
            },
        }
    )  # fmt: skip
    assert links(graph, "to_parent") == {
        (Ref("exit", "leaf", "DONE"), Ref("exit", "mid", "DONE"), "DONE"),
        (Ref("exit", "mid", "DONE"), node("top", "Done"), "DONE"),
    }


def test_fire_counts_show_in_labels_and_failed_nodes_are_styled():
    graph = signal_graph(
        workflows("approval.yaml"),
        "waiting_workflow",
        fire_counts={"Initialize": 1, "HandleApproval": 3},
        failed_nodes=["ProcessApproved"],
    )
    assert graph.node("waiting_workflow", "HandleApproval").fires == 3
    assert graph.node("waiting_workflow", "HandleRejection").fires == 0
    assert graph.node("waiting_workflow", "ProcessApproved").failed
    assert not graph.node("waiting_workflow", "Initialize").failed
    mermaid = to_mermaid(graph)
    assert 'waiting_workflow__HandleApproval{"HandleApproval ×3"}' in mermaid
    assert "classDef failed " in mermaid
    assert "class waiting_workflow__ProcessApproved failed" in mermaid
    assert "class waiting_workflow__HandleRejection,waiting_workflow__NotifyRejection unfired" in (
        mermaid
    )
    assert 'label="HandleApproval ×3"' in to_dot(graph)
    assert "×" not in to_mermaid(signal_graph(workflows("approval.yaml")))


def test_counts_by_name_apply_to_the_selected_workflow_and_by_workflow_and_name_anywhere():
    graph = signal_graph(
        workflows("classifier_ecosystem.yaml"),
        "main_workflow",
        fire_counts={"Classifier": 1, "AnalyzeText": 9, ("text_workflow", "AnalyzeText"): 2},
        failed_nodes=[("image_workflow", "AnalyzeImage")],
    )
    assert graph.node("main_workflow", "Classifier").fires == 1
    assert graph.node("text_workflow", "AnalyzeText").fires == 2
    assert graph.node("image_workflow", "AnalyzeImage").failed


def test_mermaid_ids_are_sanitised_and_labels_quoted():
    graph = signal_graph(
        {
            "my flow.v2": {
                "My node-1.x": {"node_type": "router", "event_triggers": ["GO (now)"], "event_emissions": [{"signal_name": 'SAY "HI" #1'}]},
                "end": {"node_type": "tool", "tool_name": "t", "event_triggers": ['SAY "HI" #1']},
                "My node 1 x": {"node_type": "child", "event_triggers": ["X"], "child_workflow_name": "a-b", "child_initial_signals": ["S"]},
            },
            "a-b": {"A": {"node_type": "llm", "prompt": "p", "event_triggers": ["S"]}},
        }
    )  # fmt: skip
    mermaid = to_mermaid(graph)
    declared = re.findall(r"^\s+(\S+?)(?:\{|\(|\[|>)", mermaid, re.MULTILINE)
    assert declared and all(MERMAID_ID.fullmatch(i) for i in declared), declared
    assert len(set(declared)) == len(declared)
    assert 'my_flow_v2__My_node_1_x{"My node-1.x"}' in mermaid
    assert "my_flow_v2__My_node_1_x_2[[" in mermaid  # "My node 1 x" would clash
    assert 'subgraph wf_my_flow_v2["my flow.v2"]' in mermaid
    assert 'my_flow_v2__in__GO__now_>"GO (now)"]' in mermaid
    assert '-->|"SAY #34;HI#34; #35;1"| my_flow_v2__end' in mermaid
    for line in mermaid.splitlines()[1:]:
        words = line.split()
        if len(words) >= 3 and words[1].startswith(("-->", "-.->")):
            assert MERMAID_ID.fullmatch(words[0]) and MERMAID_ID.fullmatch(words[-1]), line


def _dot_braces_balance(text: str) -> bool:
    depth = 0
    for char in re.sub(r'"(?:[^"\\]|\\.)*"', '""', text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def test_dot_output_is_well_formed():
    graph = signal_graph(workflows("fanout_aggregate.yaml"), failed_nodes=["Aggregate"])
    dot = to_dot(graph)
    assert dot.startswith("digraph soe {") and dot.rstrip().endswith("}")
    assert _dot_braces_balance(dot)
    declared = set(re.findall(r'^\s+"([^"]+)" \[', dot, re.MULTILINE))
    edges = re.findall(r'^\s+"([^"]+)" -> "([^"]+)"', dot, re.MULTILINE)
    assert edges and {end for edge in edges for end in edge} <= declared
    assert len(edges) == len({(e.source, e.target, e.kind) for e in graph.edges})
    assert dot.count("subgraph ") == len(graph.workflows) == 2
    assert 'style="dashed"' in dot
    assert _dot_braces_balance(to_dot(signal_graph({'a "{': {}})))


def test_a_named_workflow_is_drawn_with_the_workflows_its_children_reach():
    registry = {
        "lonely": {"Idle": {"node_type": "router", "event_triggers": ["X"], "event_emissions": [{"signal_name": "Y"}]}},
        "top": {"Spawn": {"node_type": "child", "event_triggers": ["GO"], "child_workflow_name": "mid", "child_initial_signals": ["GO"]}},
        "leaf": {"Work": {"node_type": "tool", "tool_name": "t", "event_triggers": ["GO"]}},
        "mid": {
            "Spawn": {"node_type": "child", "event_triggers": ["GO"], "child_workflow_name": "leaf", "child_initial_signals": ["GO"]},
            "Again": {"node_type": "child", "event_triggers": ["GO"], "child_workflow_name": "top", "child_initial_signals": ["GO"]},
        },
    }  # fmt: skip
    assert signal_graph(registry, "top").workflows == ("top", "mid", "leaf")
    assert signal_graph(registry, "leaf").workflows == ("leaf",)
    assert signal_graph(registry).workflows == ("lonely", "top", "leaf", "mid")
    with pytest.raises(ConfigError, match="Workflow 'nope' not found"):
        signal_graph(registry, "nope")


def test_every_example_draws():
    for path in sorted(EXAMPLES.glob("*.yaml")):
        graph = signal_graph(load_config(path).workflows)
        assert to_mermaid(graph).startswith("flowchart LR\n"), path
        assert _dot_braces_balance(to_dot(graph)), path
        drawn = {n.ref for n in graph.nodes} | {p.ref for p in graph.entries + graph.exits}
        assert all(isinstance(e, GraphEdge) for e in graph.edges)
        assert {r for e in graph.edges for r in (e.source, e.target)} <= drawn, path


def test_entry_signals_are_what_an_idle_execution_of_a_workflow_waits_for():
    from soe_temporal.graph import entry_signals

    registry = workflows("approval.yaml")
    assert entry_signals(registry, "waiting_workflow") == ["START", "APPROVED", "REJECTED"]
    assert entry_signals(registry, "no_such_workflow") == []
