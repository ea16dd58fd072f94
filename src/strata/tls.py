"""TLS for the server: the certificate check at start-up and ``strata tls selfsigned``.

The HTTP servers do the handshakes (granian in Rust, uvicorn through ``ssl``); this module
only makes sure, before any socket is bound, that the certificate and key load and belong
together, so a wrong path or a mismatched key is a one-line error naming the file instead
of a worker crashing after start-up. A self-signed certificate is for local use: clients
trust it by being given the file (boto3 ``verify=PATH``, ``AWS_CA_BUNDLE``).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from dataclasses import dataclass

SELFSIGNED_DAYS = 365
SELFSIGNED_HOSTS = ("localhost", "127.0.0.1", "::1")
# TLS 1.2 and later, as AWS's endpoints accept (their minimum since 2024).
MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2


class TlsError(Exception):
    """The certificate or key cannot be used (missing, unreadable, not PEM, mismatched)."""


def server_context(cert_path: str, key_path: str) -> ssl.SSLContext:
    """A server-side context with the certificate chain loaded, or ``TlsError`` saying why."""
    for what, path in (("certificate", cert_path), ("key", key_path)):
        if not os.path.isfile(path):
            raise TlsError(f"TLS {what} file {path} does not exist")
        if not os.access(path, os.R_OK):
            raise TlsError(f"TLS {what} file {path} is not readable")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = MINIMUM_VERSION
    try:
        context.load_cert_chain(cert_path, key_path)
    except ssl.SSLError as exc:
        raise TlsError(
            f"TLS certificate {cert_path} and key {key_path} cannot be used together"
            f" ({exc.reason or exc}): both must be PEM, the key unencrypted and the"
            " certificate's own"
        )
    return context


@dataclass(frozen=True, slots=True)
class SelfSigned:
    """A certificate and its private key, PEM-encoded."""

    cert_pem: bytes
    key_pem: bytes


def selfsigned(
    hosts: tuple[str, ...] = SELFSIGNED_HOSTS, days: int = SELFSIGNED_DAYS
) -> SelfSigned:
    """An ECDSA P-256 certificate for ``hosts`` (DNS names or IP addresses), valid ``days``.

    It is its own CA (basicConstraints CA:TRUE), so a client given the file as its trust
    store accepts it; the names go into subjectAltName, which is what clients check.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0] if hosts else "strata")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))  # clocks a little behind
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return SelfSigned(
        cert_pem=certificate.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def write_selfsigned(
    cert_path: str, key_path: str, hosts: tuple[str, ...], days: int, *, force: bool = False
) -> None:
    """Write a new pair; the key 0600. Existing files are kept unless ``force``."""
    if not force:
        for path in (cert_path, key_path):
            if os.path.exists(path):
                raise TlsError(f"{path} exists (--force replaces it)")
    pair = selfsigned(hosts, days)
    _write(key_path, pair.key_pem, 0o600)
    _write(cert_path, pair.cert_pem, 0o644)


def _write(path: str, data: bytes, mode: int) -> None:
    """Whole file or nothing: a temporary beside it, fsynced, then renamed over."""
    temporary = f"{path}.tmp-{os.getpid()}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
