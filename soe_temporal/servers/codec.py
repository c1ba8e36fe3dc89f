"""A codec server (Temporal's remote codec protocol) that shows stored payloads.

The Temporal Web UI and ``temporal workflow show --codec-endpoint`` send the payloads of a
history to ``POST /decode`` as ``{"payloads": [{"metadata": {k: base64}, "data": base64}]}``
and show what comes back. Payloads the payload store keeps appear in a history as claims
(``ExternalStorageReference``); this server answers each claim with the payload it names,
read from the same store the workers use, and passes every other payload through.
``/encode`` passes payloads through unchanged.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.sdk.v1.external_storage_pb2 import ExternalStorageReference
from temporalio.converter import JSONProtoPayloadConverter, StorageDriverClaim

from ..temporal.payload_store import PayloadStore

_REFERENCE_TYPE = ExternalStorageReference.DESCRIPTOR.full_name.encode()
_claims = JSONProtoPayloadConverter()


async def decode_payloads(store: PayloadStore, payloads: list[Payload]) -> list[Payload]:
    """Each claim replaced by the payload it names; other payloads as they are."""

    async def one(payload: Payload) -> Payload:
        if not (
            payload.metadata.get("encoding") == b"json/protobuf"
            and payload.metadata.get("messageType") == _REFERENCE_TYPE
        ):
            return payload
        reference = _claims.from_payload(payload, ExternalStorageReference)
        claim = StorageDriverClaim(claim_data=dict(reference.claim_data))
        [stored] = await store.retrieve(None, [claim])  # type: ignore[arg-type]
        return stored

    return list(await asyncio.gather(*(one(p) for p in payloads)))


def _from_json(body: dict[str, Any]) -> list[Payload]:
    return [
        Payload(
            metadata={k: base64.b64decode(v) for k, v in (item.get("metadata") or {}).items()},
            data=base64.b64decode(item.get("data") or ""),
        )
        for item in body.get("payloads") or []
    ]


def _to_json(payloads: list[Payload]) -> dict[str, Any]:
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                "data": base64.b64encode(p.data).decode(),
            }
            for p in payloads
        ]
    }


class CodecServer:
    """Serves /decode and /encode on ``host:port`` until stopped; runs the store's async
    reads on a loop of its own."""

    def __init__(
        self, store: PayloadStore, host: str = "127.0.0.1", port: int = 8888, cors_origin: str = "*"
    ) -> None:
        self.store = store
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._http = ThreadingHTTPServer((host, port), _handler(self._decode, cors_origin))
        self._http.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    def _decode(self, payloads: list[Payload]) -> list[Payload]:
        future = asyncio.run_coroutine_threadsafe(decode_payloads(self.store, payloads), self._loop)
        return future.result(timeout=60)

    def serve_forever(self) -> None:
        self._loop_thread.start()
        self._http.serve_forever()

    def start(self) -> None:
        """In the background (for tests and embedding)."""
        self._loop_thread.start()
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._loop.call_soon_threadsafe(self._loop.stop)


def _handler(
    decode: Callable[[list[Payload]], list[Payload]], cors_origin: str
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _cors(self) -> None:
            self.send_header("Access-Control-Allow-Origin", cors_origin)
            self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "Content-Type, X-Namespace")

        def do_OPTIONS(self) -> None:  # noqa: N802 - http.server's naming
            self.send_response(200)
            self._cors()
            self.end_headers()

        def do_POST(self) -> None:  # noqa: N802
            path = self.path.rstrip("/").rsplit("/", 1)[-1]
            if path not in ("decode", "encode"):
                self.send_error(404, "use /decode or /encode")
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                payloads = _from_json(json.loads(self.rfile.read(length) or b"{}"))
                answer = decode(payloads) if path == "decode" else payloads
                body = json.dumps(_to_json(answer)).encode()
            except Exception as error:  # the UI shows the message
                self.send_response(400)
                self._cors()
                self.end_headers()
                self.wfile.write(str(error).encode())
                return
            self.send_response(200)
            self._cors()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: the CLI prints where it listens

    return Handler
