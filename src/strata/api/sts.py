"""STS on the shared port: query-protocol POSTs whose SigV4 credential scope names
``sts``: GetCallerIdentity, AssumeRole, GetSessionToken (``service/iam/sessions.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from strata.api.iam.handler import QueryApi
from strata.api.iam.model import STS, STS_ALL
from strata.api.query import Value, string_list, tag_list, timestamp
from strata.service.iam.errors import IamValidationError
from strata.service.iam.principal import Principal
from strata.service.iam.records import SessionRecord
from strata.service.iam.sessions import SessionExtras, Sessions, packed_percent

Handler = Callable[[Sessions, Principal, dict[str, str]], Awaitable[dict[str, Value]]]


def _credentials(session: SessionRecord) -> dict[str, Value]:
    return {
        "AccessKeyId": session.access_key,
        "SecretAccessKey": session.secret_key,
        "SessionToken": session.token,
        "Expiration": timestamp(session.expires_s),
    }


async def get_caller_identity(
    sessions: Sessions, principal: Principal, params: dict[str, str]
) -> dict[str, Value]:
    # Needs no permission: AWS answers it even when every action is denied.
    return {"UserId": principal.user_id, "Account": principal.account_id, "Arn": principal.arn}


async def assume_role(
    sessions: Sessions, principal: Principal, params: dict[str, str]
) -> dict[str, Value]:
    extras = SessionExtras(
        policy_arns=tuple(_policy_arns(params)),
        tags=tuple(tag_list(params)),
        transitive_tag_keys=tuple(string_list(params, "TransitiveTagKeys")),
        source_identity=params.get("SourceIdentity"),
    )
    session, role = await sessions.assume_role(
        principal,
        params["RoleArn"],
        params["RoleSessionName"],
        int(params.get("DurationSeconds") or 3600),
        params.get("Policy"),
        params.get("ExternalId"),
        extras,
    )
    result: dict[str, Value] = {
        "Credentials": _credentials(session),
        "AssumedRoleUser": {
            "AssumedRoleId": f"{role.role_id}:{session.session_name}",
            "Arn": f"arn:aws:sts::{principal.account_id}:assumed-role/{role.name}/"
            f"{session.session_name}",
        },
    }
    if session.session_policy is not None or session.policy_arns or session.tags:
        result["PackedPolicySize"] = packed_percent(
            session.session_policy, session.policy_arns, session.tags
        )
    if session.source_identity is not None:
        result["SourceIdentity"] = session.source_identity
    return result


def _policy_arns(params: dict[str, str]) -> list[str]:
    """``PolicyArns.member.N.arn``, up to the first gap."""
    found = string_list(params, "PolicyArns", "arn")
    if len(found) > POLICY_ARNS_MAX:
        raise IamValidationError(
            "1 validation error detected: Value at 'policyArns' failed to satisfy constraint:"
            f" Member must have length less than or equal to {POLICY_ARNS_MAX}"
        )
    return found


POLICY_ARNS_MAX: Final = 10  # managed session policies per AssumeRole


async def get_session_token(
    sessions: Sessions, principal: Principal, params: dict[str, str]
) -> dict[str, Value]:
    session = await sessions.session_token(principal, int(params.get("DurationSeconds") or 43200))
    return {"Credentials": _credentials(session)}


HANDLERS: Final[dict[str, Handler]] = {
    "GetCallerIdentity": get_caller_identity,
    "AssumeRole": assume_role,
    "GetSessionToken": get_session_token,
}


class StsApi(QueryApi):
    name = "sts"
    namespace = "https://sts.amazonaws.com/doc/2011-06-15/"
    version = "2011-06-15"
    known = STS_ALL
    members = STS

    def __init__(self, sessions: Sessions) -> None:
        super().__init__(sessions.account_id)
        self.sessions = sessions

    async def call(
        self, action: str, principal: Principal, params: dict[str, str]
    ) -> dict[str, Value] | None:
        return await HANDLERS[action](self.sessions, principal, params)
