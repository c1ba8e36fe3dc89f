"""Fan-in joins on the pure engine (F-EXEC-3, F-EXEC-5, F-PAT-7, F-PAT-8): outcomes that
reach the host together are applied one at a time, each outcome's cascade running to its
end before the next outcome is applied, so a join fires exactly once in every order."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from soe_temporal.engine import ToolOutcome
from soe_temporal.engine.commands import CallLlm, CallTool, LlmOutcome, MessageToParent

from .helpers import start

PARTS = ["weather", "news", "stocks"]
ALL_PARTS = " and ".join(f"context.{part} is defined" for part in PARTS)

JOIN = {
    "Join": {
        "node_type": "router",
        "event_triggers": ["PART_DONE"],
        "event_emissions": [{"signal_name": "READY", "condition": f"{{{{ {ALL_PARTS} }}}}"}],
    },
    "Summarize": {
        "node_type": "llm",
        "event_triggers": ["READY"],
        "prompt": "Summarize {{ context.weather }}, {{ context.news }}, {{ context.stocks }}",
        "output_field": "summary",
    },
}


def tool_parts() -> dict[str, Any]:
    nodes: dict[str, Any] = {
        "Split": {
            "node_type": "router",
            "event_triggers": ["START"],
            "event_emissions": [{"signal_name": "FETCH"}],
        }
    }
    for part in PARTS:
        nodes[f"Fetch_{part}"] = {
            "node_type": "tool",
            "event_triggers": ["FETCH"],
            "tool_name": f"fetch_{part}",
            "output_field": part,
            "event_emissions": [{"signal_name": "PART_DONE"}],
        }
    return {"wf": {**nodes, **JOIN}}


def llm_parts() -> dict[str, Any]:
    nodes: dict[str, Any] = {}
    for part in PARTS:
        nodes[f"Write_{part}"] = {
            "node_type": "llm",
            "event_triggers": ["START"],
            "prompt": f"Write the {part}",
            "output_field": part,
            "event_emissions": [{"signal_name": "PART_DONE"}],
        }
    return {"wf": {**nodes, **JOIN}}


def summaries(commands: list[Any]) -> list[CallLlm]:
    return [c for c in commands if isinstance(c, CallLlm) and c.node_name == "Summarize"]


def ops(execution: Any) -> dict[str, Any]:
    return execution.context["__operational__"]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_f_pat_7_tool_fan_in_fires_once_when_outcomes_arrive_together(order):
    """F-EXEC-3: three tool outcomes handed in back to back, with nothing processed in
    between, in every order: the join emits READY once and the llm node runs once."""
    execution = start(tool_parts(), ["START"])
    calls = execution.process_pending()
    assert [c.tool_name for c in calls] == [f"fetch_{part}" for part in PARTS]
    follow_ups: list[Any] = []
    for index in order:
        call = calls[index]
        assert isinstance(call, CallTool)
        follow_ups += execution.complete_call(call.call_id, ToolOutcome("ok", result=index))
    follow_ups += execution.process_pending()
    assert len(summaries(follow_ups)) == 1
    assert ops(execution)["nodes"]["Join"] == 3
    assert ops(execution)["nodes"]["Summarize"] == 1
    assert ops(execution)["signals"].count("READY") == 1


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_f_pat_7_llm_fan_in_fires_once_when_outcomes_arrive_together(order):
    """F-EXEC-3 for llm voters (F-PAT-7): their answers handed in together, in every
    order, make the join fire once."""
    execution = start(llm_parts(), ["START"])
    calls = execution.process_pending()
    assert [c.node_name for c in calls] == [f"Write_{part}" for part in PARTS]
    follow_ups: list[Any] = []
    for index in order:
        answer = f'{{"{PARTS[index]}": "part {index}"}}'
        follow_ups += execution.complete_call(calls[index].call_id, LlmOutcome("ok", answer))
    assert len(summaries(follow_ups)) == 1
    assert ops(execution)["nodes"]["Summarize"] == 1


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_f_pat_8_child_fan_in_fires_once_when_messages_arrive_together(order):
    """F-CHILD-8/9 with F-PAT-8: three children's messages (each a value and the signal
    that announces it) received back to back, in every order, make the join fire once, and
    each PART_DONE sees only the values that arrived with or before it."""
    execution = start({"wf": dict(JOIN)}, ["START"])
    assert execution.process_pending() == []
    for index in order:
        execution.receive_from_child(
            f"exec-1/Child-{index}",
            MessageToParent([(PARTS[index], f"part {index}")], [["PART_DONE"]]),
        )
    commands = execution.process_pending()
    assert len(summaries(commands)) == 1
    assert ops(execution)["nodes"]["Join"] == 3


def test_f_exec_3_an_outcome_after_a_queued_signal_is_applied_after_its_broadcast():
    """A signal queued before an outcome is broadcast before the outcome is applied: its
    cascade never sees a value that arrived after it."""
    registry = tool_parts()
    registry["wf"]["Peek"] = {
        "node_type": "router",
        "event_triggers": ["PEEK"],
        "event_emissions": [
            {"signal_name": "SAW_WEATHER", "condition": "{{ context.weather is defined }}"}
        ],
    }
    execution = start(registry, ["START"])
    calls = execution.process_pending()
    execution.deliver(["PEEK"])
    execution.complete_call(calls[0].call_id, ToolOutcome("ok", result="sunny"))
    signals = ops(execution)["signals"]
    assert "SAW_WEATHER" not in signals
    assert signals.index("PEEK") < signals.index("PART_DONE")


def test_f_exec_3_an_outcome_s_own_cascade_runs_before_the_call_returns():
    """complete_call broadcasts what the outcome emits at once (depth-first, F-EXEC-5)."""
    execution = start(tool_parts(), ["START"])
    calls = execution.process_pending()
    execution.complete_call(calls[0].call_id, ToolOutcome("ok", result="sunny"))
    assert execution.state.pending == []
    assert ops(execution)["nodes"]["Join"] == 1


def test_executions_started_with_payload_version_1_keep_their_recorded_order():
    """Histories recorded before this rule left an outcome's signals for the host's next
    process_pending; with the rule off, they replay as recorded."""
    execution = start(tool_parts(), ["START"])
    execution.cascade_each_outcome = False
    calls = execution.process_pending()
    execution.complete_call(calls[0].call_id, ToolOutcome("ok", result="sunny"))
    assert [b.signals for b in execution.state.pending] == [["PART_DONE"]]
