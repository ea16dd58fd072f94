"""The HTTP server choices: what a plain install brings and what is missing at start."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import get_args, get_type_hints

from strata.config import Config
from strata.server import SERVER_MODULES

ROOT = Path(__file__).resolve().parents[2]


def runtime_distributions() -> set[str]:
    """Distribution names in pyproject's [project] dependencies (no extras)."""
    with open(ROOT / "pyproject.toml", "rb") as handle:
        project = tomllib.load(handle)["project"]
    names = {re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0] for spec in project["dependencies"]}
    return {name.lower().replace("_", "-") for name in names}


def test_every_server_choice_comes_with_a_plain_install() -> None:
    choices = get_args(get_type_hints(Config)["server"])
    assert set(choices) == set(SERVER_MODULES)
    assert Config().server in choices
    providers = importlib.metadata.packages_distributions()
    runtime = runtime_distributions()
    for server, modules in SERVER_MODULES.items():
        for module in modules:
            top = module.split(".", 1)[0]
            dists = {d.lower().replace("_", "-") for d in providers.get(top, [])}
            assert dists & runtime, f"{server}: {module} is not in [project] dependencies"


def test_missing_server_module_is_a_clear_message_not_a_traceback(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    code = (
        "import sys; sys.modules['granian'] = None; from strata.cli import main; "
        f"sys.exit(main(['server', '--data-dir', {str(data_dir)!r}, '--port', '1']))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_")}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 2
    assert "server 'granian' cannot start: module 'granian' is not importable" in result.stderr
    assert "STRATA_SERVER" in result.stderr
    assert "Traceback" not in result.stderr
    assert not data_dir.exists()  # nothing was started before the check
