"""The one data converter workers, clients, the CLI and the test environment share.

It keeps the order of mapping keys: temporalio's JSON converter sorts keys, but SOE's
order is meaningful (nodes run in declaration order, F-CFG-8, F-EXEC-5; ``accumulated``
scans context fields in insertion order, F-CTX-7). And it stores large payloads outside
the history, in the payload store (``payload_store.py``). SoeClient and create_worker
derive a client with this converter from the one they are given, keeping its codec and
failure converter.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any, Self

from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    SerializationContext,
    WithSerializationContext,
    WorkflowSerializationContext,
)

from .dataclass_json import DataclassJSONEncoder, own_shape_decoder
from .payload_store import (
    STORED_WHOLE_KEY,
    ContextFreeExternalStorage,
    PayloadStore,
    PayloadStoreSpec,
    StoredWhole,
    external_storage,
    payload_store_from,
)

_JSON_PLAIN = b"json/plain"
# One encoder for every payload (json.dumps would build one per value); it keeps no state.
_ENCODER = DataclassJSONEncoder(separators=(",", ":"))
# json.loads's own scanner, as json.loads(bytes) first guesses the text's encoding and
# matches whitespace around the value with regular expressions.
_SCAN_JSON = json.JSONDecoder().scan_once


def json_value(data: bytes) -> Any:
    """``json.loads(data)``: compact UTF-8 JSON text, as every soe_temporal payload is, is
    scanned at once; any other text takes json.loads's way, with its errors."""
    try:
        text = data.decode()
        value, end = _SCAN_JSON(text, 0)
        if end == len(text):
            return value
    except (UnicodeDecodeError, StopIteration, ValueError):
        pass
    return json.loads(data)


class OrderedJSONPlainPayloadConverter(JSONPlainPayloadConverter):
    """``json/plain`` payloads, keys in insertion order; dataclasses encoded and
    soe_temporal's shapes decoded at the cost of their data (``dataclass_json.py``)."""

    def __init__(self) -> None:
        super().__init__(encoder=DataclassJSONEncoder)

    def to_payload(self, value: Any) -> Payload | None:
        payload = Payload(metadata={"encoding": _JSON_PLAIN}, data=_ENCODER.encode(value).encode())
        if isinstance(value, StoredWhole):
            payload.metadata[STORED_WHOLE_KEY] = b"1"
        return payload

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        decoder = own_shape_decoder(type_hint)
        if decoder is None:
            return super().from_payload(payload, type_hint)
        try:
            value = json_value(payload.data)
        except json.JSONDecodeError as error:
            raise RuntimeError("Failed parsing") from error
        return decoder(value)


# Stateless, so shared: temporalio builds a payload converter for every serialization
# context and every external-storage context, several times per workflow task.
_ORDERED_CONVERTERS = tuple(
    OrderedJSONPlainPayloadConverter() if isinstance(c, JSONPlainPayloadConverter) else c
    for c in DefaultPayloadConverter.default_encoding_payload_converters
)


_CONVERTERS_BY_ENCODING = {c.encoding.encode(): c for c in _ORDERED_CONVERTERS}
_JSON_CONVERTER = _CONVERTERS_BY_ENCODING[_JSON_PLAIN]
# Values only the JSON converter takes (the others take None, bytes and protobuf messages).
_JSON_ONLY = (dict, list, str, int, float)
_OWN_SHAPES = "soe_temporal."


class OrderedPayloadConverter(CompositePayloadConverter):
    """temporalio's default payload converter with order-keeping JSON."""

    def __init__(self) -> None:
        # Shared, as it is never changed: temporalio makes a payload converter for every
        # workflow execution a worker holds.
        self.converters = _CONVERTERS_BY_ENCODING

    def to_payloads(self, values: Sequence[Any]) -> list[Payload]:
        """As temporalio's, without asking the other converters first about what only
        JSON takes: plain JSON values and soe_temporal's own shapes (every call's input
        and result)."""
        payloads: list[Payload] = []
        for value in values:
            kind = type(value)
            if kind in _JSON_ONLY or kind.__module__.startswith(_OWN_SHAPES):
                payload = _JSON_CONVERTER.to_payload(value)
                if payload is not None:
                    payloads.append(payload)
                    continue
            payloads += super().to_payloads([value])
        return payloads


@dataclasses.dataclass(frozen=True)
class SoeDataConverter(DataConverter):
    """temporalio's DataConverter, that does not copy itself to bind a store context its
    external storage ignores (``ContextFreeExternalStorage``), and answers a serialization
    context none of its parts takes at once: temporalio asks for one per payload of every
    command, and finding that nothing takes it costs more than the payload's JSON."""

    def __post_init__(self) -> None:
        super().__post_init__()
        probe = WorkflowSerializationContext(namespace="", workflow_id="")
        object.__setattr__(
            self,
            "_ignores_context",
            DataConverter.with_context(self, probe) is self
            and not any(
                isinstance(part, WithSerializationContext)
                for part in (self.payload_codec, self.failure_converter, self.external_storage)
            ),
        )

    def with_context(self, context: SerializationContext) -> Self:
        if self._ignores_context:  # type: ignore[attr-defined]
            return self
        return super().with_context(context)

    def _with_store_context(self, store_ctx: Any) -> DataConverter:
        if isinstance(self.external_storage, ContextFreeExternalStorage):
            return self
        return super()._with_store_context(store_ctx)


def soe_data_converter(
    base: DataConverter | None = None, payload_store: PayloadStore | None = None
) -> DataConverter:
    """``base`` (default: temporalio's) with order-keeping JSON, if it uses the default
    payload converter (a custom one is left as it is), and with ``payload_store`` as its
    external storage, unless ``base`` brings an external storage of its own."""
    converter = base or DataConverter.default
    if converter.payload_converter_class is DefaultPayloadConverter:
        converter = dataclasses.replace(converter, payload_converter_class=OrderedPayloadConverter)
    if payload_store is not None and converter.external_storage is None:
        converter = dataclasses.replace(converter, external_storage=external_storage(payload_store))
    if type(converter) is DataConverter:  # a subclass of the caller's own is kept as it is
        fields = {
            f.name: getattr(converter, f.name) for f in dataclasses.fields(converter) if f.init
        }
        converter = SoeDataConverter(**fields)
    return converter


def soe_temporal_client(client: Client, payload_store: PayloadStoreSpec = None) -> Client:
    """The same connection and namespace as ``client``, with soe_temporal's converter and
    the payload store ``payload_store`` names (``payload_store_from``), unless the client
    already stores payloads externally."""
    config = client.config()
    base = config["data_converter"]
    store = None if base.external_storage is not None else payload_store_from(payload_store)
    converter = soe_data_converter(base, store)
    if converter is config["data_converter"]:
        return client
    config["data_converter"] = converter
    return Client(**config)


def payload_store_of(client: Client) -> PayloadStore | None:
    """The payload store a client derived here stores large payloads in, if any."""
    storage = client.data_converter.external_storage
    drivers = storage.drivers if storage is not None else []
    return next((d for d in drivers if isinstance(d, PayloadStore)), None)
