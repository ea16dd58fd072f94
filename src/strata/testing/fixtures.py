"""The pytest fixtures of the ``strata`` plugin (loaded by ``strata.testing`` when pytest
is installed). Session-scoped where a server or client is made, so one server serves the
whole run (one per xdist worker); nothing starts unless a test uses a fixture."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from strata.testing import Server


@pytest.fixture(scope="session")
def strata_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real Strata server for the session: ``endpoint_url``, ``client_kwargs()``..."""
    with Server(tmp_path_factory.mktemp("strata") / "data") as server:
        yield server


@pytest.fixture(scope="session")
def s3_client(strata_server: Server) -> Any:
    """A boto3 S3 client on ``strata_server`` (path-style addressing)."""
    from botocore.config import Config

    return strata_server.client("s3", config=Config(s3={"addressing_style": "path"}))


@pytest.fixture(scope="session")
def dynamodb_client(strata_server: Server) -> Any:
    """A boto3 DynamoDB client on ``strata_server``."""
    return strata_server.client("dynamodb")


@pytest.fixture
def strata_reset(strata_server: Server) -> Server:
    """An empty store for this test: ``strata_server`` reset before it runs."""
    strata_server.reset()
    return strata_server
