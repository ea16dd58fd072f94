"""User metadata values as S3 returns them: RFC 2047 encoded when not US-ASCII.

AWS documents it (UsingMetadata, "User-defined object metadata"): a value with
non-US-ASCII characters is returned as an RFC 2047 encoded word, a US-ASCII one as is.
S3 answers the base64 form, ``=?UTF-8?B?...?=``. Header values reach us as latin-1
text (one character per byte): an SDK that sends a value's UTF-8 bytes (most do) has
its text read back from them; bytes that are not UTF-8 are taken as latin-1
characters, which is what boto3's http.client sends for characters up to U+00FF.
"""

from __future__ import annotations

import base64


def mail_safe(value: str) -> str:
    """``value`` as a GET or HEAD shows it in ``x-amz-meta-*``."""
    if value.isascii():
        return value
    try:
        text = value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        text = value
    return "=?UTF-8?B?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="
