"""POST Object: a browser form upload to a bucket (``generate_presigned_post``).

The form's fields stand for PutObject's headers (``Content-Type``, ``x-amz-meta-*``,
``x-amz-storage-class``, ``acl``, ``tagging`` as an XML document, ``Content-MD5`` and
``x-amz-checksum-*`` digests of the file, ``x-amz-checksum-algorithm``, the
``x-amz-object-lock-*`` retention and legal hold); ``${filename}``
in any field (the key, usually) is the file's name. The answer is 204 by default, 200
or 201 (with a ``PostResponse`` document) by ``success_action_status``, or a 303 to
``success_action_redirect`` with the bucket, key and ETag in its query.
"""

from __future__ import annotations

import dataclasses
from typing import Final
from urllib.parse import quote, urlencode, urlsplit

from strata.api.http import Response
from strata.api.s3 import form as forms
from strata.api.s3 import xml
from strata.api.s3.actions import authorize, object_arn
from strata.api.s3.context import Call, S3Context
from strata.api.s3.encryption import encryption_headers, encryption_request
from strata.api.s3.handlers.objects import (
    check_key,
    new_object,
    payload_checks,
    version_header,
)
from strata.api.s3.handlers.tagging import parse_tagging
from strata.api.s3.routes import virtual_host_bucket
from strata.errors import ProtocolError
from strata.service.objects.integrity import DIGEST_BYTES

# Form fields that become the object's request headers (the rest are policy or auth).
_HEADER_FIELDS: Final = frozenset(
    {
        "cache-control", "content-type", "content-disposition", "content-encoding",
        "content-language", "expires", "x-amz-storage-class", "x-amz-server-side-encryption",
        "x-amz-website-redirect-location", "x-amz-object-lock-mode",
        "x-amz-object-lock-retain-until-date", "x-amz-object-lock-legal-hold",
    }
)  # fmt: skip
# Fields named otherwise as headers: the ACL, and the checksum algorithm to compute.
_FIELD_HEADERS: Final = {
    "acl": "x-amz-acl",
    "x-amz-checksum-algorithm": "x-amz-sdk-checksum-algorithm",
}
# Digests the file must match, as PutObject's headers of those names.
_CHECKSUM_FIELDS: Final = frozenset(
    {"content-md5", *(f"x-amz-checksum-{a.lower()}" for a in DIGEST_BYTES)}
)
_STATUSES: Final = frozenset({"200", "201", "204"})


def _not_form() -> ProtocolError:
    return ProtocolError(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        Condition="Bucket POST must be of the enclosure-type multipart/form-data",
    )


async def post_object(s3: S3Context, call: Call) -> Response:
    request = call.request
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise _not_form()
    s3.buckets.get(call.bucket)  # NoSuchBucket before anything is read
    reader = forms.FormReader(request)
    form = await reader.fields()
    principal = forms.authenticate(form, s3.keys)
    forms.substitute_filename(form)
    policy = None
    encoded = form.get("policy")
    if encoded is not None:
        policy = forms.parse_policy(encoded)
        forms.check_policy(policy, form, call.bucket, s3.objects.store.clock.now_s())
    key = form.get("key")
    if key is None:
        raise forms.must_contain("key")
    if not key:
        raise ProtocolError("InvalidArgument", "User key must have a length greater than 0.")
    check_key(key)
    if principal is not None:  # None: authentication is off
        call.request.principal = principal
        authorize(s3.access, call.request, "s3:PutObject", object_arn(call.bucket, key))
    # The fields that stand for headers, as a request of their own for the PutObject helpers.
    headers = {name: value for name, value in form.fields.items() if name in _HEADER_FIELDS}
    headers.update({name: v for name, v in form.fields.items() if name.startswith("x-amz-meta-")})
    for name, header in _FIELD_HEADERS.items():
        if name in form.fields:
            headers[header] = form.fields[name]
    headers.update({name: v for name, v in form.fields.items() if name in _CHECKSUM_FIELDS})
    as_put = Call(dataclasses.replace(request, headers=headers), call.bucket, key)
    new = new_object(s3, as_put)
    encryption = encryption_request(s3, as_put)
    checks = payload_checks(as_put)
    tagging = form.get("tagging")
    if tagging is not None:
        new.tags = parse_tagging(tagging.encode("utf-8"), bucket=False)
    body = reader.file()
    if policy is not None:
        body = forms.sized(body, policy.length_min, policy.length_max)
    bucket, version = await s3.objects.put(
        call.bucket,
        key,
        body,
        declared_size=form.size_bytes_max,
        new=new,
        checks=checks,
        encryption=encryption,
    )
    etag = f'"{version.etag}"'
    location = _location(call, key)
    headers_out = [("etag", etag), ("location", location)]
    headers_out += encryption_headers(version.encryption, encryption.customer)
    headers_out += version_header(bucket, version)
    redirect = form.get("success_action_redirect") or form.get("redirect")
    if redirect and urlsplit(redirect).scheme in ("http", "https"):
        query = urlencode({"bucket": call.bucket, "key": key, "etag": etag})
        target = f"{redirect}{'&' if '?' in redirect else '?'}{query}"
        return Response(status=303, headers=[*headers_out[:1], ("location", target)])
    status = form.get("success_action_status")
    if status not in _STATUSES:
        status = "204"
    if status == "201":
        document = xml.document(
            "PostResponse",
            xml.el("Location", location),
            xml.el("Bucket", call.bucket),
            xml.el("Key", key),
            xml.el("ETag", etag),
        )
        headers_out.append(("content-type", "application/xml"))
        return Response(status=201, headers=headers_out, body=document)
    return Response(status=int(status), headers=headers_out)


def _location(call: Call, key: str) -> str:
    """The object's URL as the client addressed the bucket."""
    request = call.request
    host = request.headers.get("host", "localhost")
    scheme = "https" if request.secure else "http"
    path = quote(key, safe="/~")
    if virtual_host_bucket(host) is not None:
        return f"{scheme}://{host}/{path}"
    return f"{scheme}://{host}/{quote(call.bucket)}/{path}"
