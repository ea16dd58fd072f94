"""What authorization adds to a request, measured in-process: root vs an IAM user.

`python -m benchmarks.policy_cost [--calls 200000] [--reps 5]`

The authorization step of a request exactly as the S3 and DynamoDB handlers run it
(`api/s3/actions.authorize_route`, `api/dynamodb/actions.authorize`), on a real IAM
directory and a real store in a temporary directory: for the root user (the fast path),
and for a user with three attached managed policies, each with conditions (source IP,
secure transport, a listing prefix, the current time), so no decision is cached and every
request builds its condition context and evaluates the compiled statements. Also a user
whose policies have no conditions (the decision cache). The figure is `time.thread_time()`
per call, the median of `--reps` repetitions (min and max beside it).
"""

# ruff: noqa: E501 - the result table and the policies read best unwrapped

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from strata.api.dynamodb.actions import authorize as authorize_dynamodb
from strata.api.http import Request
from strata.api.s3.actions import authorize_route
from strata.api.s3.routes import resolve
from strata.service.iam import records
from strata.service.iam.access import AccessControl
from strata.service.iam.directory import Directory
from strata.service.iam.holders import PolicyHolders
from strata.service.iam.identities import DirectoryPolicies
from strata.service.iam.managed import ManagedPolicies
from strata.service.iam.policy.decider import PolicyDecider
from strata.service.iam.principal import Principal, root_principal, user_principal
from strata.service.iam.users import Users
from strata.service.objects.bucket_policies import BucketPolicies
from strata.storage.clock import SystemClock
from strata.storage.store import LocalStore

ACCOUNT = "000000000000"


def _policy(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


CONDITIONED = [
    _policy([{
        "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": "arn:aws:s3:::photos/${aws:username}/*",
        "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "127.0.0.0/8"]}},
    }]),
    _policy([{
        "Effect": "Deny", "Action": "s3:*", "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"},
                      "NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "127.0.0.0/8"]}},
    }]),
    _policy([{
        "Effect": "Allow", "Action": ["s3:ListBucket", "dynamodb:GetItem"], "Resource": "*",
        "Condition": {"StringLikeIfExists": {"s3:prefix": "${aws:username}/*"},
                      "DateLessThan": {"aws:CurrentTime": "2099-01-01T00:00:00Z"}},
    }]),
]  # fmt: skip
PLAIN = [
    _policy([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::photos/*"}]),
    _policy([{"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]),
    _policy([{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}]),
]


def _request(principal: Principal) -> Request:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    path = "/photos/alice/cat.jpg"
    scope = {
        "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
        "headers": [(b"host", b"localhost:4566")], "client": ("127.0.0.1", 5555),
    }  # fmt: skip
    request = Request.from_scope(scope, receive)
    request.principal = principal
    return request


async def _user(users: Users, holders: PolicyHolders, managed: ManagedPolicies,
                name: str, documents: list[str]) -> Principal:  # fmt: skip
    user = await users.create(name)
    for number, document in enumerate(documents):
        created = await managed.create(f"{name}-{number}", document)
        await holders.attach(records.USER, name, managed.arn(created))
    key = await users.create_key(name)
    return user_principal(ACCOUNT, name, user.user_id, key.access_key)


def _cases(
    access: AccessControl, label: str, request: Request
) -> list[tuple[str, Callable[[], None]]]:
    route = resolve(request)
    item = {"TableName": "T", "Key": {"pk": {"S": "a"}}}
    return [
        (f"S3 GetObject, {label}", lambda: authorize_route(access, request, route)),
        (f"DynamoDB GetItem, {label}", lambda: authorize_dynamodb(access, request, "GetItem", item, "us-east-1")),
    ]  # fmt: skip


def _per_call_ns(call: Callable[[], None], calls: int, reps: int) -> tuple[float, float, float]:
    figures = []
    for _ in range(reps):
        started = time.thread_time()
        for _ in range(calls):
            call()
        figures.append((time.thread_time() - started) / calls * 1e9)
    return statistics.median(figures), min(figures), max(figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clock = SystemClock()
        store = LocalStore(str(Path(tmp) / "db"), clock)
        directory = Directory(store)
        managed = ManagedPolicies(directory, clock, ACCOUNT)
        holders = PolicyHolders(directory, managed)
        users = Users(directory, clock)
        alice = asyncio.run(_user(users, holders, managed, "alice", CONDITIONED))
        bob = asyncio.run(_user(users, holders, managed, "bob", PLAIN))
        identities = DirectoryPolicies(directory, managed)
        decider = PolicyDecider(identities, (BucketPolicies(store),), clock.now_s, identities.tags)
        access = AccessControl(decider)
        principals = [
            ("root", root_principal(ACCOUNT)),
            ("alice: 3 policies with conditions", alice),
            ("bob: 3 policies, no conditions", bob),
        ]
        cases: list[tuple[str, Callable[[], None]]] = []
        for label, principal in principals:
            cases += _cases(access, label, _request(principal))
        # every request from another source address: the decision cache never hits
        fresh = _request(alice)
        addresses = iter(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" for i in range(10**8))

        def another_address() -> None:
            fresh.client_host = next(addresses)
            authorize_route(access, fresh, resolve(fresh))

        cases.append(("S3 GetObject, alice, a new source IP each time", another_address))
        for label, call in cases:
            call()  # allowed, else it raises here
            median, low, high = _per_call_ns(call, args.calls, args.reps)
            print(
                f"{label:<50} {median / 1000:6.2f} us  (min {low / 1000:.2f}, max {high / 1000:.2f})"
            )
        store.close()


if __name__ == "__main__":
    main()
