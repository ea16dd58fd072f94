"""Put/Get/List/DeleteBucketIntelligentTieringConfiguration: the XML of a configuration,
checked as S3 checks it (``service/objects/tiering/configuration.py`` keeps them)."""

from __future__ import annotations

from typing import Final
from xml.etree.ElementTree import Element

from strata.api.http import Response
from strata.api.s3 import tokens, xml
from strata.api.s3.context import Call, S3Context, read_small_body, xml_response
from strata.api.s3.handlers.tagging import check_tags
from strata.errors import ProtocolError
from strata.service.objects.tiering.configuration import (
    DAYS_MIN,
    TieringConfiguration,
    TieringConfigurations,
    TieringFilter,
    check,
    check_id,
)
from strata.service.objects.tiering.service import Tiering

PAGE_MAX: Final = 100  # configurations per ListBucketIntelligentTieringConfigurations page
STATUSES: Final = frozenset({"Enabled", "Disabled"})


def tiering_of(s3: S3Context) -> Tiering:
    if s3.tiering is None:
        raise ProtocolError(
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            501,
        )
    return s3.tiering


def _configurations(s3: S3Context) -> TieringConfigurations:
    return tiering_of(s3).configurations


def _tags(parent: Element, tag: str) -> list[tuple[str, str]]:
    tags = []
    for node in parent.findall(tag):
        key, value = xml.text(node, "Key"), xml.text(node, "Value")
        if key is None or value is None:
            raise xml.malformed()
        tags.append((key, value))
    return tags


def _filter(root: Element) -> TieringFilter | None:
    node = root.find("Filter")
    if node is None:
        return None
    prefix, tag, conjunction = node.find("Prefix"), node.find("Tag"), node.find("And")
    if sum(part is not None for part in (prefix, tag, conjunction)) > 1:
        raise xml.malformed()  # one of Prefix, Tag or And, as the schema says
    if conjunction is not None:
        tags = check_tags(_tags(conjunction, "Tag"), bucket=False)
        found = TieringFilter(xml.text(conjunction, "Prefix"), tags, True)
        if (found.prefix is not None) + len(tags) < 2:
            raise xml.malformed()  # And needs at least two predicates
        return found
    if tag is not None:
        return TieringFilter(None, check_tags(_tags(node, "Tag"), bucket=False))
    return TieringFilter(xml.text(node, "Prefix") if prefix is not None else None)


def parse_configuration(body: bytes) -> TieringConfiguration:
    root = xml.parse(body, "IntelligentTieringConfiguration")
    config_id, status = xml.text(root, "Id"), xml.text(root, "Status")
    if config_id is None or status not in STATUSES:
        raise xml.malformed()
    tierings = []
    for node in root.findall("Tiering"):
        days, tier = xml.text(node, "Days"), xml.text(node, "AccessTier")
        if days is None or tier not in DAYS_MIN:
            raise xml.malformed()
        try:
            tierings.append((tier, int(days.strip())))
        except ValueError:
            raise xml.malformed()
    return TieringConfiguration(config_id, status, tierings, _filter(root))


def render(configuration: TieringConfiguration) -> list[str]:
    """The children of an ``IntelligentTieringConfiguration`` element."""
    parts = [xml.el("Id", configuration.id)]
    found = configuration.filter
    if found is not None:
        tags = [xml.node("Tag", xml.el("Key", k), xml.el("Value", v)) for k, v in found.tags]
        if found.conjunction:
            parts.append(xml.node("Filter", xml.node("And", xml.el("Prefix", found.prefix), *tags)))
        elif tags:
            parts.append(xml.node("Filter", *tags))
        else:
            parts.append(xml.node("Filter", xml.el("Prefix", found.prefix)))
    parts.append(xml.el("Status", configuration.status))
    for tier, days in configuration.tierings:
        parts.append(xml.node("Tiering", xml.el("Days", days), xml.el("AccessTier", tier)))
    return parts


async def put_configuration(s3: S3Context, call: Call) -> Response:
    configurations = _configurations(s3)
    s3.buckets.get(call.bucket)
    config_id = check_id(call.query("id"))
    body = await read_small_body(call.request)
    configuration = parse_configuration(body)
    check(configuration, config_id)
    await configurations.put(call.bucket, configuration)
    return Response(status=200)


async def get_configuration(s3: S3Context, call: Call) -> Response:
    configurations = _configurations(s3)
    s3.buckets.get(call.bucket)
    configuration = configurations.get(call.bucket, check_id(call.query("id")))
    return xml_response(xml.document("IntelligentTieringConfiguration", *render(configuration)))


async def delete_configuration(s3: S3Context, call: Call) -> Response:
    configurations = _configurations(s3)
    s3.buckets.get(call.bucket)
    await configurations.delete(call.bucket, check_id(call.query("id")))
    return Response(status=204)


async def list_configurations(s3: S3Context, call: Call) -> Response:
    configurations = _configurations(s3)
    s3.buckets.get(call.bucket)
    token = call.query("continuation-token")
    after = tokens.decode("IntelligentTiering", call.bucket, token) if token else ""
    page: list[TieringConfiguration] = []
    truncated = False
    for configuration in configurations.all(call.bucket, after):
        if len(page) == PAGE_MAX:
            truncated = True
            break
        page.append(configuration)
    next_token = None
    if truncated:
        next_token = tokens.encode("IntelligentTiering", call.bucket, page[-1].id)
    return xml_response(
        xml.document(
            "ListBucketIntelligentTieringConfigurationsOutput",
            xml.el("IsTruncated", truncated),  # the order of the model's members
            xml.el("ContinuationToken", token),
            xml.el("NextContinuationToken", next_token),
            *(xml.node("IntelligentTieringConfiguration", *render(c)) for c in page),
        )
    )
