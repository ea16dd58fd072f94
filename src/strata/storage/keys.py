"""Order-preserving key encoding: RocksDB byte order equals the order of the values.

A key is a tuple of components packed one after another; every component is
self-delimiting, so a packed prefix is a range prefix and ``prefix_end`` bounds a scan.

- bytes and str (UTF-8): 0x00 escaped as 0x00 0xFF, ended by 0x00 0x01. Byte order of
  the raw value is kept, and a value sorts before every longer value it prefixes.
- unsigned int: 8 bytes big-endian.
- decimal number (DynamoDB ``N``, 38 significant digits, exponents -130..126):
  a sign tag, then for positives a 2-byte biased exponent and the digits as bytes
  1..10 ended by 0x00; negatives are the bitwise complement of their magnitude.
"""

from __future__ import annotations

from decimal import Context, Decimal

_ESCAPED_NUL = b"\x00\xff"
_END = b"\x00\x01"

_NEGATIVE = 0x01
_ZERO = 0x02
_POSITIVE = 0x03
_EXPONENT_BIAS = 0x8000
_EXACT = Context(prec=100)  # wide enough that normalising never rounds


def encode_bytes(value: bytes) -> bytes:
    return value.replace(b"\x00", _ESCAPED_NUL) + _END


def decode_bytes(buf: bytes, pos: int = 0) -> tuple[bytes, int]:
    """Decode one bytes component at ``pos``; return it and the position after it."""
    out = bytearray()
    while True:
        nul = buf.index(b"\x00", pos)
        out += buf[pos:nul]
        marker = buf[nul + 1]
        if marker == 0x01:
            return bytes(out), nul + 2
        assert marker == 0xFF, "corrupt key: bad escape"
        out.append(0)
        pos = nul + 2


def encode_str(value: str) -> bytes:
    return encode_bytes(value.encode("utf-8"))


def decode_str(buf: bytes, pos: int = 0) -> tuple[str, int]:
    raw, pos = decode_bytes(buf, pos)
    return raw.decode("utf-8"), pos


def encode_uint(value: int) -> bytes:
    return value.to_bytes(8, "big")


def decode_uint(buf: bytes, pos: int = 0) -> tuple[int, int]:
    return int.from_bytes(buf[pos : pos + 8], "big"), pos + 8


def encode_number(value: Decimal) -> bytes:
    """Encode a finite decimal so that byte order is numeric order."""
    if value.is_zero():
        return bytes([_ZERO])
    sign, digits, exponent = value.normalize(_EXACT).as_tuple()
    assert isinstance(exponent, int), "number must be finite"
    adjusted = exponent + len(digits) - 1  # exponent of the leading digit
    body = (adjusted + _EXPONENT_BIAS).to_bytes(2, "big") + bytes(d + 1 for d in digits) + b"\x00"
    if sign:
        return bytes([_NEGATIVE]) + bytes(0xFF - b for b in body)
    return bytes([_POSITIVE]) + body


def decode_number(buf: bytes, pos: int = 0) -> tuple[Decimal, int]:
    tag = buf[pos]
    if tag == _ZERO:
        return Decimal(0), pos + 1
    negative = tag == _NEGATIVE
    terminator = 0xFF if negative else 0x00
    end = buf.index(bytes([terminator]), pos + 3)
    body = buf[pos + 1 : end]
    if negative:
        body = bytes(0xFF - b for b in body)
    adjusted = int.from_bytes(body[:2], "big") - _EXPONENT_BIAS
    digits = tuple(b - 1 for b in body[2:])
    exponent = adjusted - len(digits) + 1
    return Decimal((1 if negative else 0, digits, exponent)), end + 1


def pack(*parts: bytes | str | int | Decimal) -> bytes:
    """Pack components into one key; the first component is the partition."""
    out = bytearray()
    for part in parts:
        if isinstance(part, bytes):
            out += encode_bytes(part)
        elif isinstance(part, str):
            out += encode_str(part)
        elif isinstance(part, bool):
            raise TypeError("bool is not a key component")
        elif isinstance(part, int):
            out += encode_uint(part)
        else:
            out += encode_number(part)
    return bytes(out)


def prefix_end(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key that starts with ``prefix``."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


def open_prefix(*parts: bytes | str | int | Decimal) -> bytes:
    """Packed components without the last string's end marker: a prefix of longer values.

    ``open_prefix("bucket", "photos/")`` is the scan start for keys beginning "photos/".
    """
    packed = pack(*parts)
    assert isinstance(parts[-1], bytes | str), "only a string component can be left open"
    return packed[: -len(_END)]
