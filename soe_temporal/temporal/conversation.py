"""How an LLM call carries a long conversation: by reference to content-addressed chunks.

Every prompt of an llm or agent node with a conversation holds it as the last field of its
input document (``"conversation_history":"..."``, SOE_SPEC F-PROTO-1), and the
conversation only grows: each call's text begins with the previous call's. So the
conversation's JSON text is cut into fixed-size chunks from its start, each chained to
the one before (a chunk's id is the SHA-256 of the previous id and its text), and a call
carries the prompt around the conversation, the id of the last chunk, and only the chunks
the payload store may not have yet. The store keeps every chunk once; the activity puts
the prompt back together. Stored bytes then grow with the conversation, not with its
square, and the history holds a claim per call whatever the conversation's size.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from .payload_store import PayloadStore

# Characters of the conversation's JSON text per chunk: only the last, partial chunk of a
# conversation is stored again when it grows.
CHUNK_CHARACTERS = 4 * 1024
_FIELD = '"conversation_history":"'
_END = '"}'


@dataclass
class ConversationChunk:
    """One chunk of a conversation's JSON text, and the chunk it follows ("" for none)."""

    id: str
    previous: str
    text: str


@dataclass(frozen=True)
class SplitPrompt:
    """A prompt as the text before its conversation, the conversation's chunks (in
    order) and the text after it."""

    before: str
    chunks: list[ConversationChunk]
    after: str

    @property
    def head(self) -> str:
        return self.chunks[-1].id if self.chunks else ""


def chunk_id(previous: str, text: str) -> str:
    return hashlib.sha256(f"{previous}\n{text}".encode()).hexdigest()


def split_prompt(prompt: str) -> SplitPrompt | None:
    """The prompt around its conversation, or None when it holds none to speak of.

    The input document is the prompt's first block (JSON never holds a raw newline); its
    conversation is the last field, and ``"conversation_history":"`` can occur there only
    once unescaped (inside a JSON string every quote is escaped)."""
    document_end = prompt.find("\n\n")
    document = prompt if document_end < 0 else prompt[:document_end]
    start = document.find(_FIELD)
    if start < 0 or not document.endswith(_END):
        return None
    text_start = start + len(_FIELD)
    text_end = len(document) - len(_END)
    text = prompt[text_start:text_end]
    if len(text) < CHUNK_CHARACTERS:
        return None
    chunks: list[ConversationChunk] = []
    previous = ""
    for offset in range(0, len(text), CHUNK_CHARACTERS):
        piece = text[offset : offset + CHUNK_CHARACTERS]
        chunk = ConversationChunk(chunk_id(previous, piece), previous, piece)
        chunks.append(chunk)
        previous = chunk.id
    return SplitPrompt(prompt[:text_start], chunks, prompt[text_end:])


def chunk_bytes(chunk: ConversationChunk) -> bytes:
    """A chunk as the store keeps it."""
    return json.dumps({"previous": chunk.previous, "text": chunk.text}).encode()


def chunk_from_bytes(chunk_id_: str, data: bytes) -> ConversationChunk:
    stored = json.loads(data)
    return ConversationChunk(chunk_id_, stored["previous"], stored["text"])


class ChunkCache:
    """Chunks a worker has seen, by id, up to a number of characters (chunks never
    change, so a cached one is always right)."""

    def __init__(self, max_characters: int = 64 * 1024 * 1024) -> None:
        self._chunks: OrderedDict[str, ConversationChunk] = OrderedDict()
        self._characters = 0
        self._max = max_characters

    def get(self, chunk_id_: str) -> ConversationChunk | None:
        chunk = self._chunks.get(chunk_id_)
        if chunk is not None:
            self._chunks.move_to_end(chunk_id_)
        return chunk

    def put(self, chunks: Iterable[ConversationChunk]) -> None:
        for chunk in chunks:
            if chunk.id in self._chunks:
                continue
            self._chunks[chunk.id] = chunk
            self._characters += len(chunk.text)
        while self._characters > self._max and len(self._chunks) > 1:
            _, evicted = self._chunks.popitem(last=False)
            self._characters -= len(evicted.text)


class ConversationReader:
    """Puts a conversation back together in the LLM activity, from the chunks a call
    brings and those the payload store (or this worker's cache) already has."""

    def __init__(self, store: PayloadStore, cache: ChunkCache | None = None) -> None:
        self._store = store
        self._cache = cache or ChunkCache()

    async def text(self, head: str, new_chunks: list[ConversationChunk]) -> str:
        """The conversation's JSON text ending with chunk ``head``; ``new_chunks`` are
        stored first (again, harmlessly, if a retried call stored them already)."""
        await asyncio.gather(*(self._store.put_blob(c.id, chunk_bytes(c)) for c in new_chunks))
        self._cache.put(new_chunks)
        texts: list[str] = []
        current = head
        while current:
            chunk = self._cache.get(current)
            if chunk is None:
                chunk = chunk_from_bytes(current, await self._store.get_blob(current))
                self._cache.put([chunk])
            texts.append(chunk.text)
            current = chunk.previous
        return "".join(reversed(texts))
