"""Fixtures of the modules that move the store clock: each module its own server (the
clock only moves forward), started with the module's ``SERVER_ENV``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import client
from tests.e2e.s3.conftest import empty_bucket
from tests.server import RunningServer, start_server


@pytest.fixture(scope="module")
def data_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]) / "data"


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[RunningServer]:
    running = start_server(data_dir, env=getattr(request.module, "SERVER_ENV", None))
    yield running
    running.stop()  # the process the module's last restart left in it


@pytest.fixture
def s3(server: RunningServer) -> Any:
    return client(server, "s3", s3={"addressing_style": "path"})


@pytest.fixture
def bucket(s3: Any, unique_name: str) -> Iterator[str]:
    s3.create_bucket(Bucket=unique_name)
    yield unique_name
    empty_bucket(s3, unique_name)
