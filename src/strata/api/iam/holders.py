"""IAM handlers for what users, groups and roles hold: inline policies (Put/Get/Delete/
List{User,Group,Role}Policy) and attached managed policies (Attach/Detach/ListAttached...).

The three kinds behave alike, so each handler is made once per kind from its parameter
name (``UserName``, ``GroupName``, ``RoleName``) and its resource ARN."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import quote

from strata.api.iam.context import Call, Result, page
from strata.service.iam import records

Handler = Callable[[Call], Awaitable[Result]]

_KINDS: Final = (("User", records.USER), ("Group", records.GROUP), ("Role", records.ROLE))


def _resource(call: Call, kind: str, name: str) -> str:
    if kind == records.USER:
        return call.user_arn(name)
    if kind == records.GROUP:
        return call.group_arn(name)
    return call.role_arn(name)


def _handlers(word: str, kind: str) -> dict[str, Handler]:
    param = f"{word}Name"

    def target(call: Call) -> str:
        name = call.params[param]
        call.authorize(_resource(call, kind, name))
        return name

    async def put_policy(call: Call) -> Result:
        name = target(call)
        await call.services.holders.put_inline(
            kind, name, call.params["PolicyName"], call.params["PolicyDocument"]
        )
        return None

    async def get_policy(call: Call) -> Result:
        name = target(call)
        holder = call.services.holders.get(kind, name)
        policy_name, document = call.services.holders.get_inline(
            kind, name, call.params["PolicyName"]
        )
        return {
            param: holder.name,
            "PolicyName": policy_name,
            "PolicyDocument": quote(document, safe=""),
        }

    async def delete_policy(call: Call) -> Result:
        name = target(call)
        await call.services.holders.delete_inline(kind, name, call.params["PolicyName"])
        return None

    async def list_policies(call: Call) -> Result:
        name = target(call)
        names = call.services.holders.list_inline(kind, name)
        return page(names, call.params, "PolicyNames", lambda n: n, str.lower)

    async def attach(call: Call) -> Result:
        name = target(call)
        await call.services.holders.attach(kind, name, call.params["PolicyArn"])
        return None

    async def detach(call: Call) -> Result:
        name = target(call)
        await call.services.holders.detach(kind, name, call.params["PolicyArn"])
        return None

    async def list_attached(call: Call) -> Result:
        name = target(call)
        found = call.services.holders.attached(kind, name, call.params.get("PathPrefix", "/"))
        managed = call.services.managed
        return page(
            found,
            call.params,
            "AttachedPolicies",
            lambda p: {"PolicyName": p.name, "PolicyArn": managed.arn(p)},
            lambda p: p.name.lower(),
        )

    return {
        f"Put{word}Policy": put_policy,
        f"Get{word}Policy": get_policy,
        f"Delete{word}Policy": delete_policy,
        f"List{word}Policies": list_policies,
        f"Attach{word}Policy": attach,
        f"Detach{word}Policy": detach,
        f"ListAttached{word}Policies": list_attached,
    }


HANDLERS: Final[dict[str, Handler]] = {
    action: handler for word, kind in _KINDS for action, handler in _handlers(word, kind).items()
}
