"""A data converter that keeps the order of mapping keys.

temporalio's JSON converter sorts keys, but SOE's order is meaningful: nodes run in
declaration order (F-CFG-8, F-EXEC-5) and ``accumulated`` scans context fields in
insertion order (F-CTX-7). SoeClient and create_worker derive a client with this converter
from the one they are given, keeping its codec and failure converter.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)


class OrderedJSONPlainPayloadConverter(JSONPlainPayloadConverter):
    """``json/plain`` payloads, keys in insertion order (decoding is unchanged)."""

    def to_payload(self, value: Any) -> Payload | None:
        return Payload(
            metadata={"encoding": self.encoding.encode()},
            data=json.dumps(value, cls=self._encoder, separators=(",", ":")).encode(),
        )


class OrderedPayloadConverter(CompositePayloadConverter):
    """temporalio's default payload converter with order-keeping JSON."""

    def __init__(self) -> None:
        converters = [
            OrderedJSONPlainPayloadConverter() if isinstance(c, JSONPlainPayloadConverter) else c
            for c in DefaultPayloadConverter.default_encoding_payload_converters
        ]
        super().__init__(*converters)


def ordered_data_converter(base: DataConverter | None = None) -> DataConverter:
    """``base`` (default: temporalio's) with order-keeping JSON, if it uses the default
    payload converter; a custom payload converter is left as it is."""
    base = base or DataConverter.default
    if base.payload_converter_class is not DefaultPayloadConverter:
        return base
    return dataclasses.replace(base, payload_converter_class=OrderedPayloadConverter)


def soe_temporal_client(client: Client) -> Client:
    """The same connection and namespace as ``client``, with the order-keeping converter."""
    config = client.config()
    converter = ordered_data_converter(config["data_converter"])
    if converter is config["data_converter"]:
        return client
    config["data_converter"] = converter
    return Client(**config)
