"""S3 XML in and out.

Parsing uses defusedxml: DTDs, entity declarations and external references are refused,
so no entity expansion can happen; anything unparsable is ``MalformedXML``. Namespaces
are dropped from tag names (clients send the S3 namespace or none).

Serialising builds strings directly: ``el("Key", value)`` escapes text, and nesting is
plain string concatenation of already-serialised children.
"""

from __future__ import annotations

import time
from email.utils import formatdate
from typing import Final
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from strata.errors import ProtocolError

S3_NS: Final = "http://s3.amazonaws.com/doc/2006-03-01/"
DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8"?>\n'


def malformed() -> ProtocolError:
    return ProtocolError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )


def _strip_namespaces(root: Element) -> Element:
    for node in root.iter():
        if isinstance(node.tag, str) and node.tag.startswith("{"):
            node.tag = node.tag.split("}", 1)[1]
    return root


def parse(body: bytes, root_tag: str) -> Element:
    """The root element, which must be ``root_tag``; ``MalformedXML`` otherwise."""
    if not body.strip():
        raise malformed()
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True)
    except (SafeET.ParseError, DefusedXmlException, ValueError):
        raise malformed()
    root = _strip_namespaces(root)
    if root.tag != root_tag:
        raise malformed()
    return root


def text(node: Element, tag: str, default: str | None = None) -> str | None:
    child = node.find(tag)
    if child is None:
        return default
    return child.text or ""


def escape_text(value: str) -> str:
    """``value`` with &, < and > escaped (most text has none: then it is returned as is)."""
    if "&" in value or "<" in value or ">" in value:
        return escape(value)
    return value


def el(tag: str, value: str | int | bool | None) -> str:
    """One element with escaped text; None gives nothing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{tag}>{escape(str(value))}</{tag}>"


def node(tag: str, *children: str) -> str:
    return f"<{tag}>{''.join(children)}</{tag}>"


def document(tag: str, *children: str) -> bytes:
    """A whole response document with the S3 namespace on its root."""
    return f'{DECLARATION}<{tag} xmlns="{S3_NS}">{"".join(children)}</{tag}>'.encode()


# Formatted seconds, remembered: a listing page shows 1,000 times, mostly of a few
# seconds, and every GET formats its object's Last-Modified. Cleared when full.
_TIMES_MAX = 4096
_iso_seconds: dict[int, str] = {}
_http_dates: dict[int, str] = {}


def iso_time(ms: int) -> str:
    """``2009-10-12T17:50:30.000Z`` as listings show times."""
    seconds, millis = divmod(ms, 1000)
    text = _iso_seconds.get(seconds)
    if text is None:
        if len(_iso_seconds) >= _TIMES_MAX:
            _iso_seconds.clear()
        text = _iso_seconds[seconds] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{text}.{millis:03d}Z"


def http_date(ms: int) -> str:
    """``Wed, 12 Oct 2009 17:50:00 GMT`` as Last-Modified shows times."""
    seconds = ms // 1000
    text = _http_dates.get(seconds)
    if text is None:
        if len(_http_dates) >= _TIMES_MAX:
            _http_dates.clear()
        text = _http_dates[seconds] = formatdate(seconds, usegmt=True)
    return text
