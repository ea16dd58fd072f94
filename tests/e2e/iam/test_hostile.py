"""Hostile query-protocol input: every IAM and STS action with each member given garbage
(wrong types, huge and empty values, odd characters, list members past their bounds),
sent by hand, signed so each reaches the handlers. Never a 5xx."""

from __future__ import annotations

import random
from typing import Any

from strata.api.iam.model import IAM, STS
from tests.e2e.iam.conftest import query
from tests.server import RunningServer

SEED = 12
GARBAGE = (
    "",
    "x" * 70_000,
    "-1",
    "99999999999999999999",
    "1.5",
    "true",
    "nan",
    "\u00ff\u00fe",
    "<x>&amp;</x>",
    "{",
    '{"Version":"2012-10-17","Statement":[]}',
    '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}',
    "arn:aws:iam::000000000000:policy/",
    "arn:aws:iam::aws:policy/x/y",
    "arn:aws:iam::000000000000:role/",
    "v0",
    "/a//b/",
    "Active",
    "\x00",
)


def _value(rng: random.Random) -> str:
    return rng.choice(GARBAGE)


def _params(rng: random.Random, members: tuple[Any, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, _required, kind, *_ in members:
        if rng.random() < 0.2:
            continue
        if kind == "list":
            for index in range(1, rng.choice((1, 2, 60)) + 1):
                params[f"{name}.member.{index}"] = _value(rng)
                params[f"{name}.member.{index}.Key"] = _value(rng)
                params[f"{name}.member.{index}.Value"] = _value(rng)
        else:
            params[name] = _value(rng)
    return params


def test_garbage_never_answers_5xx(server: RunningServer) -> None:
    rng = random.Random(SEED)
    for service, version, table in (("iam", "2010-05-08", IAM), ("sts", "2011-06-15", STS)):
        for action, members in table.items():
            for _ in range(4):
                params = {"Action": action, "Version": version, **_params(rng, members)}
                status, body = query(server, service, params)
                assert status < 500, (action, params, body[:500])
