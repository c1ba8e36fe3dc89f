"""The payload store (temporal/payload_store.py): content-addressed, chosen by
SOE_PAYLOAD_STORE or payload_store=, a directory or any S3-compatible store (here moto's
S3 server on loopback, started by the test)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.api.common.v1 import Payload

from soe_temporal.errors import ConfigError
from soe_temporal.servers.devserver import free_port
from soe_temporal.temporal.payload_store import (
    LocalPayloadStore,
    PayloadMissingError,
    S3PayloadStore,
    payload_store_from,
)
from soe_temporal.testing import SoeTestEnvironment

BIG = {"page": "words " * 5_000}
CONFIG = """
keep:
  Copy:
    node_type: tool
    event_triggers: [START]
    tool_name: copy
    parameters: {page: "{{ context.page }}"}
    output_field: copied
"""


def payload(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


async def test_a_payload_is_stored_once_under_the_hash_of_its_bytes(tmp_path: Path):
    store = LocalPayloadStore(tmp_path)
    [first] = await store.store(None, [payload("same")])  # type: ignore[arg-type]
    [again] = await store.store(None, [payload("same")])  # type: ignore[arg-type]
    assert first == again
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [
        tmp_path / "sha256" / first.claim_data["sha256"][:2] / first.claim_data["sha256"]
    ]
    [back] = await store.retrieve(None, [first])  # type: ignore[arg-type]
    assert back == payload("same")


async def test_a_missing_payload_says_what_is_missing_and_what_to_check(tmp_path: Path):
    store = LocalPayloadStore(tmp_path)
    with pytest.raises(PayloadMissingError, match="no object sha256:abc.*kept as long as any"):
        await store.get_blob("abc")


def test_the_store_is_named_by_a_directory_an_s3_address_or_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    assert payload_store_from(str(tmp_path)).directory == tmp_path  # type: ignore[attr-defined]
    s3 = payload_store_from("s3://bucket/some/prefix")
    assert isinstance(s3, S3PayloadStore) and (s3.bucket, s3.prefix) == ("bucket", "some/prefix")
    monkeypatch.setenv("SOE_PAYLOAD_STORE", str(tmp_path / "env"))
    assert payload_store_from(None).directory == tmp_path / "env"  # type: ignore[attr-defined]
    monkeypatch.delenv("SOE_PAYLOAD_STORE")
    monkeypatch.setenv("SOE_DEV_DB", str(tmp_path / "data" / "temporal.db"))
    assert payload_store_from(None).directory == tmp_path / "data" / "payloads"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="use a directory or s3://bucket/prefix"):
        payload_store_from("gs://elsewhere")


async def test_an_execution_s_large_payloads_go_to_the_store_it_is_given(tmp_path: Path):
    async with SoeTestEnvironment(
        tools_registry={"copy": lambda page: page}, payload_store=tmp_path
    ) as env:
        eid = await env.soe.orchestrate(CONFIG, "keep", ["START"], BIG)
        assert (await env.soe.get_context(eid))["copied"] == [BIG["page"]]
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) >= 3  # input, call, result


# -- S3, on moto's loopback server ----------------------------------------------------


@pytest_asyncio.fixture(scope="module")
async def s3_endpoint() -> AsyncIterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.kill()
        server.wait()


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)


async def _bucket(endpoint: str, name: str) -> None:
    import aioboto3

    async with aioboto3.Session().client("s3", endpoint_url=endpoint) as s3:
        await s3.create_bucket(Bucket=name)


async def _keys(endpoint: str, bucket: str) -> list[str]:
    import aioboto3

    async with aioboto3.Session().client("s3", endpoint_url=endpoint) as s3:
        listed = await s3.list_objects_v2(Bucket=bucket)
        return [item["Key"] for item in listed.get("Contents", [])]


async def test_an_s3_compatible_store_keeps_payloads_under_its_prefix(
    s3_endpoint: str, aws_environment: None
):
    await _bucket(s3_endpoint, "soe-test")
    store = S3PayloadStore("soe-test", "payloads/run-1", endpoint_url=s3_endpoint)
    async with SoeTestEnvironment(
        tools_registry={"copy": lambda page: page}, payload_store=store
    ) as env:
        eid = await env.soe.orchestrate(CONFIG, "keep", ["START"], BIG)
        assert (await env.soe.get_context(eid))["copied"] == [BIG["page"]]
    keys = await _keys(s3_endpoint, "soe-test")
    assert len(keys) >= 3 and all(k.startswith("payloads/run-1/sha256/") for k in keys)
    with pytest.raises(PayloadMissingError):
        await store.get_blob("0" * 64)


async def test_soe_payload_store_names_an_s3_bucket_through_the_aws_environment(
    s3_endpoint: str, aws_environment: None, monkeypatch: pytest.MonkeyPatch
):
    await _bucket(s3_endpoint, "soe-env")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    store = payload_store_from("s3://soe-env/p")
    await store.put_blob("a" * 64, b"bytes")
    assert await store.get_blob("a" * 64) == b"bytes"
    assert os.environ["AWS_ENDPOINT_URL"] == s3_endpoint


def test_the_payload_store_needs_no_store_context_so_converters_are_not_copied_for_one():
    """temporalio binds a store context (which workflow a payload belongs to) by copying
    the data converter and its storage several times per workflow activation; the store is
    content-addressed and ignores it, so soe_temporal's converter binds it without a copy."""
    from soe_temporal.temporal.converter import soe_data_converter

    converter = soe_data_converter(None, LocalPayloadStore(tempfile.mkdtemp()))
    assert converter._with_store_context(None) is converter
    assert converter.external_storage._with_store_context(None) is converter.external_storage
