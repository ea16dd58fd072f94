"""Put/Get/DeleteBucketLifecycle(Configuration) and the ``x-amz-expiration`` header.

The XML's shape is checked here (S3 answers MalformedXML for anything its schema refuses:
an unknown element, a missing Status, two of Days/Date, a Filter with two conditions
outside And, a number that is not one); what the rules mean is checked by
``service/objects/lifecycle/rules.validate``, with S3's InvalidArgument/InvalidRequest
messages. The deprecated PutBucketLifecycle is the same request (``PUT ?lifecycle``) and
takes the same document, so it gets the same handler.
"""

from __future__ import annotations

import base64
import datetime
import uuid
from typing import Final
from urllib.parse import quote
from xml.etree.ElementTree import Element

from strata.api.http import Response
from strata.api.s3 import xml
from strata.api.s3.context import Call, S3Context, read_small_body, xml_response
from strata.errors import ProtocolError
from strata.service.objects.lifecycle.configs import LifecycleConfigs
from strata.service.objects.lifecycle.rules import (
    ALL_CLASSES_128K,
    DAY_MS,
    MINIMUM_OBJECT_SIZES,
    TRANSITION_CLASSES,
    LifecycleConfiguration,
    NoncurrentTransition,
    Rule,
    RuleFilter,
    Transition,
    expiration,
    upload_abort,
    validate,
)
from strata.service.objects.records import ObjectVersion

MINIMUM_SIZE_HEADER: Final = "x-amz-transition-default-minimum-object-size"
_RULE_ELEMENTS: Final = frozenset(
    {
        "ID", "Prefix", "Filter", "Status", "Expiration", "Transition",
        "NoncurrentVersionTransition", "NoncurrentVersionExpiration",
        "AbortIncompleteMultipartUpload",
    }
)  # fmt: skip
_FILTER_ELEMENTS: Final = frozenset(
    {"Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan", "And"}
)


def _configs(s3: S3Context) -> LifecycleConfigs:
    configs = s3.lifecycle
    if configs is None:
        raise ProtocolError("NotImplemented", "Lifecycle is not enabled on this server.", 501)
    return configs


# ---- parsing ------------------------------------------------------------------------------


def _children(node: Element, allowed: frozenset[str]) -> dict[str, list[Element]]:
    out: dict[str, list[Element]] = {}
    for child in node:
        if child.tag not in allowed:
            raise xml.malformed()
        out.setdefault(child.tag, []).append(child)
    return out


def _one(children: dict[str, list[Element]], tag: str) -> Element | None:
    found = children.get(tag)
    if not found:
        return None
    if len(found) > 1:
        raise xml.malformed()
    return found[0]


def _text(children: dict[str, list[Element]], tag: str) -> str | None:
    found = _one(children, tag)
    return None if found is None else (found.text or "")


def _integer(children: dict[str, list[Element]], tag: str) -> int | None:
    value = _text(children, tag)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise xml.malformed()


def _date_ms(children: dict[str, list[Element]], tag: str) -> int | None:
    value = _text(children, tag)
    if value is None:
        return None
    text = value.strip()
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise xml.malformed()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    ms = int(moment.timestamp() * 1000)
    if ms % DAY_MS:
        raise ProtocolError("InvalidArgument", "'Date' must be at midnight GMT")
    return ms


def _tag(node: Element) -> tuple[str, str]:
    children = _children(node, frozenset({"Key", "Value"}))
    key, value = _text(children, "Key"), _text(children, "Value")
    if key is None or value is None:
        raise xml.malformed()
    return key, value


def _filter(node: Element | None, legacy_prefix: str | None) -> RuleFilter:
    if legacy_prefix is not None:
        if node is not None:
            raise xml.malformed()  # Filter and the legacy Prefix exclude each other
        return RuleFilter(prefix=legacy_prefix, form="prefix")
    if node is None:
        raise xml.malformed()  # S3 needs one of them
    children = _children(node, _FILTER_ELEMENTS)
    if sum(len(found) for found in children.values()) > 1:
        raise xml.malformed()
    and_node = _one(children, "And")
    if and_node is None:
        tag = _one(children, "Tag")
        return RuleFilter(
            prefix=_text(children, "Prefix"),
            tags=[_tag(tag)] if tag is not None else [],
            size_greater_than=_integer(children, "ObjectSizeGreaterThan"),
            size_less_than=_integer(children, "ObjectSizeLessThan"),
        )
    inner = _children(
        and_node, frozenset({"Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan"})
    )
    tags = [_tag(t) for t in inner.get("Tag", [])]
    if len({k for k, _ in tags}) != len(tags):
        raise ProtocolError("InvalidRequest", "Duplicate Tag Keys are not allowed.")
    return RuleFilter(
        prefix=_text(inner, "Prefix"),
        tags=tags,
        size_greater_than=_integer(inner, "ObjectSizeGreaterThan"),
        size_less_than=_integer(inner, "ObjectSizeLessThan"),
        form="and",
    )


def _generated_id() -> str:
    """S3 names a rule sent without an ID: 48 characters, base64 of a UUID."""
    return base64.b64encode(str(uuid.uuid4()).encode()).decode()


def _rule(node: Element) -> Rule:
    children = _children(node, _RULE_ELEMENTS)
    status = _text(children, "Status")
    if status not in ("Enabled", "Disabled"):
        raise xml.malformed()
    rule_id = _text(children, "ID") or _generated_id()
    days = date_ms = None
    delete_marker: bool | None = None
    expiration_node = _one(children, "Expiration")
    if expiration_node is not None:
        parts = _children(expiration_node, frozenset({"Days", "Date", "ExpiredObjectDeleteMarker"}))
        if not parts:
            raise xml.malformed()
        days, date_ms = _integer(parts, "Days"), _date_ms(parts, "Date")
        if days is not None and date_ms is not None:
            raise xml.malformed()
        marker = _text(parts, "ExpiredObjectDeleteMarker")
        if marker is not None:
            if marker.strip().lower() not in ("true", "false"):
                raise xml.malformed()
            if days is not None or date_ms is not None:
                raise ProtocolError(
                    "InvalidArgument",
                    "ExpiredObjectDeleteMarker cannot be specified with Days or Date in a "
                    "Lifecycle Expiration Policy.",
                )
            delete_marker = marker.strip().lower() == "true"
    transitions = [_transition(t) for t in children.get("Transition", [])]
    noncurrent = [
        _noncurrent_transition(t) for t in children.get("NoncurrentVersionTransition", [])
    ]
    noncurrent_days = newer = None
    noncurrent_node = _one(children, "NoncurrentVersionExpiration")
    if noncurrent_node is not None:
        parts = _children(noncurrent_node, frozenset({"NoncurrentDays", "NewerNoncurrentVersions"}))
        noncurrent_days = _integer(parts, "NoncurrentDays")
        newer = _integer(parts, "NewerNoncurrentVersions")
    abort_days = None
    abort_node = _one(children, "AbortIncompleteMultipartUpload")
    if abort_node is not None:
        abort_days = _integer(
            _children(abort_node, frozenset({"DaysAfterInitiation"})), "DaysAfterInitiation"
        )
        if abort_days is None:
            raise xml.malformed()
    return Rule(
        id=rule_id,
        enabled=status == "Enabled",
        filter=_filter(_one(children, "Filter"), _text(children, "Prefix")),
        expiration_days=days,
        expiration_date_ms=date_ms,
        expired_object_delete_marker=delete_marker,
        transitions=transitions,
        noncurrent_days=noncurrent_days,
        newer_noncurrent_versions=newer,
        noncurrent_expiration=noncurrent_node is not None,
        noncurrent_transitions=noncurrent,
        abort_days=abort_days,
    )


def _storage_class(children: dict[str, list[Element]]) -> str:
    storage_class = _text(children, "StorageClass")
    if storage_class not in TRANSITION_CLASSES:
        raise xml.malformed()
    return storage_class


def _transition(node: Element) -> Transition:
    children = _children(node, frozenset({"Days", "Date", "StorageClass"}))
    days, date_ms = _integer(children, "Days"), _date_ms(children, "Date")
    if (days is None) == (date_ms is None):
        raise xml.malformed()
    return Transition(storage_class=_storage_class(children), days=days, date_ms=date_ms)


def _noncurrent_transition(node: Element) -> NoncurrentTransition:
    children = _children(
        node, frozenset({"NoncurrentDays", "StorageClass", "NewerNoncurrentVersions"})
    )
    return NoncurrentTransition(
        storage_class=_storage_class(children),
        noncurrent_days=_integer(children, "NoncurrentDays"),
        newer_noncurrent_versions=_integer(children, "NewerNoncurrentVersions"),
    )


def parse_lifecycle(body: bytes, minimum_object_size: str) -> LifecycleConfiguration:
    root = xml.parse(body, "LifecycleConfiguration")
    children = _children(root, frozenset({"Rule"}))
    config = LifecycleConfiguration(
        rules=[_rule(node) for node in children.get("Rule", [])],
        minimum_object_size=minimum_object_size,
    )
    validate(config)
    return config


# ---- rendering ------------------------------------------------------------------------------


def _render_tag(key: str, value: str) -> str:
    return xml.node("Tag", xml.el("Key", key), xml.el("Value", value))


def _render_filter(rule_filter: RuleFilter) -> str:
    if rule_filter.form == "prefix":
        return xml.el("Prefix", rule_filter.prefix or "")
    conditions = [
        xml.el("Prefix", rule_filter.prefix),
        *(_render_tag(k, v) for k, v in rule_filter.tags),
        xml.el("ObjectSizeGreaterThan", rule_filter.size_greater_than),
        xml.el("ObjectSizeLessThan", rule_filter.size_less_than),
    ]
    if rule_filter.form == "and":
        return xml.node("Filter", xml.node("And", *conditions))
    return xml.node("Filter", *conditions)


def _date(ms: int | None) -> str | None:
    return None if ms is None else xml.iso_time(ms)


def _render_rule(rule: Rule) -> str:
    parts = [xml.el("ID", rule.id), _render_filter(rule.filter)]
    parts.append(xml.el("Status", "Enabled" if rule.enabled else "Disabled"))
    for transition in rule.transitions:
        parts.append(
            xml.node(
                "Transition",
                xml.el("Date", _date(transition.date_ms)),
                xml.el("Days", transition.days),
                xml.el("StorageClass", transition.storage_class),
            )
        )
    if rule.expires or rule.expired_object_delete_marker is not None:
        parts.append(
            xml.node(
                "Expiration",
                xml.el("Date", _date(rule.expiration_date_ms)),
                xml.el("Days", rule.expiration_days),
                xml.el("ExpiredObjectDeleteMarker", rule.expired_object_delete_marker),
            )
        )
    for noncurrent in rule.noncurrent_transitions:
        parts.append(
            xml.node(
                "NoncurrentVersionTransition",
                xml.el("NoncurrentDays", noncurrent.noncurrent_days),
                xml.el("StorageClass", noncurrent.storage_class),
                xml.el("NewerNoncurrentVersions", noncurrent.newer_noncurrent_versions),
            )
        )
    if rule.noncurrent_expiration:
        parts.append(
            xml.node(
                "NoncurrentVersionExpiration",
                xml.el("NoncurrentDays", rule.noncurrent_days),
                xml.el("NewerNoncurrentVersions", rule.newer_noncurrent_versions),
            )
        )
    if rule.abort_days is not None:
        parts.append(
            xml.node(
                "AbortIncompleteMultipartUpload", xml.el("DaysAfterInitiation", rule.abort_days)
            )
        )
    return xml.node("Rule", *parts)


def render_lifecycle(config: LifecycleConfiguration) -> bytes:
    return xml.document("LifecycleConfiguration", *(_render_rule(r) for r in config.rules))


# ---- handlers -------------------------------------------------------------------------------


async def put_bucket_lifecycle(s3: S3Context, call: Call) -> Response:
    configs = _configs(s3)
    s3.buckets.get(call.bucket)
    minimum = call.header(MINIMUM_SIZE_HEADER) or ALL_CLASSES_128K
    if minimum not in MINIMUM_OBJECT_SIZES:
        raise ProtocolError(
            "InvalidRequest", f"Invalid value for header {MINIMUM_SIZE_HEADER}: {minimum}"
        )
    body = await read_small_body(call.request, checksum_required=True)
    config = parse_lifecycle(body, minimum)
    s3.buckets.get(call.bucket)  # still there after the body was read
    await configs.put(call.bucket, config)
    return Response(status=200, headers=[(MINIMUM_SIZE_HEADER, minimum)])


async def get_bucket_lifecycle(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    config = _configs(s3).get(call.bucket)
    if config is None:
        raise ProtocolError(
            "NoSuchLifecycleConfiguration",
            "The lifecycle configuration does not exist",
            404,
            BucketName=call.bucket,
        )
    response = xml_response(render_lifecycle(config))
    response.headers.append((MINIMUM_SIZE_HEADER, config.minimum_object_size))
    return response


async def delete_bucket_lifecycle(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    await _configs(s3).delete(call.bucket)
    return Response(status=204)


def expiration_headers(
    configs: LifecycleConfigs, bucket: str, key: str, version: ObjectVersion
) -> list[tuple[str, str]]:
    """``x-amz-expiration`` for a current version, when an Expiration rule applies.
    Call only for a bucket in ``configs.expiring`` (the hot path's one dict lookup)."""
    config = configs.expiring.get(bucket)
    if config is None or version.delete_marker:
        return []
    due = expiration(config, key, version.tags, version.size_bytes, version.last_modified_ms)
    if due is None:
        return []
    value = f'expiry-date="{xml.http_date(due.at_ms)}", rule-id="{quote(due.rule_id, safe="")}"'
    return [("x-amz-expiration", value)]


def abort_headers(
    configs: LifecycleConfigs, bucket: str, key: str, initiated_ms: int
) -> list[tuple[str, str]]:
    """``x-amz-abort-date`` and ``x-amz-abort-rule-id`` on CreateMultipartUpload, when an
    AbortIncompleteMultipartUpload rule applies to the key."""
    config = configs.get(bucket)
    due = None if config is None else upload_abort(config, key, initiated_ms)
    if due is None:
        return []
    return [("x-amz-abort-date", xml.http_date(due.at_ms)), ("x-amz-abort-rule-id", due.rule_id)]
