"""Tag sets: XML ``Tagging`` bodies, the ``x-amz-tagging`` header, and their limits."""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import parse_qsl

from strata.api.s3 import xml
from strata.errors import ProtocolError

OBJECT_TAGS_MAX: Final = 10
BUCKET_TAGS_MAX: Final = 50
TAG_KEY_CHARS_MAX: Final = 128
TAG_VALUE_CHARS_MAX: Final = 256
# Letters, digits, white space and + - = . _ : / @ (S3's tag character set).
_TAG_TEXT: Final = re.compile(r"[\w\s+\-=.:/@]*")


def _invalid(message: str) -> ProtocolError:
    return ProtocolError("InvalidTag", message)


def check_tags(tags: list[tuple[str, str]], *, bucket: bool) -> list[tuple[str, str]]:
    if bucket and len(tags) > BUCKET_TAGS_MAX:
        raise _invalid(f"Bucket tag count cannot be greater than {BUCKET_TAGS_MAX}")
    if not bucket and len(tags) > OBJECT_TAGS_MAX:
        raise _invalid(f"Object tags cannot be greater than {OBJECT_TAGS_MAX}")
    seen: set[str] = set()
    for key, value in tags:
        if key in seen:
            raise _invalid("Cannot provide multiple Tags with the same key")
        seen.add(key)
        if len(key) > TAG_KEY_CHARS_MAX:
            raise _invalid(f"The TagKey you have provided is too long, max {TAG_KEY_CHARS_MAX}")
        if len(value) > TAG_VALUE_CHARS_MAX:
            raise _invalid(f"The TagValue you have provided is too long, max {TAG_VALUE_CHARS_MAX}")
        if not key or not _TAG_TEXT.fullmatch(key):
            raise _invalid("The TagKey you have provided is invalid")
        if not _TAG_TEXT.fullmatch(value):
            raise _invalid("The TagValue you have provided is invalid")
        if key.startswith("aws:"):
            raise _invalid("Your TagKey cannot be prefixed with aws:")
    return tags


def parse_tagging(body: bytes, *, bucket: bool) -> list[tuple[str, str]]:
    root = xml.parse(body, "Tagging")
    tag_set = root.find("TagSet")
    if tag_set is None:
        raise xml.malformed()
    tags: list[tuple[str, str]] = []
    for tag in tag_set.findall("Tag"):
        key = xml.text(tag, "Key")
        value = xml.text(tag, "Value")
        if key is None or value is None:
            raise xml.malformed()
        tags.append((key, value))
    return check_tags(tags, bucket=bucket)


def parse_tagging_header(value: str) -> list[tuple[str, str]]:
    """``x-amz-tagging: k1=v1&k2=v2`` (URL-encoded).

    S3 answers a repeated key here with ``InvalidArgument`` (the XML body's is ``InvalidTag``)
    and too many tags with ``BadRequest``.
    """
    tags = parse_qsl(value, keep_blank_values=True)
    if len({key for key, _ in tags}) != len(tags):
        raise ProtocolError(
            "InvalidArgument",
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
            "parameters without tag name duplicates.",
            ArgumentName="x-amz-tagging",
            ArgumentValue=value,
        )
    if len(tags) > OBJECT_TAGS_MAX:
        raise ProtocolError("BadRequest", f"Object tags cannot be greater than {OBJECT_TAGS_MAX}")
    return check_tags(tags, bucket=False)


def render_tagging(tags: list[tuple[str, str]]) -> bytes:
    """The ``Tagging`` document, tags sorted by key: S3 keeps a tag set, not a list, and
    answers it in key order whatever order it was sent in."""
    tags = sorted(tags)
    return xml.document(
        "Tagging",
        xml.node(
            "TagSet", *(xml.node("Tag", xml.el("Key", k), xml.el("Value", v)) for k, v in tags)
        ),
    )
