"""Where payloads too large for a Temporal history live: Temporal's external storage
(``temporalio.converter.ExternalStorage``) with a content-addressed store.

Every payload over ``PAYLOAD_THRESHOLD`` bytes (workflow input, continue-as-new state,
activity inputs and results, signal, update and query payloads) is stored under the
SHA-256 of its bytes, and the history holds a small claim. So a config, a context or a
conversation carried unchanged from run to run is stored once. The same stores keep the
pieces of long conversations that LLM calls refer to (``blob``s, see ``conversation``).

Stored payloads must be kept as long as any history refers to them: executions live for
months, so never expire them sooner than your executions' retention.

- :class:`LocalPayloadStore`: a directory (the embedded default, ``.soe-temporal/payloads``).
- :class:`S3PayloadStore`: ``s3://bucket/prefix`` on any S3-compatible store, through
  ``temporalio.contrib.aws.s3driver``'s client (``AWS_ENDPOINT_URL`` for MinIO and the like).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from abc import abstractmethod
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    ExternalStorage,
    StorageDriver,
    StorageDriverClaim,
    StorageDriverRetrieveContext,
    StorageDriverSelectContext,
    StorageDriverStoreContext,
)

from ..errors import ConfigError, SoeError

# Payloads at least this large go to the store; the history keeps a claim of about 200
# bytes. Small enough that no LLM call or tool call adds kilobytes of history.
PAYLOAD_THRESHOLD = 2 * 1024
STORE_ENVIRONMENT = "SOE_PAYLOAD_STORE"


class PayloadMissingError(SoeError):
    """A claim in a history names a payload the store no longer has."""


class PayloadStore(StorageDriver):
    """A content-addressed store of payloads (for Temporal) and of blobs (conversation
    pieces), each under the SHA-256 of its bytes.

    The payloads stored or read last are kept in memory too (content never changes under
    a digest): a config that a thousand children carry is read once, not a thousand times.
    """

    def __init__(self) -> None:
        self._recent = _RecentPayloads()

    @abstractmethod
    async def put_blob(self, digest: str, data: bytes) -> None:
        """Store ``data`` under ``digest`` (its SHA-256), unless it is there already."""

    @abstractmethod
    async def get_blob(self, digest: str) -> bytes:
        """The bytes stored under ``digest``; :class:`PayloadMissingError` if none."""

    @abstractmethod
    def describe(self) -> str:
        """Where the store is, for messages."""

    async def store(
        self, context: StorageDriverStoreContext, payloads: Sequence[Payload]
    ) -> list[StorageDriverClaim]:
        claims = []
        for payload in payloads:
            data = payload.SerializeToString()
            digest = hashlib.sha256(data).hexdigest()
            if self._recent.get(digest) is None:
                await self.put_blob(digest, data)
                self._recent.put(digest, data)
            claims.append(StorageDriverClaim(claim_data={"sha256": digest}))
        return claims

    async def retrieve(
        self, context: StorageDriverRetrieveContext, claims: Sequence[StorageDriverClaim]
    ) -> list[Payload]:
        datas = await asyncio.gather(*(self._read(c.claim_data["sha256"]) for c in claims))
        return [Payload.FromString(data) for data in datas]

    async def _read(self, digest: str) -> bytes:
        data = self._recent.get(digest)
        if data is None:
            data = await self.get_blob(digest)
            self._recent.put(digest, data)
        return data

    def _missing(self, digest: str) -> PayloadMissingError:
        return PayloadMissingError(
            f"The payload store {self.describe()} has no object sha256:{digest}, which a "
            "workflow history refers to. Stored payloads must be kept as long as any history "
            f"refers to them; check that every worker and client uses the same store "
            f"({STORE_ENVIRONMENT})."
        )


class _RecentPayloads:
    """The payloads last stored or read, up to a total size, the least recent dropped."""

    LIMIT_BYTES = 32 * 1024 * 1024
    ITEM_LIMIT_BYTES = 1024 * 1024

    def __init__(self) -> None:
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0

    def get(self, digest: str) -> bytes | None:
        data = self._items.get(digest)
        if data is not None:
            self._items.move_to_end(digest)
        return data

    def put(self, digest: str, data: bytes) -> None:
        if len(data) > self.ITEM_LIMIT_BYTES or digest in self._items:
            return
        self._items[digest] = data
        self._bytes += len(data)
        while self._bytes > self.LIMIT_BYTES:
            _, dropped = self._items.popitem(last=False)
            self._bytes -= len(dropped)


class LocalPayloadStore(PayloadStore):
    """Payloads as files of a directory, ``sha256/<2 hex>/<digest>``."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        super().__init__()
        self.directory = Path(directory)

    def name(self) -> str:
        return "soe.local"

    def describe(self) -> str:
        return f"directory '{self.directory}'"

    def _path(self, digest: str) -> Path:
        return self.directory / "sha256" / digest[:2] / digest

    async def put_blob(self, digest: str, data: bytes) -> None:
        path = self._path(digest)
        if path.exists():  # content-addressed: what is there is the same
            return
        await asyncio.to_thread(_write_atomically, path, data)

    async def get_blob(self, digest: str) -> bytes:
        try:
            return await asyncio.to_thread(self._path(digest).read_bytes)
        except FileNotFoundError:
            raise self._missing(digest) from None


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file, then rename: a reader never sees half an object."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class S3PayloadStore(PayloadStore):
    """Payloads as objects ``<prefix>/sha256/<digest>`` of an S3 bucket.

    Needs the ``[s3]`` extra (aioboto3). Credentials, region and endpoint come from the
    usual AWS environment (``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL``, ...).
    """

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None) -> None:
        super().__init__()
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        self._clients: dict[int, Any] = {}

    def name(self) -> str:
        return "soe.s3"

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def _key(self, digest: str) -> str:
        return f"{self.prefix}/sha256/{digest}" if self.prefix else f"sha256/{digest}"

    async def _client(self) -> Any:
        """One client per event loop, opened on first use and kept for the process."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(id(loop))
        if client is None:
            try:
                import aioboto3
                from temporalio.contrib.aws.s3driver.aioboto3 import new_aioboto3_client
            except ImportError:
                raise ConfigError(
                    f"{STORE_ENVIRONMENT}={self.describe()} needs the S3 client: "
                    "pip install 'soe-temporal[s3]'"
                ) from None
            raw = await aioboto3.Session().client("s3", endpoint_url=self.endpoint_url).__aenter__()
            client = self._clients[id(loop)] = new_aioboto3_client(raw)
        return client

    async def put_blob(self, digest: str, data: bytes) -> None:
        client = await self._client()
        key = self._key(digest)
        if not await client.object_exists(bucket=self.bucket, key=key):
            await client.put_object(bucket=self.bucket, key=key, data=data)

    async def get_blob(self, digest: str) -> bytes:
        client = await self._client()
        try:
            return await client.get_object(bucket=self.bucket, key=self._key(digest))
        except Exception as error:
            if "NoSuchKey" in type(error).__name__ or "NoSuchKey" in str(error):
                raise self._missing(digest) from None
            raise


def default_payload_directory() -> Path:
    """Beside the embedded dev server's data: ``.soe-temporal/payloads``, or next to
    ``SOE_DEV_DB`` when that names another place."""
    database = os.environ.get("SOE_DEV_DB")
    folder = Path(database).parent if database else Path(".soe-temporal")
    return folder / "payloads"


# A store, ``s3://bucket/prefix``, a directory, or None (SOE_PAYLOAD_STORE, else the default).
PayloadStoreSpec = PayloadStore | str | os.PathLike[str] | None


def payload_store_from(spec: PayloadStoreSpec = None) -> PayloadStore:
    """The store ``spec`` names: a store, ``s3://bucket/prefix``, or a directory; with
    none, ``SOE_PAYLOAD_STORE``, else the embedded default directory."""
    if isinstance(spec, PayloadStore):
        return spec
    text = os.fspath(spec) if spec is not None else os.environ.get(STORE_ENVIRONMENT, "")
    text = text.strip()
    if not text:
        return LocalPayloadStore(default_payload_directory())
    if text.startswith("s3://"):
        bucket, _, prefix = text.removeprefix("s3://").partition("/")
        if not bucket:
            raise ConfigError(f"{STORE_ENVIRONMENT}={text}: name a bucket, e.g. s3://my-bucket/soe")
        return S3PayloadStore(bucket, prefix)
    if "://" in text:
        raise ConfigError(f"{STORE_ENVIRONMENT}={text}: use a directory or s3://bucket/prefix")
    return LocalPayloadStore(text)


def external_storage(store: PayloadStore, threshold: int = PAYLOAD_THRESHOLD) -> ExternalStorage:
    """Payloads of ``threshold`` bytes or more go to ``store``, and those marked to be
    stored whole (:class:`StoredWhole`) of any size the store is worth a claim for."""

    def select(context: StorageDriverSelectContext, payload: Payload) -> PayloadStore | None:
        if payload.ByteSize() >= threshold or payload.metadata.get(STORED_WHOLE_KEY) == b"1":
            return store
        return None

    return ContextFreeExternalStorage(
        drivers=[store],
        driver_selector=select,
        payload_size_threshold=min(threshold, STORED_WHOLE_MIN_BYTES),
    )


class ContextFreeExternalStorage(ExternalStorage):
    """External storage whose drivers and selector ignore the store context (which
    workflow or activity a payload belongs to): content addressing needs none.

    temporalio binds the context by copying the storage (and the data converter around
    it) several times per workflow activation; for a chain of local activities that was a
    tenth of the worker's time. Binding it here changes nothing, so nothing is copied.
    """

    def _with_store_context(self, ctx: Any) -> ExternalStorage:
        return self


class StoredWhole(dict):  # type: ignore[type-arg]
    """A mapping the payload store keeps whatever its size, so that a history holds its
    claim: a config, which every run and every child of an execution carries unchanged,
    is then stored once. soe_temporal's converter marks its payload (``STORED_WHOLE_KEY``);
    any other converter writes it as the mapping it is."""


# The payload metadata key of a StoredWhole, and the size under which a claim (about 200
# bytes) would not be worth it.
STORED_WHOLE_KEY = "soe-stored-whole"
STORED_WHOLE_MIN_BYTES = 384
