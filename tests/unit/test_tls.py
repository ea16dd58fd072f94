"""tls.py: the self-signed pair loads as a server context; bad pairs are named errors."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from strata import tls
from strata.config import ConfigError, load


def write_pair(folder: Path, name: str) -> tuple[str, str]:
    cert, key = str(folder / f"{name}-cert.pem"), str(folder / f"{name}-key.pem")
    tls.write_selfsigned(cert, key, ("localhost", "127.0.0.1"), 30)
    return cert, key


def test_selfsigned_pair_serves_and_verifies(tmp_path: Path) -> None:
    cert, key = write_pair(tmp_path, "a")
    context = tls.server_context(cert, key)
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    client = ssl.create_default_context(cafile=cert)
    assert client.cert_store_stats()["x509_ca"] == 1


def test_mismatched_key_is_refused(tmp_path: Path) -> None:
    cert, _ = write_pair(tmp_path, "a")
    _, other_key = write_pair(tmp_path, "b")
    with pytest.raises(tls.TlsError, match="cannot be used together"):
        tls.server_context(cert, other_key)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(tls.TlsError, match=r"certificate file .*none\.pem does not exist"):
        tls.server_context(str(tmp_path / "none.pem"), str(tmp_path / "key.pem"))


def test_existing_files_are_kept_without_force(tmp_path: Path) -> None:
    cert, key = write_pair(tmp_path, "a")
    before = Path(cert).read_bytes()
    with pytest.raises(tls.TlsError, match="exists"):
        tls.write_selfsigned(cert, key, ("localhost",), 30)
    assert Path(cert).read_bytes() == before
    tls.write_selfsigned(cert, key, ("localhost",), 30, force=True)
    assert Path(cert).read_bytes() != before


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"STRATA_TLS_KEY": "k.pem"}, "must be set together"),
        ({"STRATA_HTTPS_PORT": "4567"}, "needs tls_cert"),
        (
            {"STRATA_TLS_CERT": "c", "STRATA_TLS_KEY": "k", "STRATA_HTTPS_PORT": "4566"},
            "need two ports",
        ),
        ({"STRATA_HTTPS_PORT": "70000"}, "https_port"),
    ],
)
def test_tls_settings_are_checked(values: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(environ=values)
