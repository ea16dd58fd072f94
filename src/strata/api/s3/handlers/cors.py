"""Bucket CORS configuration, preflight ``OPTIONS`` answers, and CORS headers on responses."""

from __future__ import annotations

import fnmatch
from typing import Final

from strata.api.http import Request, Response
from strata.api.s3 import xml
from strata.api.s3.context import Call, S3Context, read_small_body, xml_response
from strata.errors import ProtocolError
from strata.service.objects.errors import NoSuchBucket
from strata.service.objects.records import CorsRule

CORS_METHODS: Final = ("GET", "PUT", "HEAD", "POST", "DELETE")
CORS_RULES_MAX: Final = 100


def _forbidden(message: str) -> ProtocolError:
    return ProtocolError("AccessForbidden", message, 403)


def _matches(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.lower().replace("[", "[[]"))


def parse_cors(body: bytes) -> list[CorsRule]:
    root = xml.parse(body, "CORSConfiguration")
    rules: list[CorsRule] = []
    for node in root.findall("CORSRule"):
        origins = [o.text or "" for o in node.findall("AllowedOrigin")]
        methods = [m.text or "" for m in node.findall("AllowedMethod")]
        if not origins or not methods:
            raise xml.malformed()
        for method in methods:
            if method not in CORS_METHODS:
                raise ProtocolError(
                    "InvalidRequest",
                    f"Found unsupported HTTP method in CORS config. Unsupported method is {method}",
                )
        allowed_headers = [h.text or "" for h in node.findall("AllowedHeader")]
        for kind, values in (("AllowedOrigin", origins), ("AllowedHeader", allowed_headers)):
            for value in values:
                if value.count("*") > 1:
                    raise ProtocolError(
                        "InvalidRequest",
                        f'{kind} "{value}" can not have more than one wildcard.',
                    )
        max_age = xml.text(node, "MaxAgeSeconds")
        try:
            max_age_s = int(max_age) if max_age is not None else None
        except ValueError:
            raise xml.malformed()
        rules.append(
            CorsRule(
                allowed_origins=origins,
                allowed_methods=methods,
                allowed_headers=allowed_headers,
                expose_headers=[h.text or "" for h in node.findall("ExposeHeader")],
                max_age_s=max_age_s,
                id=xml.text(node, "ID"),
            )
        )
    if not rules or len(rules) > CORS_RULES_MAX:
        raise xml.malformed()
    return rules


def render_cors(rules: list[CorsRule]) -> bytes:
    nodes = []
    for rule in rules:
        nodes.append(
            xml.node(
                "CORSRule",
                xml.el("ID", rule.id),
                *(xml.el("AllowedHeader", h) for h in rule.allowed_headers),
                *(xml.el("AllowedMethod", m) for m in rule.allowed_methods),
                *(xml.el("AllowedOrigin", o) for o in rule.allowed_origins),
                *(xml.el("ExposeHeader", h) for h in rule.expose_headers),
                xml.el("MaxAgeSeconds", rule.max_age_s),
            )
        )
    return xml.document("CORSConfiguration", *nodes)


def match_rule(
    rules: list[CorsRule], origin: str, method: str, request_headers: list[str]
) -> CorsRule | None:
    for rule in rules:
        if not any(_matches(o, origin) for o in rule.allowed_origins):
            continue
        if method not in rule.allowed_methods:
            continue
        if all(any(_matches(p, h) for p in rule.allowed_headers) for h in request_headers):
            return rule
    return None


def rule_headers(rule: CorsRule, origin: str) -> list[tuple[str, str]]:
    wildcard = rule.allowed_origins == ["*"]
    headers = [
        ("access-control-allow-origin", "*" if wildcard else origin),
        ("access-control-allow-methods", ", ".join(rule.allowed_methods)),
        ("vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"),
    ]
    if not wildcard:
        headers.append(("access-control-allow-credentials", "true"))
    if rule.expose_headers:
        headers.append(("access-control-expose-headers", ", ".join(rule.expose_headers)))
    if rule.max_age_s is not None:
        headers.append(("access-control-max-age", str(rule.max_age_s)))
    return headers


def response_cors_headers(s3: S3Context, bucket: str, request: Request) -> list[tuple[str, str]]:
    """CORS headers for an actual (non-preflight) request that carries an Origin."""
    origin = request.headers.get("origin")
    if origin is None or not bucket:
        return []
    try:
        rules = s3.buckets.get(bucket).cors
    except NoSuchBucket:
        return []
    if not rules:
        return []
    rule = match_rule(rules, origin, request.method, [])
    return rule_headers(rule, origin) if rule is not None else []


async def preflight(s3: S3Context, call: Call) -> Response:
    origin = call.header("origin")
    method = call.header("access-control-request-method")
    if origin is None:
        raise ProtocolError("BadRequest", "Insufficient information. Origin request header needed.")
    if method is None:
        raise ProtocolError(
            "BadRequest",
            "Invalid Access-Control-Request-Method header: the header is missing or empty.",
        )
    rules = s3.buckets.get(call.bucket).cors
    if not rules:
        raise _forbidden("CORSResponse: CORS is not enabled for this bucket.")
    requested = [
        h.strip().lower()
        for h in (call.header("access-control-request-headers") or "").split(",")
        if h.strip()
    ]
    rule = match_rule(rules, origin, method, requested)
    if rule is None:
        raise _forbidden(
            "CORSResponse: This CORS request is not allowed. This is usually because the "
            "evalution of Origin, request method / Access-Control-Request-Method or "
            "Access-Control-Request-Headerss are not whitelisted by the resource's CORS spec."
        )
    headers = rule_headers(rule, origin)
    if requested:
        headers.append(("access-control-allow-headers", ", ".join(requested)))
    return Response(status=200, headers=headers)


async def get_bucket_cors(s3: S3Context, call: Call) -> Response:
    return xml_response(render_cors(s3.buckets.get_cors(call.bucket)))


async def put_bucket_cors(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    rules = parse_cors(await read_small_body(call.request, checksum_required=True))
    await s3.buckets.put_cors(call.bucket, rules)
    return Response(status=200)


async def delete_bucket_cors(s3: S3Context, call: Call) -> Response:
    await s3.buckets.delete_cors(call.bucket)
    return Response(status=204)
