"""Fixtures for the KMS end-to-end tests: a boto3 ``kms`` client, a fresh key per test.

``error_of`` (code, status, message) is the IAM tests' own."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from strata.remote import Credentials, Remote
from tests.conftest import client
from tests.e2e.iam.conftest import error_of
from tests.server import RunningServer

__all__ = ["advance_clock", "error_of", "found_under", "key_id", "kms", "kms_unchecked"]


@pytest.fixture(scope="session")
def kms(server: RunningServer) -> Any:
    return client(server, "kms")


@pytest.fixture(scope="session")
def kms_unchecked(server: RunningServer) -> Any:
    """A client that sends what it is given: the server's own validation answers."""
    return client(server, "kms", parameter_validation=False)


@pytest.fixture
def key_id(kms: Any) -> str:
    key_id: str = kms.create_key(Description="a test key")["KeyMetadata"]["KeyId"]
    return key_id


def advance_clock(server: RunningServer, seconds: float) -> None:
    """Move the store clock of ``server`` forward (a module's own server: never back)."""
    Remote(server.endpoint, Credentials(server.access_key, server.secret_key)).clock(
        {"advance_s": seconds}
    )


def found_under(directory: Path, needle: bytes) -> list[str]:
    """Every file under ``directory`` (WAL, SST, extent files, ...) that holds ``needle``."""
    hits = []
    for root, _, files in os.walk(directory):
        for name in files:
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as handle:
                    if needle in handle.read():
                        hits.append(path)
            except OSError:
                continue
    return hits
