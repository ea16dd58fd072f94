"""POST Object: the browser form upload (``multipart/form-data``) and its POST policy.

A form upload carries no Authorization header: its credentials are form fields, so
``asgi`` lets it through (``is_form_upload``) and the ``PostObject`` handler
authenticates it here. The fields before the ``file`` field are read into memory
(``limits.post_fields_bytes_max`` at most, S3's ``MaxPostPreDataLengthExceeded``); the
file streams from the request body to the object's blob; fields after the file are
ignored, as S3 ignores them.

Authentication is one of S3's two signatures over the base64 ``policy`` field: SigV4
(``x-amz-algorithm``, ``x-amz-credential``, ``x-amz-date``, ``x-amz-signature``: hex
HMAC-SHA256 with the day's signing key) or SigV2 (``AWSAccessKeyId``, ``signature``:
base64 HMAC-SHA1 with the secret). The policy then decides: it must not be expired,
every condition must hold, and every field but the signature's own, ``policy``,
``file`` and ``x-ignore-*`` must be named by a condition.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Final

from strata import limits
from strata.api.http import Request
from strata.api.s3.routes import resolve
from strata.api.sigv4 import ALGORITHM, signing_key
from strata.errors import (
    InvalidAccessKeyId,
    ProtocolError,
    SignatureDoesNotMatch,
    StrataError,
)
from strata.service.iam.principal import KeyLookup, Principal

_READ_BYTES: Final = 64 * 1024
# Fields a policy need not name: the signature's own, the policy, and the file.
_UNCONDITIONED: Final = frozenset(
    {"policy", "file", "x-amz-signature", "signature", "awsaccesskeyid", "x-amz-security-token"}
)
_EXPIRATION: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
_DISPOSITION_PARAM: Final = re.compile(r';\s*([a-zA-Z*]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')


def is_form_upload(request: Request) -> bool:
    """A POST Object request: an unsigned form POST to a bucket (it signs its fields)."""
    if request.method != "POST" or "authorization" in request.headers:
        return False
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        return False
    query = request.query
    if "X-Amz-Signature" in query or "Signature" in query:
        return False
    try:
        return resolve(request).operation == "PostObject"
    except StrataError:
        return False


def malformed() -> ProtocolError:
    return ProtocolError(
        "MalformedPOSTRequest",
        "The body of your POST request is not well-formed multipart/form-data.",
    )


def access_denied(message: str) -> ProtocolError:
    return ProtocolError("AccessDenied", message, 403)


def must_contain(name: str) -> ProtocolError:
    return ProtocolError(
        "InvalidArgument",
        f"Bucket POST must contain a field named '{name}'.  "
        "If it is specified, please check the order of the fields.",
        ArgumentName=name,
        ArgumentValue="",
    )


def _boundary(content_type: str) -> bytes:
    for match in _DISPOSITION_PARAM.finditer(content_type):
        if match.group(1).lower() == "boundary":
            value = match.group(2) if match.group(2) is not None else match.group(3)
            if value and len(value) <= 70:
                return value.encode("latin-1")
    raise malformed()


@dataclass
class Form:
    """The fields before the file (names lower-cased, first value kept), and the file."""

    fields: dict[str, str] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)  # as sent, for error messages
    filename: str = ""
    size_bytes_max: int = 0  # an upper bound on the file's size, from Content-Length

    def get(self, name: str) -> str | None:
        return self.fields.get(name)


class FormReader:
    """Parses a ``multipart/form-data`` body as it streams in."""

    def __init__(self, request: Request) -> None:
        self._source = request.body.__aiter__()
        self._delimiter = b"\r\n--" + _boundary(request.headers.get("content-type", ""))
        self._buffer = b"\r\n"  # the first boundary has no CRLF before it: add one
        self._eof = False
        self._read_bytes = 0
        self._length = int(request.headers.get("content-length", "0") or 0)

    async def _fill(self) -> bool:
        if self._eof:
            return False
        try:
            chunk = await self._source.__anext__()
        except StopAsyncIteration:
            self._eof = True
            return False
        self._read_bytes += len(chunk)
        self._buffer += chunk
        return True

    async def _find(self, needle: bytes, limit: int) -> int:
        while True:
            index = self._buffer.find(needle)
            if index >= 0:
                return index
            if len(self._buffer) > limit:
                raise ProtocolError(
                    "MaxPostPreDataLengthExceeded",
                    "Your POST request fields preceeding the upload file was too large.",
                )
            if not await self._fill():
                raise malformed()

    async def _need(self, count: int) -> None:
        while len(self._buffer) < count:
            if not await self._fill():
                raise malformed()

    async def fields(self) -> Form:
        """Read up to the start of the file's bytes."""
        form = Form()
        limit = limits.post_fields_bytes_max
        index = await self._find(self._delimiter, limit)
        while True:
            self._buffer = self._buffer[index + len(self._delimiter) :]
            await self._need(2)
            if self._buffer[:2] == b"--":
                raise ProtocolError(
                    "InvalidArgument",
                    "POST requires exactly one file upload per request.",
                    ArgumentName="file",
                    ArgumentValue="0",
                )
            # Transport padding may follow the boundary before its CRLF.
            end = await self._find(b"\r\n", limit)
            if self._buffer[:end].strip(b" \t"):
                raise malformed()
            self._buffer = self._buffer[end + 2 :]
            end = await self._find(b"\r\n\r\n", limit)
            name, filename = _disposition(self._buffer[:end])
            self._buffer = self._buffer[end + 4 :]
            if name.lower() == "file":
                form.filename = filename or ""
                consumed = self._read_bytes - len(self._buffer)
                form.size_bytes_max = max(self._length - consumed, 0)
                return form
            index = await self._find(self._delimiter, limit)
            try:
                value = self._buffer[:index].decode("utf-8")
            except UnicodeDecodeError:
                raise malformed()
            form.names.append(name)
            form.fields.setdefault(name.lower(), value)
            limit -= index
            if limit < 0:
                raise ProtocolError(
                    "MaxPostPreDataLengthExceeded",
                    "Your POST request fields preceeding the upload file was too large.",
                )

    async def file(self) -> AsyncIterator[bytes]:
        """The file's bytes; then the rest of the body is read and dropped."""
        keep = len(self._delimiter) - 1
        while True:
            index = self._buffer.find(self._delimiter)
            if index >= 0:
                if index:
                    yield self._buffer[:index]
                self._buffer = b""
                break
            if len(self._buffer) > keep:
                chunk, self._buffer = self._buffer[:-keep], self._buffer[-keep:]
                yield chunk
            if not await self._fill():
                raise ProtocolError(
                    "IncompleteBody",
                    "The request body terminated unexpectedly",
                )
        # Fields after the file are ignored (S3 does the same).
        discarded = 0
        while await self._fill():
            discarded += len(self._buffer)
            self._buffer = b""
            if discarded > limits.post_fields_bytes_max:
                raise malformed()


def _disposition(block: bytes) -> tuple[str, str | None]:
    """(name, filename) from a part's headers; only ``form-data`` parts are fields."""
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        raise malformed()
    for line in text.split("\r\n"):
        header, _, value = line.partition(":")
        if header.strip().lower() != "content-disposition":
            continue
        if value.split(";", 1)[0].strip().lower() != "form-data":
            raise malformed()
        params: dict[str, str] = {}
        for match in _DISPOSITION_PARAM.finditer(value):
            raw = match.group(2) if match.group(2) is not None else match.group(3)
            params.setdefault(match.group(1).lower(), re.sub(r"\\(.)", r"\1", raw))
        name = params.get("name")
        if name is None:
            raise malformed()
        return name, params.get("filename")
    raise malformed()


def substitute_filename(form: Form) -> None:
    """``${filename}`` in any field becomes the file's name (without a client's path), as
    S3 does before it checks the policy's conditions."""
    name = form.filename.replace("\\", "/").rsplit("/", 1)[-1]
    for field_name, value in form.fields.items():
        if "${filename}" in value:
            form.fields[field_name] = value.replace("${filename}", name)


# ---- authentication and policy -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Policy:
    expiration_s: float
    conditions: list[object]
    length_min: int = 0
    length_max: int | None = None


def authenticate(form: Form, keys: KeyLookup | None) -> Principal | None:
    """Check the policy's signature; the principal that signed it (None: auth is off)."""
    policy = form.get("policy")
    if form.get("x-amz-signature") is not None or form.get("x-amz-algorithm") is not None:
        return _authenticate_v4(form, policy, keys)
    if form.get("signature") is not None or form.get("awsaccesskeyid") is not None:
        return _authenticate_v2(form, policy, keys)
    if keys is None:
        return None
    raise access_denied("Access Denied")  # anonymous: the bucket is not public


def _authenticate_v4(form: Form, policy: str | None, keys: KeyLookup | None) -> Principal | None:
    for name in ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"):
        if form.get(name) is None:
            raise must_contain(name)
    if policy is None:
        raise must_contain("policy")
    if form.get("x-amz-algorithm") != ALGORITHM:
        raise ProtocolError(
            "InvalidArgument",
            "Unsupported algorithm",
            ArgumentName="x-amz-algorithm",
            ArgumentValue=form.get("x-amz-algorithm") or "",
        )
    parts = (form.get("x-amz-credential") or "").split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise ProtocolError(
            "InvalidArgument",
            "Invalid credential: x-amz-credential",
            ArgumentName="x-amz-credential",
            ArgumentValue=form.get("x-amz-credential") or "",
        )
    access_key, date, region, service = parts[:4]
    if keys is None:
        return None
    found = keys.lookup(access_key, form.get("x-amz-security-token"))
    if found is None:
        raise InvalidAccessKeyId()
    secret, principal = found
    key = signing_key(secret, date, region, service)
    expected = hmac.new(key, policy.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, (form.get("x-amz-signature") or "").lower()):
        raise SignatureDoesNotMatch()
    return principal


def _authenticate_v2(form: Form, policy: str | None, keys: KeyLookup | None) -> Principal | None:
    for name in ("awsaccesskeyid", "signature"):
        if form.get(name) is None:
            raise must_contain("AWSAccessKeyId" if name == "awsaccesskeyid" else name)
    if policy is None:
        raise must_contain("policy")
    access_key = form.get("awsaccesskeyid") or ""
    if keys is None:
        return None
    found = keys.lookup(access_key, form.get("x-amz-security-token"))
    if found is None:
        raise InvalidAccessKeyId()
    secret, principal = found
    mac = hmac.new(secret.encode("utf-8"), policy.encode("utf-8"), hashlib.sha1).digest()
    if not hmac.compare_digest(base64.b64encode(mac).decode(), form.get("signature") or ""):
        raise SignatureDoesNotMatch()
    return principal


def _invalid_policy(detail: str) -> ProtocolError:
    return ProtocolError("InvalidPolicyDocument", f"Invalid Policy: {detail}")


def parse_policy(encoded: str) -> Policy:
    try:
        document = json.loads(base64.b64decode(encoded, validate=False).decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _invalid_policy("Invalid JSON.")
    if not isinstance(document, dict):
        raise _invalid_policy("Invalid JSON.")
    expiration = document.get("expiration")
    if not isinstance(expiration, str):
        raise _invalid_policy("Policy missing expiration.")
    # ISO 8601 in UTC, as S3 documents it (2007-12-01T12:00:00.000Z); S3 refuses other
    # forms, even ones a lenient parser reads (a space for the T, a +00:00 offset).
    if not _EXPIRATION.fullmatch(expiration):
        raise _invalid_policy("Invalid 'expiration' value: '" + expiration + "'")
    try:
        when = datetime.datetime.fromisoformat(expiration[:-1]).replace(tzinfo=datetime.UTC)
    except ValueError:
        raise _invalid_policy("Invalid 'expiration' value: '" + expiration + "'")
    conditions = document.get("conditions")
    if not isinstance(conditions, list):
        raise _invalid_policy("Policy missing conditions.")
    length_min, length_max = 0, None
    for condition in conditions:
        if isinstance(condition, list) and condition and condition[0] == "content-length-range":
            if len(condition) != 3:
                raise _invalid_policy("Invalid Condition: content-length-range.")
            try:
                length_min, length_max = int(condition[1]), int(condition[2])
            except (TypeError, ValueError):
                raise _invalid_policy("Invalid Condition: content-length-range.")
    return Policy(when.timestamp(), conditions, length_min, length_max)


def check_policy(policy: Policy, form: Form, bucket: str, now_s: float) -> None:
    """Expiry, every condition, and no field the conditions leave out."""
    if now_s > policy.expiration_s:
        raise access_denied("Invalid according to Policy: Policy expired.")
    values = dict(form.fields)
    values["bucket"] = bucket
    named: set[str] = set()
    for condition in policy.conditions:
        if isinstance(condition, dict):
            if len(condition) != 1:
                raise _invalid_policy(
                    "Invalid Simple-Condition: Simple-Conditions must have exactly one "
                    "property specified."
                )
            for name, expected in condition.items():
                named.add(name.lower())
                if values.get(name.lower()) != expected:
                    raise _condition_failed(["eq", f"${name}", expected])
        elif isinstance(condition, list) and len(condition) == 3:
            operator, name, expected = condition
            if operator == "content-length-range":
                continue
            if (
                operator not in ("eq", "starts-with")
                or not isinstance(name, str)
                or not name.startswith("$")
                or not isinstance(expected, str)
            ):
                raise _invalid_policy(f"Invalid Condition: {json.dumps(condition)}")
            field_name = name[1:].lower()
            named.add(field_name)
            actual = values.get(field_name, "")
            if operator == "eq":
                holds = actual == expected
            elif field_name == "content-type":  # each of a comma-separated list
                holds = all(p.strip().startswith(expected) for p in actual.split(","))
            else:
                holds = actual.startswith(expected)
            if not holds:
                raise _condition_failed(condition)
        else:
            raise _invalid_policy(f"Invalid Condition: {json.dumps(condition)}")
    # x-amz-checksum-* fields need no condition: they only add a check of the file (the
    # ceph s3-tests' checksum upload, checked against AWS, names none in its policy).
    extra = [
        name
        for name in form.names
        if name.lower() not in named
        and name.lower() not in _UNCONDITIONED
        and not name.lower().startswith(("x-ignore-", "x-amz-checksum-"))
    ]
    if extra:
        raise access_denied("Invalid according to Policy: Extra input fields: " + ", ".join(extra))


def _condition_failed(condition: object) -> ProtocolError:
    return access_denied(
        "Invalid according to Policy: Policy Condition failed: " + json.dumps(condition)
    )


async def sized(
    source: AsyncIterator[bytes], length_min: int, length_max: int | None
) -> AsyncIterator[bytes]:
    """The file's bytes, refused past ``content-length-range`` before anything commits."""
    size = 0
    async for chunk in source:
        size += len(chunk)
        if length_max is not None and size > length_max:
            raise ProtocolError(
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
                ProposedSize=str(size),
                MaxSizeAllowed=str(length_max),
            )
        yield chunk
    if size < length_min:
        raise ProtocolError(
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed size",
            ProposedSize=str(size),
            MinSizeAllowed=str(length_min),
        )
