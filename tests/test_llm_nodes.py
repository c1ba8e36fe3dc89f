"""LLM nodes on the time-skipping server: the seed's and the spec's LLM examples, with a
``call_llm(prompt, config)`` that reads SOE's prompt as SOE users' test doubles do."""

from __future__ import annotations

import json

import pytest

from soe_temporal import NodeFailedError
from soe_temporal.llm.providers.fake import FakeProvider
from soe_temporal.testing import SoeTestEnvironment

from .conftest import EXAMPLES


def _document(prompt: str) -> dict:
    """The input document: the first line of every SOE prompt (F-PROTO-1)."""
    return json.loads(prompt.splitlines()[0])


class ScriptedModel:
    """Answers by the task in the prompt; records every call."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.calls: list[tuple[dict, dict]] = []

    def __call__(self, prompt: str, config: dict) -> str:
        document = _document(prompt)
        self.calls.append((document, config))
        for start, answer in self.answers.items():
            if document["prompt"].startswith(start):
                return answer
        raise AssertionError(f"unexpected prompt {document['prompt']!r}")


async def test_seed_analyze_then_summarize_with_a_shared_identity():
    """The seed's combined config: typed outputs, one history for the `analyst` identity."""
    model = ScriptedModel(
        {"Analyze:": '{"growth": "12%", "risk": "low"}', "Summarize": '"Revenue grew 12%."'}
    )
    async with SoeTestEnvironment(call_llm=model) as env:
        eid = await env.soe.orchestrate(
            EXAMPLES / "analyze_summarize.yaml",
            "example_workflow",
            ["START"],
            {"input": "Q3 revenue grew 12%"},
        )
        context = await env.soe.get_context(eid)
    assert context["analysis"] == [{"growth": "12%", "risk": "low"}]
    assert context["summary"] == ["Revenue grew 12%."]
    assert context["__operational__"]["signals"] == ["START", "ANALYZED", "DONE"]
    assert context["__operational__"]["llm_calls"] == 2
    summarize, config = model.calls[1]
    assert summarize["prompt"] == "Summarize the analysis: {'growth': '12%', 'risk': 'low'}"
    assert summarize["conversation_history"] == (
        "[system]: You are a thorough analyst. Be precise and structured in your analysis.\n"
        "[user]: Analyze: Q3 revenue grew 12%\n"
        "[assistant]: {'growth': '12%', 'risk': 'low'}"
    )
    assert config["name"] == "Summarize" and config["identity"] == "analyst"


async def test_f_cfg_5_intake_classify_answers_a_bare_typed_value():
    model = ScriptedModel({"Classify:": '"billing"'})
    async with SoeTestEnvironment(call_llm=model) as env:
        eid = await env.soe.orchestrate(
            EXAMPLES / "intake.yaml", "intake", ["BEGIN"], {"ticket": "refund"}
        )
        assert (await env.soe.get_context(eid))["category"] == ["billing"]


@pytest.mark.parametrize(
    ("picked", "signals"),
    [
        ('{"summary": "Data lost", "selected_signals": ["URGENT"]}', ["URGENT"]),
        ('{"summary": "Paper jam", "selected_signals": ["ROUTINE"]}', ["ROUTINE"]),
        ('{"summary": "Unclear", "selected_signals": []}', []),
    ],
)
async def test_f_sig_7_d_4_the_model_selects_among_described_signals(picked, signals):
    model = ScriptedModel({"Read this ticket": picked})
    async with SoeTestEnvironment(call_llm=model) as env:
        eid = await env.soe.orchestrate(
            EXAMPLES / "support_triage.yaml", "support", ["NEW_TICKET"], {"ticket": "help"}
        )
        context = await env.soe.get_context(eid)
    assert context["__operational__"]["signals"] == ["NEW_TICKET", *signals]
    _, config = model.calls[0]
    assert config["model"] == "small-fast"  # F-API-5: unknown keys reach call_llm


async def test_f_llm_9_exhausted_retries_take_the_failure_signal():
    model = ScriptedModel({"Read this ticket": '{"summary": "x", "selected_signals": ["PANIC"]}'})
    async with SoeTestEnvironment(call_llm=model) as env:
        eid = await env.soe.orchestrate(
            EXAMPLES / "support_triage.yaml", "support", ["NEW_TICKET"], {"ticket": "help"}
        )
        context = await env.soe.get_context(eid)
        described = await env.soe.describe(eid)
    assert len(model.calls) == 3  # retries: 2
    assert context["__operational__"]["signals"] == ["NEW_TICKET", "TRIAGE_FAILED"]
    assert "Max retries (2) exceeded" in described["failures"][0]["error"]


async def test_f_llm_9_failure_without_failure_signal_raises_and_the_execution_lives_on():
    def broken(prompt: str, config: dict) -> str:
        raise ConnectionError("model unreachable")

    async with SoeTestEnvironment(call_llm=broken) as env:
        with pytest.raises(NodeFailedError, match="model unreachable"):
            await env.soe.orchestrate(
                EXAMPLES / "intake.yaml", "intake", ["BEGIN"], {"ticket": "x"}, execution_id="flaky"
            )
        described = await env.soe.describe("flaky")
        assert described["status"] == "RUNNING"
        assert "ConnectionError: model unreachable" in described["failures"][0]["error"]


async def test_f_hist_2_f_id_4_one_history_per_tree_only_the_first_system_prompt():
    # No context_schema entries: the answers wrap the value in the output field (F-LLM-4).
    model = ScriptedModel(
        {"Ask the candidate": '{"q1": "What is a closure?"}', "Write a follow-up": '{"q2": "Why?"}'}
    )
    async with SoeTestEnvironment(call_llm=model) as env:
        eid = await env.soe.orchestrate(
            EXAMPLES / "interview.yaml", "interview", ["BEGIN"], {"topic": "Python"}
        )
        context = await env.soe.get_context(eid)
    assert context["q1"] == ["What is a closure?"] and context["q2"] == ["Why?"]
    second, _ = model.calls[1]
    assert second["conversation_history"].startswith(
        "[system]: You are a friendly technical interviewer.\n[user]: Ask the candidate about Python"
    )
    assert "You take terse notes." not in second["conversation_history"]


async def test_async_call_llm_is_awaited():
    async def call_llm(prompt: str, config: dict) -> str:
        return '"async answer"'

    async with SoeTestEnvironment(call_llm=call_llm) as env:
        eid = await env.soe.orchestrate(
            EXAMPLES / "intake.yaml", "intake", ["BEGIN"], {"ticket": "x"}
        )
        assert (await env.soe.get_context(eid))["category"] == ["async answer"]


async def test_the_fake_provider_runs_every_llm_example_offline():
    async with SoeTestEnvironment(call_llm=FakeProvider()) as env:
        eid = await env.soe.orchestrate(
            EXAMPLES / "analyze_summarize.yaml", "example_workflow", ["START"], {"input": "Q3"}
        )
        context = await env.soe.get_context(eid)
    assert context["summary"][0].startswith("fake LLM answer to: Summarize the analysis")
    assert context["__operational__"]["signals"] == ["START", "ANALYZED", "DONE"]


async def test_an_llm_node_on_a_worker_without_provider_fails_clearly():
    async with SoeTestEnvironment() as env:
        with pytest.raises(NodeFailedError, match="no LLM provider"):
            await env.soe.orchestrate(
                EXAMPLES / "intake.yaml", "intake", ["BEGIN"], {"ticket": "x"}
            )


async def test_f_hist_2_the_system_message_is_the_history_s_opening_prompt():
    """A provider's system message is the prompt that opened the history, so the second
    identity's own prompt is never sent (it is never inserted either)."""
    seen: list[str | None] = []

    class Recording:
        description = "records system messages"

        async def complete(self, prompt: str, config: dict, system_prompt: str | None) -> str:
            seen.append(system_prompt)
            return '{"' + config["output_field"] + '": "x"}'

    async with SoeTestEnvironment(call_llm=Recording()) as env:
        await env.soe.orchestrate(
            EXAMPLES / "interview.yaml", "interview", ["BEGIN"], {"topic": "Python"}
        )
    assert seen == ["You are a friendly technical interviewer."] * 2
