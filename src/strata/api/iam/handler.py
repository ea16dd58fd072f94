"""IAM on the shared port: query-protocol POSTs whose SigV4 credential scope names
``iam``. Parameters are checked against botocore's model, then one handler per action
runs with the caller's principal; each handler authorizes ``iam:<Action>`` on the
resource ARN as AWS names it before it looks at anything."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from strata import limits
from strata.api.http import Request, Response
from strata.api.iam import groups, holders, policies, roles, users
from strata.api.iam.context import Call, IamServices, Result
from strata.api.iam.errors import error_response
from strata.api.iam.model import IAM, IAM_ALL, Member
from strata.api.query import CONTENT_TYPE, check, parse_form, render_result
from strata.errors import ProtocolError, StrataError
from strata.service.iam.principal import Principal, root_principal

HANDLERS: Final = {
    **users.HANDLERS,
    **groups.HANDLERS,
    **policies.HANDLERS,
    **holders.HANDLERS,
    **roles.HANDLERS,
}


async def read_params(request: Request) -> dict[str, str]:
    """The form body's parameters, after the query string's (GET-style calls)."""
    body = await request.body.read(limits.query_body_bytes_max)
    params = dict(request.query)
    params.update(parse_form(body))
    return params


class QueryApi:
    """One query-protocol service (IAM, STS): Action -> checked parameters -> ``call``."""

    request_id_header = "x-amzn-RequestId"
    namespace: str
    version: str
    known: tuple[str, ...]  # every action the service has (the rest: InvalidAction)
    members: Mapping[str, tuple[Member, ...]]  # the actions answered, and their members

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id

    def anonymous(self, request: Request) -> bool:
        return False

    async def call(self, action: str, principal: Principal, params: dict[str, str]) -> Result:
        raise NotImplementedError

    async def handle(self, request: Request) -> Response:
        params = await read_params(request)
        action = params.get("Action")
        request.operation = action if action in self.known else "unknown"
        if action is None:
            raise ProtocolError("MissingAction", "Missing Action", 400)
        if action not in self.members:
            if action in self.known:
                raise ProtocolError("NotImplemented", f"{action} is not implemented yet", 501)
            raise ProtocolError(
                "InvalidAction", f"Could not find operation {action} for version {self.version}"
            )
        check(self.members[action], params)
        principal = request.principal or root_principal(self.account_id)
        result = await self.call(action, principal, params)
        body = render_result(action, result, request.request_id, self.namespace)
        return Response(status=200, headers=[("content-type", CONTENT_TYPE)], body=body)

    def error_response(self, exc: StrataError, request: Request) -> Response:
        return error_response(exc, request, self.namespace)


class IamApi(QueryApi):
    name = "iam"
    namespace = "https://iam.amazonaws.com/doc/2010-05-08/"
    version = "2010-05-08"
    known = IAM_ALL
    members = IAM

    def __init__(self, services: IamServices) -> None:
        super().__init__(services.account_id)
        self.services = services

    async def call(self, action: str, principal: Principal, params: dict[str, str]) -> Result:
        return await HANDLERS[action](Call(self.services, principal, action, params))
