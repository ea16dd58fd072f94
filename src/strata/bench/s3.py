"""S3 workloads: PutObject, GetObject, HeadObject, ListObjectsV2 and a mix, path-style.

Keys live under a prefix naming the object size (and, for listing, the key count), so
runs of different sizes share a bucket without reading each other's objects.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
from dataclasses import dataclass
from typing import Any

from strata.bench.http import Body, Client, RepeatedBody, Response
from strata.bench.runner import OpError
from strata.bench.sigv4 import (
    EMPTY_SHA256,
    UNSIGNED_PAYLOAD,
    Signer,
    canonical_query,
    uri_encode_path,
)
from strata.bench.units import format_size

S3_OPS = ("put", "get", "head", "list", "mixed")
_BLOCK_BYTES = 1024 * 1024
_CODE = re.compile(rb"<Code>([^<]{1,128})</Code>")
# mixed: warp's "mixed" shares without deletes (a delete would turn later GETs into 404s):
# 45% GET, 25% PUT, 30% HEAD
_MIXED_GET_BELOW = 45
_MIXED_PUT_BELOW = 70


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and as whom to send requests."""

    url: str
    host: str
    port: int
    access_key: str
    secret_key: str
    region: str

    @property
    def host_header(self) -> str:
        """Host header value, as the URL spells it (and as the server will verify)."""
        return f"{self.host}:{self.port}"


def parse_endpoint(url: str) -> tuple[str, int]:
    """Host and port of an http:// URL (TLS would measure the cipher, not the store)."""
    match = re.fullmatch(r"http://(\[[^\]]+\]|[^:/]+)(?::(\d+))?/?", url.strip())
    if match is None:
        raise ValueError(f"endpoint must look like http://HOST[:PORT], got {url!r}")
    host = match.group(1).strip("[]")
    return host, int(match.group(2) or 80)


def error_code(response: Response) -> str:
    """'<status> <S3 error code>' from an error response (HEAD errors have no body)."""
    match = _CODE.search(response.body)
    return f"{response.status} {match.group(1).decode() if match else 'NoBody'}"


def error_sample(response: Response) -> str:
    """A short excerpt of the error body, for the report."""
    return response.body[:200].decode("utf-8", "replace")


class S3Workload:
    """One `strata bench s3` configuration; see runner.Workload."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        op: str,
        size_bytes: int,
        bucket: str = "strata-bench",
        objects: int | None = None,
        max_keys: int = 1000,
        prefill: bool = True,
        timeout_s: float = 120.0,
    ) -> None:
        if op not in S3_OPS:
            raise ValueError(f"unknown S3 op {op!r}")
        self.endpoint_info = endpoint
        self.endpoint = endpoint.url
        self.host = endpoint.host
        self.port = endpoint.port
        self.timeout_s = timeout_s
        self.op = op
        self.size_bytes = size_bytes
        self.bucket = bucket
        self.objects = objects if objects is not None else default_objects(op, size_bytes)
        self.max_keys = max_keys
        self.prefill = prefill
        self.name = f"s3 {op} {format_size(size_bytes)}"
        self.signer = Signer(endpoint.access_key, endpoint.secret_key, endpoint.region, "s3")
        block = os.urandom(min(size_bytes, _BLOCK_BYTES))
        self.body: Body = block if size_bytes <= _BLOCK_BYTES else RepeatedBody(block, size_bytes)
        self.read_prefix = (
            f"list-{self.objects}/" if op == "list" else f"obj-{format_size(size_bytes)}/"
        )
        self._rng = random.Random()
        self._process = 0
        self._put_keys_per_worker = 1

    def params(self) -> dict[str, Any]:
        """Settings reported next to the figures."""
        return {
            "op": self.op,
            "size_bytes": self.size_bytes,
            "bucket": self.bucket,
            "objects": self.objects,
            "max_keys": self.max_keys if self.op == "list" else None,
        }

    def read_key(self, index: int) -> str:
        """Key of the `index`-th prefilled object."""
        return f"{self.read_prefix}{index:08d}"

    # --- requests ---------------------------------------------------------------------
    def _headers(
        self, method: str, key: str, query: list[tuple[str, str]], payload_hash: str
    ) -> tuple[str, list[tuple[str, str]]]:
        path = f"/{self.bucket}/{key}" if key else f"/{self.bucket}"
        canonical_uri = uri_encode_path(path)
        query_string = canonical_query(query)
        headers = self.signer.sign(
            method,
            canonical_uri,
            query_string,
            [("host", self.endpoint_info.host_header)],
            payload_hash,
            content_sha256_header=True,
        )
        target = f"{canonical_uri}?{query_string}" if query_string else canonical_uri
        return target, headers

    async def put(self, client: Client, key: str) -> int:
        """PutObject of the workload's payload; UNSIGNED-PAYLOAD so no body hashing."""
        target, headers = self._headers("PUT", key, [], UNSIGNED_PAYLOAD)
        response = await client.request("PUT", target, headers, self.body)
        if response.status != 200:
            raise OpError(error_code(response), error_sample(response))
        return self.size_bytes

    async def get(self, client: Client, key: str) -> int:
        """GetObject; the body is counted, checked for length, and dropped."""
        target, headers = self._headers("GET", key, [], EMPTY_SHA256)
        response = await client.request("GET", target, headers)
        if response.status != 200:
            raise OpError(error_code(response), error_sample(response))
        if response.body_bytes != self.size_bytes:
            raise OpError("ShortBody", f"{key}: {response.body_bytes} of {self.size_bytes} bytes")
        return response.body_bytes

    async def head(self, client: Client, key: str) -> int:
        """HeadObject; checks the Content-Length the server claims."""
        target, headers = self._headers("HEAD", key, [], EMPTY_SHA256)
        response = await client.request("HEAD", target, headers)
        if response.status != 200:
            raise OpError(f"{response.status} HeadFailed", key)
        if response.headers.get("content-length") != str(self.size_bytes):
            raise OpError("WrongLength", f"{key}: {response.headers.get('content-length')}")
        return 0

    async def list_first_page(self, client: Client) -> int:
        """ListObjectsV2, first page under the listing prefix; checks the key count."""
        query = [
            ("list-type", "2"),
            ("max-keys", str(self.max_keys)),
            ("prefix", self.read_prefix),
        ]
        target, headers = self._headers("GET", "", query, EMPTY_SHA256)
        response = await client.request("GET", target, headers, keep_body=True)
        if response.status != 200:
            raise OpError(error_code(response), error_sample(response))
        expected = min(self.max_keys, self.objects)
        found = response.body.count(b"<Key>")
        if found != expected:
            raise OpError("ShortListing", f"{found} keys, expected {expected}")
        return response.body_bytes

    async def create_bucket(self, client: Client) -> None:
        """CreateBucket; an existing bucket of ours is fine."""
        target, headers = self._headers("PUT", "", [], EMPTY_SHA256)
        response = await client.request("PUT", target, headers, b"", keep_body=True)
        if response.status == 200:
            return
        code = error_code(response)
        if code.endswith(("BucketAlreadyOwnedByYou", "BucketAlreadyExists")):
            return
        raise OpError(code, error_sample(response))

    # --- runner.Workload ----------------------------------------------------------------
    async def prepare(self, concurrency: int) -> None:
        """Create the bucket and upload the objects that reads will ask for (unless told not to)."""
        self._put_keys_per_worker = max(1, self.objects // max(1, concurrency))
        if not self.prefill:
            return
        client = Client(self.host, self.port, timeout_s=self.timeout_s)
        try:
            await self.create_bucket(client)
        finally:
            client.close()
        if self.op == "put":
            return
        queue = iter(range(self.objects))
        workers = max(1, min(concurrency, 16, self.objects))

        async def upload() -> None:
            client = Client(self.host, self.port, timeout_s=self.timeout_s)
            try:
                for index in queue:
                    await self.put(client, self.read_key(index))
            finally:
                client.close()

        await asyncio.gather(*(upload() for _ in range(workers)))

    def bind(self, process_index: int, process_count: int) -> None:
        """Per-process random stream; PUT keys stay disjoint between workers."""
        self._rng = random.Random(os.getpid())
        self._process = process_index

    def put_key(self, worker: int, seq: int) -> str:
        """Overwrite a bounded set of keys (about `objects`) so long runs do not fill the disk."""
        return (
            f"put-{format_size(self.size_bytes)}/{worker:04d}-{seq % self._put_keys_per_worker:06d}"
        )

    async def run_once(self, client: Client, worker: int, seq: int) -> int:
        """One operation of the configured kind."""
        op = self.op
        if op == "mixed":
            pick = self._rng.randrange(100)
            op = "get" if pick < _MIXED_GET_BELOW else "put" if pick < _MIXED_PUT_BELOW else "head"
        if op == "get":
            return await self.get(client, self.read_key(self._rng.randrange(self.objects)))
        if op == "put":
            return await self.put(client, self.put_key(worker, seq))
        if op == "head":
            return await self.head(client, self.read_key(self._rng.randrange(self.objects)))
        return await self.list_first_page(client)


def default_objects(op: str, size_bytes: int) -> int:
    """How many objects to read from (or overwrite): about 1 GiB worth, 1..10,000."""
    if op == "list":
        return 10_000
    return max(1, min(10_000, (1024**3) // max(1, size_bytes)))
