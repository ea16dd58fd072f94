"""Shared fixtures: one real server per test session (per xdist worker), boto3 clients."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.server import RunningServer, start_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("strata") / "data")
    yield running
    running.stop()


def client(server: RunningServer, service: str, **config: Any) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
    )


@pytest.fixture(scope="session")
def s3(server: RunningServer) -> Any:
    return client(server, "s3", s3={"addressing_style": "path"})


@pytest.fixture(scope="session")
def dynamodb(server: RunningServer) -> Any:
    return client(server, "dynamodb")


@pytest.fixture
def unique_name() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"
