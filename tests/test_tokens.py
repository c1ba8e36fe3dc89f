"""Token accounting on the time-skipping server: what the providers report reaches
``describe()`` (per node and per model) and the SoeTokens search attribute, and survives
continue-as-new."""

from __future__ import annotations

from typing import Any

from soe_temporal.llm.providers import LlmAnswer, TokenUsage
from soe_temporal.llm.providers.fake import FakeProvider
from soe_temporal.llm.providers.openai_compatible import OpenAIProvider
from soe_temporal.temporal.search_attributes import TOKENS
from soe_temporal.testing import SoeTestEnvironment

from .chat_server import Reply, chat_server
from .test_continue_as_new import _current_run_is_new

TWO_MODELS = """
workflows:
  support:
    Triage:
      node_type: llm
      event_triggers: [NEW_TICKET]
      prompt: "Summarise: {{ context.ticket }}"
      output_field: summary
      model: small
      event_emissions: [{signal_name: TRIAGED}]
    Answer:
      node_type: llm
      event_triggers: [TRIAGED]
      prompt: "Answer: {{ context.summary }}"
      output_field: reply
      model: large
context_schema:
  summary: {type: string}
  reply: {type: string}
"""

# The Triage call, then the Answer call (the chat server answers in order).
TRIAGE_USAGE = {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}
ANSWER_USAGE = {"prompt_tokens": 30, "completion_tokens": 6, "total_tokens": 36}

ONE_NODE = """
workflows:
  main:
    Ask:
      node_type: llm
      event_triggers: [GO]
      prompt: "Say hi"
      output_field: reply
context_schema:
  reply: {type: string}
"""

LLM_LOOP = """
loop:
  Next:
    node_type: router
    event_triggers: [START, STEPPED]
    event_emissions:
      - signal_name: STEP
        condition: "{{ context.__operational__.nodes.get('Next', 0) <= context.rounds }}"
  Step:
    node_type: llm
    event_triggers: [STEP]
    prompt: "Step"
    output_field: steps
    event_emissions: [{signal_name: STEPPED}]
"""


class TenTokenModel:
    """A provider whose every call uses 10 tokens."""

    description = "a model that uses 10 tokens a call"

    async def complete(
        self, prompt: str, config: dict[str, Any], system_prompt: str | None
    ) -> LlmAnswer:
        return LlmAnswer('{"steps": "done", "reply": "done"}', TokenUsage(7, 3, 10, "ten"))


class BadUsageModel:
    """A provider that reports usage the workflow could not read back."""

    description = "a model with nonsense usage"

    async def complete(
        self, prompt: str, config: dict[str, Any], system_prompt: str | None
    ) -> LlmAnswer:
        return LlmAnswer('"hi"', TokenUsage(prompt_tokens="many"))  # type: ignore[arg-type]


class TextOnlyModel:
    """A provider written before usage was reported: it answers with the bare text."""

    description = "a text-only provider"

    async def complete(self, prompt: str, config: dict[str, Any], system_prompt: str | None) -> str:
        return '"hi"'


async def _two_models(env: SoeTestEnvironment) -> str:
    return await env.soe.orchestrate(TWO_MODELS, "support", ["NEW_TICKET"], {"ticket": "fire"})


async def test_describe_shows_the_tokens_per_node_and_per_model():
    replies = [Reply('"ok"', usage=TRIAGE_USAGE), Reply('"ok"', usage=ANSWER_USAGE)]
    with chat_server(*replies) as server:
        provider = OpenAIProvider("test-model", base_url=server.base_url)
        async with SoeTestEnvironment(call_llm=provider) as env:
            info = await env.soe.describe(await _two_models(env))
    assert info["tokens"] == {
        "total": 48,
        "estimated": False,
        "by_node": {
            "Triage": {"prompt": 10, "completion": 2, "total": 12},
            "Answer": {"prompt": 30, "completion": 6, "total": 36},
        },
        "by_model": {
            "small": {"prompt": 10, "completion": 2, "total": 12},
            "large": {"prompt": 30, "completion": 6, "total": 36},
        },
    }


async def test_the_soe_tokens_search_attribute_is_the_total():
    replies = [Reply('"ok"', usage=TRIAGE_USAGE), Reply('"ok"', usage=ANSWER_USAGE)]
    with chat_server(*replies) as server:
        provider = OpenAIProvider("test-model", base_url=server.base_url)
        async with SoeTestEnvironment(call_llm=provider) as env:
            eid = await _two_models(env)
            description = await env.client.get_workflow_handle(eid).describe()
    assert description.typed_search_attributes.get(TOKENS) == 48


async def test_the_fake_providers_tokens_are_marked_as_estimates():
    async with SoeTestEnvironment(call_llm=FakeProvider()) as env:
        eid = await env.soe.orchestrate(ONE_NODE, "main", ["GO"], {})
        tokens = (await env.soe.describe(eid))["tokens"]
    assert tokens["estimated"] is True
    assert list(tokens["by_model"]) == ["fake"] and tokens["total"] > 0


async def test_a_call_llm_function_reports_no_tokens():
    async with SoeTestEnvironment(call_llm=lambda prompt, config: '"hi"') as env:
        eid = await env.soe.orchestrate(ONE_NODE, "main", ["GO"], {})
        tokens = (await env.soe.describe(eid))["tokens"]
        description = await env.client.get_workflow_handle(eid).describe()
    assert tokens == {"total": 0, "estimated": False, "by_node": {}, "by_model": {}}
    assert description.typed_search_attributes.get(TOKENS) is None


async def test_token_totals_survive_continue_as_new():
    async with SoeTestEnvironment(call_llm=TenTokenModel(), continue_as_new_after_events=20) as env:
        eid = await env.soe.orchestrate(LLM_LOOP, "loop", ["START"], {"rounds": 12})
        assert await _current_run_is_new(env, eid)
        tokens = (await env.soe.describe(eid))["tokens"]
        description = await env.client.get_workflow_handle(eid).describe()
    assert tokens["by_node"] == {"Step": {"prompt": 84, "completion": 36, "total": 120}}
    assert description.typed_search_attributes.get(TOKENS) == 120


async def test_usage_the_workflow_could_not_read_is_left_out_and_the_call_succeeds():
    async with SoeTestEnvironment(call_llm=BadUsageModel()) as env:
        eid = await env.soe.orchestrate(ONE_NODE, "main", ["GO"], {})
        context = await env.soe.get_context(eid)
        tokens = (await env.soe.describe(eid))["tokens"]
    assert context["reply"] == ["hi"]
    assert tokens["total"] == 0


async def test_a_provider_that_answers_with_bare_text_still_works():
    async with SoeTestEnvironment(call_llm=TextOnlyModel()) as env:
        eid = await env.soe.orchestrate(ONE_NODE, "main", ["GO"], {})
        context = await env.soe.get_context(eid)
    assert context["reply"] == ["hi"]
