"""Token accounting on the pure engine (engine/tokens.py): every model call whose provider
reports usage counts for its node and its model, an agent's calls of every stage too; the
total reaches the execution's status (the SoeTokens search attribute)."""

from __future__ import annotations

import json
from typing import Any

from soe_temporal.engine import Execution, ToolOutcome
from soe_temporal.engine.commands import CallLlm, CallTool, LlmOutcome
from soe_temporal.llm.usage import TokenUsage

from .helpers import start
from .test_agent import agent_node, only, stage
from .test_agent import begin as begin_agent
from .test_llm import begin, llm_node


def usage(prompt: int, completion: int, model: str = "m1", estimated: bool = False) -> TokenUsage:
    return TokenUsage(prompt, completion, prompt + completion, model, estimated)


def answer(execution: Execution, call: CallLlm, text: str, used: TokenUsage | None) -> list[Any]:
    commands = list(execution.complete_call(call.call_id, LlmOutcome("ok", text, usage=used)))
    commands.extend(execution.process_pending())
    return commands


def test_an_llm_call_counts_for_its_node_and_its_model():
    execution, call = begin({"Ask": llm_node(output_field="reply")})
    answer(execution, call, '{"reply": "hi"}', usage(10, 3, "small-fast"))
    assert execution.tokens.describe() == {
        "total": 13,
        "estimated": False,
        "by_node": {"Ask": {"prompt": 10, "completion": 3, "total": 13}},
        "by_model": {"small-fast": {"prompt": 10, "completion": 3, "total": 13}},
    }


def test_an_invalid_answer_and_its_retry_both_count():
    execution, call = begin({"Ask": llm_node(output_field="reply")})
    [retry] = answer(execution, call, "not JSON", usage(10, 2))
    answer(execution, retry, '{"reply": "hi"}', usage(20, 3))
    assert execution.tokens.by_node["Ask"].total == 35


def test_calls_of_two_nodes_on_one_model_add_up_for_the_model():
    nodes = {
        "A": llm_node(output_field="a"),
        "B": llm_node(output_field="b"),
    }
    execution = start({"wf": nodes}, ["GO"])
    first, second = execution.process_pending()
    answer(execution, first, '{"a": 1}', usage(5, 1, "shared"))
    answer(execution, second, '{"b": 2}', usage(7, 2, "shared"))
    tokens = execution.tokens.describe()
    assert tokens["by_node"]["A"]["total"] == 6 and tokens["by_node"]["B"]["total"] == 9
    assert tokens["by_model"] == {"shared": {"prompt": 12, "completion": 3, "total": 15}}


def test_a_model_call_without_usage_counts_nothing():
    execution, call = begin({"Ask": llm_node(output_field="reply")})
    answer(execution, call, '{"reply": "hi"}', None)
    assert execution.tokens.describe() == {
        "total": 0,
        "estimated": False,
        "by_node": {},
        "by_model": {},
    }
    assert execution.state.token_usage is None  # nothing new in the carried state


def test_an_estimate_marks_the_totals_as_estimated():
    execution, call = begin({"Ask": llm_node(output_field="reply")})
    answer(execution, call, '{"reply": "hi"}', usage(4, 1, "fake", estimated=True))
    assert execution.tokens.estimated is True


def test_usage_that_names_no_model_counts_under_unknown():
    execution, call = begin({"Ask": llm_node(output_field="reply")})
    answer(execution, call, '{"reply": "hi"}', usage(4, 1, model=""))
    assert list(execution.tokens.by_model) == ["unknown"]


def test_every_stage_of_an_agent_counts_for_the_agent_node():
    execution, commands = begin_agent(agent_node(output_field="answer"))
    router = only(commands)
    decision = json.dumps({"action": "call_tool", "tool_name": "add"})
    parameters = only(answer(execution, router, decision, usage(100, 10)))
    assert stage(parameters) == "parameters"
    tool = only(answer(execution, parameters, '{"a": 40, "b": 2}', usage(50, 5)))
    assert isinstance(tool, CallTool)
    router = only(execution.complete_call(tool.call_id, ToolOutcome("ok", result=42)))
    finish = json.dumps({"action": "finish", "tool_name": None})
    response = only(answer(execution, router, finish, usage(200, 20)))
    assert stage(response) == "response"
    answer(execution, response, '{"answer": "42"}', usage(300, 30))
    assert execution.context["answer"] == ["42"]
    assert execution.tokens.by_node["A"].to_dict() == {
        "prompt": 650,
        "completion": 65,
        "total": 715,
    }


def test_the_status_carries_the_total_tokens():
    execution, call = begin({"Ask": llm_node(output_field="reply")})
    answer(execution, call, '{"reply": "hi"}', usage(10, 3))
    assert execution.status(busy=False).tokens == 13
