"""The S3 protocol entry point: route, call the handler, add CORS headers, render errors.

Checks every operation shares happen here, before the handler: a payload's length, and
SSE-C headers, which S3 refuses over plain HTTP (and Strata does not implement behind
TLS either).
"""

from __future__ import annotations

from typing import Final

from strata.api.cost import meter_s3
from strata.api.http import Request, Response
from strata.api.s3.actions import authorize_route
from strata.api.s3.context import Call, S3Context
from strata.api.s3.errors import render_error
from strata.api.s3.form import is_form_upload
from strata.api.s3.handlers import HANDLERS
from strata.api.s3.handlers.cors import response_cors_headers
from strata.api.s3.routes import resolve, split_target
from strata.errors import ProtocolError, StrataError
from strata.service.cost.usage import S3Usage
from strata.service.iam.access import AccessControl
from strata.service.iam.principal import DEFAULT_ACCOUNT_ID, KeyLookup, anonymous_principal
from strata.service.objects.buckets import BucketService
from strata.service.objects.lifecycle.configs import LifecycleConfigs
from strata.service.objects.objects import ObjectService

# Operations whose payload S3 will not take without a length: no Content-Length and no
# chunked Transfer-Encoding is 411 MissingContentLength.
LENGTH_REQUIRED: Final = frozenset({"PutObject", "UploadPart"})
_SIGNATURE_PARAMETERS: Final = (
    "X-Amz-Signature", "X-Amz-Algorithm", "X-Amz-Credential", "AWSAccessKeyId", "Signature",
)  # fmt: skip


def unsigned(request: Request) -> bool:
    """No signature of any kind: neither an Authorization header nor presigned parameters."""
    if "authorization" in request.headers:
        return False
    return not any(name in request.query for name in _SIGNATURE_PARAMETERS)


class S3Api:
    name = "s3"
    request_id_header = "x-amz-request-id"

    def __init__(
        self,
        buckets: BucketService,
        objects: ObjectService,
        region: str,
        keys: KeyLookup | None = None,
        access: AccessControl | None = None,
        account_id: str = DEFAULT_ACCOUNT_ID,
        lifecycle: LifecycleConfigs | None = None,
        usage: S3Usage | None = None,
    ) -> None:
        self.context = S3Context(
            buckets, objects, region, keys, access or AccessControl(), lifecycle
        )
        self.account_id = account_id
        self.usage = usage  # requests by tier and class, for the cost view

    def anonymous(self, request: Request) -> bool:
        """CORS preflights carry no signature; a POST Object form signs its policy field,
        which ``form.py`` verifies; an unsigned request is the anonymous principal's, which
        a bucket policy may let in."""
        return request.method == "OPTIONS" or is_form_upload(request) or unsigned(request)

    async def handle(self, request: Request) -> Response:
        if (
            request.principal is None
            and request.method != "OPTIONS"
            and not is_form_upload(request)
            and unsigned(request)
        ):
            request.principal = anonymous_principal(self.account_id)
        route = resolve(request)
        request.operation = route.operation
        request.resource = f"{route.bucket}/{route.key}" if route.key else route.bucket
        authorize_route(self.context.access, request, route, self._existing_tags)
        if (
            route.operation in LENGTH_REQUIRED
            and "content-length" not in request.headers
            and "transfer-encoding" not in request.headers
        ):
            raise ProtocolError(
                "MissingContentLength", "You must provide the Content-Length HTTP header.", 411
            )
        handler = HANDLERS.get(route.operation)
        if handler is None:
            raise ProtocolError(
                "NotImplemented",
                "A header you provided implies functionality that is not implemented",
                501,
            )
        response = await handler(self.context, Call(request, route.bucket, route.key))
        if self.usage is not None:
            meter_s3(self.usage, request, route.bucket, response)
        if "origin" in request.headers and request.method != "OPTIONS":
            response.headers += response_cors_headers(self.context, route.bucket, request)
        return response

    def _existing_tags(
        self, bucket: str, key: str, version_id: str | None
    ) -> list[tuple[str, str]]:
        """The tags of the object a call names (none if it does not exist or the version
        id is not one of ours: the call itself answers that)."""
        objects = self.context.objects
        try:
            version = (
                objects.find_version(bucket, key, version_id)
                if version_id is not None
                else objects.current(bucket, key)
            )
        except StrataError:
            return []
        return list(version.tags or []) if version is not None else []

    def error_response(self, exc: StrataError, request: Request) -> Response:
        response = render_error(exc, request)
        if "origin" in request.headers and request.method != "OPTIONS":
            # S3 evaluates CORS for failed requests too: a browser must be able to read the error.
            try:
                bucket, _ = split_target(request)
            except StrataError:
                return response
            response.headers += response_cors_headers(self.context, bucket, request)
        return response
