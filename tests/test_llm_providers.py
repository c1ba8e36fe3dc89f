"""LLM nodes through the OpenAI-compatible provider and the real openai client, against a
Chat Completions server on loopback; Temporal retries what is worth retrying."""

from __future__ import annotations

import json

import pytest

from soe_temporal import NodeFailedError
from soe_temporal.llm.providers import LlmAnswer, TokenUsage
from soe_temporal.llm.providers.openai_compatible import OpenAIProvider
from soe_temporal.testing import SoeTestEnvironment

from .chat_server import ChatServer, Reply, chat_server

API_KEY = "sk-test-never-in-history"


def _config(failure_signal: bool = True, start_to_close: str = "30s") -> str:
    failure = "      llm_failure_signal: TRIAGE_FAILED\n" if failure_signal else ""
    return f"""
workflows:
  support:
    Triage:
      node_type: llm
      event_triggers: [NEW_TICKET]
      identity: triage
      prompt: "Summarise: {{{{ context.ticket }}}}"
      output_field: summary
      retries: 2
{failure}      model: small-fast
      temperature: 0.2
      temporal:
        start_to_close_timeout: {start_to_close}
        retry_policy: {{initial_interval: 10ms, maximum_attempts: 3}}
      event_emissions: [{{signal_name: TRIAGED}}]
context_schema:
  summary: {{type: string}}
identities:
  triage: "You sort support tickets."
"""


def _provider(server: ChatServer) -> OpenAIProvider:
    return OpenAIProvider(default_model="test-model", api_key=API_KEY, base_url=server.base_url)


async def _triage(server: ChatServer, config: str | None = None) -> tuple[str, dict]:
    """Run the Triage node; the execution's history (as JSON text) and final context."""
    async with SoeTestEnvironment(call_llm=_provider(server)) as env:
        eid = await env.soe.orchestrate(
            config or _config(), "support", ["NEW_TICKET"], {"ticket": "printer on fire"}
        )
        context = await env.soe.get_context(eid)
        history = await env.client.get_workflow_handle(eid).fetch_history()
        return json.dumps(history.to_json_dict()), context


async def test_success_through_the_openai_client():
    with chat_server(Reply('"The printer is on fire."')) as server:
        history, context = await _triage(server)
    assert context["summary"] == ["The printer is on fire."]
    assert context["__operational__"]["signals"] == ["NEW_TICKET", "TRIAGED"]
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions"
    body = request["body"]
    assert body["model"] == "small-fast" and body["temperature"] == 0.2
    assert body["messages"][0] == {"role": "system", "content": "You sort support tickets."}
    prompt = body["messages"][1]["content"]
    assert prompt.startswith('{"prompt":"Summarise: printer on fire","context":')
    assert request["authorization"] == f"Bearer {API_KEY}"
    assert API_KEY not in history


async def test_malformed_json_then_success_retries_with_feedback_f_proto_3():
    with chat_server(Reply("I think it is: {broken"), Reply('"fixed"')) as server:
        _, context = await _triage(server)
    assert context["summary"] == ["fixed"]
    assert len(server.requests) == 2
    second = server.requests[1]["body"]["messages"][1]["content"]
    assert "Your previous response was:\nI think it is: {broken" in second
    assert context["__operational__"]["llm_calls"] == 1


async def test_rate_limited_then_success_is_retried_by_temporal():
    with chat_server(Reply(status=429, headers={"retry-after": "0"}), Reply('"ok"')) as server:
        _, context = await _triage(server)
    assert context["summary"] == ["ok"]
    assert len(server.requests) == 2
    assert context["__operational__"]["errors"] == 0


async def test_server_errors_until_exhaustion_take_the_llm_failure_signal():
    with chat_server(Reply(status=500)) as server:
        _, context = await _triage(server)
    assert len(server.requests) == 3  # the node's retry_policy: maximum_attempts 3
    assert context["__operational__"]["signals"] == ["NEW_TICKET", "TRIAGE_FAILED"]
    assert context["__operational__"]["errors"] == 1
    assert "summary" not in context


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_refused_requests_fail_at_once_with_no_retry_storm(status: int):
    with chat_server(Reply(status=status)) as server:
        _, context = await _triage(server)
    assert len(server.requests) == 1
    assert context["__operational__"]["signals"] == ["NEW_TICKET", "TRIAGE_FAILED"]


async def test_bad_credentials_without_failure_signal_raise_naming_node_and_fix():
    with chat_server(Reply(status=401)) as server, pytest.raises(NodeFailedError) as failure:
        await _triage(server, _config(failure_signal=False))
    message = str(failure.value)
    assert "'Triage'" in message and "401" in message and "OPENAI_API_KEY" in message
    assert len(server.requests) == 1


async def test_a_response_slower_than_the_activity_timeout_is_retried():
    with chat_server(Reply('"too late"', delay_seconds=3), Reply('"on time"')) as server:
        _, context = await _triage(server, _config(start_to_close="1s"))
    assert context["summary"] == ["on time"]
    assert len(server.requests) == 2


async def test_retry_after_from_the_server_sets_the_wait_before_the_retry():
    with chat_server(Reply(status=429, headers={"retry-after": "1"}), Reply('"ok"')) as server:
        _, context = await _triage(server)
    assert context["summary"] == ["ok"]
    waited = server.requests[1]["at"] - server.requests[0]["at"]
    assert waited >= 0.9  # the node's own backoff would have waited 10 ms


async def test_a_server_that_is_not_a_chat_completions_api_fails_at_once_and_says_so():
    with (
        chat_server(Reply(raw_body="<html>Welcome to nginx</html>")) as server,
        pytest.raises(NodeFailedError, match="check OPENAI_BASE_URL"),
    ):
        await _triage(server, _config(failure_signal=False))
    assert len(server.requests) == 1


async def test_each_call_reports_the_servers_usage_and_the_model_that_answered():
    used = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
    with chat_server(Reply('"hi"', usage=used, model="small-fast-2025-01-01")) as server:
        answer = await _provider(server).complete("prompt", {"model": "small-fast"}, None)
    assert answer == LlmAnswer('"hi"', TokenUsage(12, 5, 17, "small-fast-2025-01-01"))


async def test_a_server_that_says_nothing_of_usage_reports_none():
    with chat_server(Reply('"hi"', usage=None)) as server:
        answer = await _provider(server).complete("prompt", {}, None)
    assert answer == LlmAnswer('"hi"', None)
