"""A Chat Completions server on loopback for tests, driven through the real openai client.

Each request takes the next scripted reply (the last one repeats): a model answer, an
HTTP error status, or a delay before answering. Requests are recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    content: str = ""
    status: int = 200
    delay_seconds: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    # A body sent as is (e.g. an HTML page), instead of a chat completion.
    raw_body: str | None = None
    # The completion's usage (None: the server says nothing of it), and the model it names
    # (empty: the one asked for).
    usage: dict[str, int] | None = field(
        default_factory=lambda: {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    )
    model: str = ""


@dataclass
class ChatServer:
    replies: list[Reply]
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def next_reply(self) -> Reply:
        index = min(len(self.requests) - 1, len(self.replies) - 1)
        return self.replies[index]


def _handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            server.requests.append(
                {
                    "path": self.path,
                    "body": body,
                    "authorization": self.headers.get("authorization"),
                    "at": time.monotonic(),
                }
            )
            reply = server.next_reply()
            if reply.delay_seconds:
                time.sleep(reply.delay_seconds)
            if reply.status != 200:
                payload = {"error": {"message": f"scripted {reply.status}", "type": "test"}}
            else:
                payload = {
                    "id": f"chatcmpl-{len(server.requests)}",
                    "object": "chat.completion",
                    "created": 0,
                    "model": reply.model or body.get("model", "test-model"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply.content},
                            "finish_reason": "stop",
                        }
                    ],
                }
                if reply.usage is not None:
                    payload["usage"] = reply.usage
            data = json.dumps(payload).encode()
            content_type = "application/json"
            if reply.raw_body is not None:
                data, content_type = reply.raw_body.encode(), "text/html"
            try:
                self.send_response(reply.status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (an activity timeout): nothing to answer

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


@contextmanager
def chat_server(*replies: Reply) -> Iterator[ChatServer]:
    """A running server answering with ``replies`` in order (the last one repeats)."""
    state = ChatServer(list(replies))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
