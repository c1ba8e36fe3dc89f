"""Long conversations travel to the LLM activity by reference to content-addressed chunks
(temporal/conversation.py): the prompt comes back exactly, unchanged chunks keep their ids
as the conversation grows, and the store keeps each chunk once."""

from __future__ import annotations

import json

from soe_temporal.llm.protocol import Issue, assemble_prompt, input_document, retry_prompt
from soe_temporal.temporal.conversation import (
    CHUNK_CHARACTERS,
    ConversationReader,
    split_prompt,
)
from soe_temporal.temporal.payload_store import LocalPayloadStore

SCHEMA = {"properties": {"output": {"type": "string"}}, "type": "object"}


def prompt_with(turns: int, extra: str = "") -> str:
    history = "\n".join(f'[assistant]: answer {i} "quoted" é {"x" * 8000}' for i in range(turns))
    document = input_document(prompt="Go on" + extra, context="", conversation_history=history)
    return assemble_prompt(document, SCHEMA)


def rebuilt(split) -> str:
    return split.before + "".join(chunk.text for chunk in split.chunks) + split.after


def test_a_prompt_comes_back_exactly_from_its_parts():
    prompt = prompt_with(10)
    split = split_prompt(prompt)
    assert split is not None and rebuilt(split) == prompt
    assert all(len(c.text) == CHUNK_CHARACTERS for c in split.chunks[:-1])


def test_a_retry_prompt_keeps_its_conversation_in_place():
    prompt = retry_prompt(prompt_with(5), "not json", [Issue("", "Invalid JSON")])
    split = split_prompt(prompt)
    assert split is not None and rebuilt(split) == prompt
    assert split.after.endswith("Respond again with valid JSON that matches the schema.")


def test_a_short_conversation_travels_inline():
    short = input_document(prompt="hi", context="", conversation_history="[user]: hello")
    assert split_prompt(assemble_prompt(short, SCHEMA)) is None
    assert split_prompt('{"prompt":"hi","context":"","conversation_history":""}\n\nx') is None


def test_a_prompt_that_mentions_the_field_name_is_split_at_the_real_field():
    history = "\n".join(f"[user]: {'y' * 9000}" for _ in range(3))
    prompt = assemble_prompt(
        input_document(
            prompt='say "conversation_history":"', context="", conversation_history=history
        ),
        SCHEMA,
    )
    split = split_prompt(prompt)
    assert split is not None and rebuilt(split) == prompt
    assert json.loads(split.before + '"}')["prompt"] == 'say "conversation_history":"'


def test_as_a_conversation_grows_its_earlier_chunks_keep_their_ids():
    earlier = split_prompt(prompt_with(10))
    later = split_prompt(prompt_with(11, extra=" (later)"))
    assert earlier is not None and later is not None
    kept = [c.id for c in earlier.chunks[:-1]]  # the last, partial chunk grows
    assert [c.id for c in later.chunks[: len(kept)]] == kept


async def test_the_activity_puts_the_conversation_back_from_the_store(tmp_path):
    store = LocalPayloadStore(tmp_path)
    first = split_prompt(prompt_with(10))
    second = split_prompt(prompt_with(12))
    assert first is not None and second is not None
    await ConversationReader(store).text(first.head, first.chunks)
    known = {c.id for c in first.chunks}
    sent = [c for c in second.chunks if c.id not in known]
    # a fresh reader (another worker) has only the store
    text = await ConversationReader(LocalPayloadStore(tmp_path)).text(second.head, sent)
    assert second.before + text + second.after == prompt_with(12)
    stored = sorted(p.name for p in (tmp_path / "sha256").rglob("*") if p.is_file())
    assert len(stored) == len({c.id for c in first.chunks} | {c.id for c in second.chunks})
