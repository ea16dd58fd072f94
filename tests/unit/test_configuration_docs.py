"""docs/configuration.md and docs/strata.sample.toml cannot drift from ``Config``."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from strata.config import Config, load

DOCS = Path(__file__).resolve().parents[2] / "docs"
REFERENCE = DOCS / "configuration.md"
SAMPLE = DOCS / "strata.sample.toml"


def _rows() -> dict[str, tuple[str, str, str]]:
    """Setting -> (variable, default, meaning) from the reference's one table."""
    rows: dict[str, tuple[str, str, str]] = {}
    for line in REFERENCE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        name, variable, default, meaning = cells
        assert name.strip("`") not in rows, f"{name} has two rows"
        rows[name.strip("`")] = (variable.strip("`"), default.strip("`"), meaning)
    return rows


def _toml_value(text: str) -> Any:
    if text == "none":
        return None
    return tomllib.loads(f"value = {text}")["value"]


def test_every_setting_has_one_row() -> None:
    rows = _rows()
    missing = [f for f in Config.__struct_fields__ if f not in rows]
    unknown = [name for name in rows if name not in Config.__struct_fields__]
    assert not missing, f"docs/configuration.md lacks rows for {missing}"
    assert not unknown, f"docs/configuration.md documents settings Config does not have: {unknown}"


def test_rows_name_the_variable_and_default() -> None:
    defaults = Config()
    for name, (variable, default, meaning) in _rows().items():
        assert variable == f"STRATA_{name.upper()}", name
        expected = getattr(defaults, name)
        written = _toml_value(default)
        said = f"docs/configuration.md says {name} defaults to {default}; Config: {expected!r}"
        assert written == expected, said
        assert type(written) is type(expected), said
        assert meaning, f"{name} has no meaning"


def test_variables_in_the_table_are_read() -> None:
    """The documented variable really sets the setting (a non-default value each)."""
    config = load(environ={"STRATA_PORT": "4999", "STRATA_ACCESS_LOG": "true"})
    assert (config.port, config.access_log) == (4999, True)


def test_sample_loads_and_mentions_every_setting() -> None:
    text = SAMPLE.read_text()
    config = load(str(SAMPLE), environ={})
    assert repr(config) == repr(Config()), "the sample should show every default"
    for name in Config.__struct_fields__:
        assert re.search(rf"^(# )?{name} = ", text, re.MULTILINE), (
            f"docs/strata.sample.toml does not mention {name}"
        )
    section = tomllib.loads(text)["strata"]
    assert set(section) <= set(Config.__struct_fields__)
