"""Compressed DynamoDB bodies: gzip/deflate requests decoded, gzip responses on request.

AWS SDKs can gzip large requests (``Content-Encoding: gzip``, the body as signed); the
body is inflated after the signature check, never past the body limit, so a small bomb
is refused with the same 413 as a large body. What AWS answers, as observed (its
documentation says nothing): an unknown coding or a body that does not inflate is a 500
InternalServerError; concatenated gzip members are one body; bytes after the last
member that are not another member are ignored.

Responses are gzipped when the client accepts gzip and the body is large enough to be
worth it, as DynamoDB does; ``x-amz-crc32`` is then the checksum of the bytes sent.
"""

from __future__ import annotations

import zlib
from typing import Final

from strata.errors import BodyTooLarge, ProtocolError

GZIP_MAGIC: Final = b"\x1f\x8b"
# DynamoDB leaves small answers uncompressed; about 4 KB is where it starts, as reported.
COMPRESS_FROM_BYTES: Final = 4096
_GZIP_WBITS: Final = 16 + zlib.MAX_WBITS
_ZLIB_WBITS: Final = zlib.MAX_WBITS
_RAW_WBITS: Final = -zlib.MAX_WBITS


def broken_encoding() -> ProtocolError:
    return ProtocolError("InternalServerError", "Internal server error", 500)


def decode_body(body: bytes, content_encoding: str, max_bytes: int) -> bytes:
    """``body`` with its codings undone, last applied first; at most ``max_bytes``."""
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    for coding in reversed(codings):
        if coding in ("", "identity", "aws-chunked"):  # aws-chunked: undone by the SigV4 stage
            continue
        if coding in ("gzip", "x-gzip"):
            body = _inflate_gzip(body, max_bytes)
        elif coding == "deflate":
            # RFC 9110's deflate is the zlib format; some clients send raw deflate.
            wbits = _ZLIB_WBITS if body[:1] and (body[0] & 0x0F) == 8 else _RAW_WBITS
            body, _ = _inflate(body, wbits, max_bytes)
        else:
            raise broken_encoding()
    return body


def _inflate_gzip(data: bytes, max_bytes: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while True:
        member, data = _inflate(data, _GZIP_WBITS, max_bytes - size)
        parts.append(member)
        size += len(member)
        if not data.startswith(GZIP_MAGIC):
            # Observed: AWS ignores what follows the last member.
            return b"".join(parts)


def _inflate(data: bytes, wbits: int, max_bytes: int) -> tuple[bytes, bytes]:
    """One compressed stream from ``data``: (its bytes, what follows it)."""
    inflater = zlib.decompressobj(wbits)
    parts: list[bytes] = []
    size = 0
    pending = data
    try:
        while True:
            chunk = inflater.decompress(pending, max_bytes + 1 - size)
            size += len(chunk)
            if size > max_bytes:
                raise BodyTooLarge()
            parts.append(chunk)
            pending = inflater.unconsumed_tail
            if inflater.eof or not (pending or chunk):
                break
    except zlib.error:
        raise broken_encoding() from None
    if not inflater.eof:
        raise broken_encoding()  # truncated, or empty
    return b"".join(parts), inflater.unused_data


def accepts_gzip(accept_encoding: str) -> bool:
    """True when ``Accept-Encoding`` lists gzip (or ``*``) without ``q=0``."""
    for entry in accept_encoding.lower().split(","):
        coding, _, params = entry.partition(";")
        if coding.strip() in ("gzip", "x-gzip", "*"):
            quality = params.strip()
            if quality.startswith("q="):
                try:
                    if float(quality[2:]) == 0:
                        continue
                except ValueError:
                    continue
            return True
    return False


def compress(body: bytes) -> bytes:
    """gzip at a low level: the answer's CPU matters more than its last bytes."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, _GZIP_WBITS)
    return compressor.compress(body) + compressor.flush()
