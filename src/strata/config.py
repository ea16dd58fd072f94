"""Server configuration: defaults, then a TOML file, then ``STRATA_*`` variables, then flags.

Every value is checked once at start-up; a bad one stops the server with a message that
names the setting, where it came from and what is expected.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec


class ConfigError(Exception):
    """A configuration value is missing, unreadable or out of range."""


class Config(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Every field has a row in docs/configuration.md and a line in docs/strata.sample.toml."""

    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: str = "./data"
    region: str = "us-east-1"
    # The one AWS account this instance is (ARNs, GetCallerIdentity); LocalStack's default.
    account_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{12}$")] = "000000000000"
    auth: bool = True  # SigV4 on every request; turn off only for experiments
    root_access_key: str | None = None
    root_secret_key: str | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    access_log: bool = False  # one log line per request (costs throughput)
    log_format: Literal["text", "json"] = "text"  # json: one JSON object per line
    server: Literal["uvicorn", "granian"] = "granian"  # measured: docs/benchmarks.md
    clock_offset_s: float = 0.0  # shifts the server's clock: lets tests jump in time
    # DynamoDB TTL: seconds between sweeps that delete expired items.
    ttl_sweep_interval_s: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    # A WAL that lost acknowledged writes: refuse to start ("strict"), or start with what
    # precedes the damage ("point-in-time", flag --recover-wal) or with every intact
    # record ("skip-corrupted"). Loss is logged at ERROR. See engine/rocksdb.py.
    wal_recovery: Literal["strict", "point-in-time", "skip-corrupted"] = "strict"
    # Start-up GC removes unreferenced blob files only while they are at most this share
    # of all blobs (or a few dozen): past it the database probably lost records, not the
    # blobs their references. 1.0 removes whatever is unreferenced.
    startup_gc_fraction_max: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.05
    # Seconds between background scrub passes over every blob (each verified against its
    # size and ETag, paced); 0 turns the scrub off.
    scrub_interval_s: Annotated[float, msgspec.Meta(ge=0)] = 86400.0
    # Bucket lifecycle (service/objects/lifecycle/engine.py): the longest wait between
    # passes (a pass also runs after each midnight UTC and when the clock moves), and the
    # object versions handled per chunk between pauses.
    lifecycle_interval_s: Annotated[float, msgspec.Meta(gt=0)] = 3600.0
    lifecycle_chunk_versions: Annotated[int, msgspec.Meta(ge=1)] = 500
    # Per-bucket and per-table metric series: the largest this many; the rest as "(other)".
    metrics_series_max: Annotated[int, msgspec.Meta(ge=1)] = 100
    # Disk space of the data directory's filesystem (storage/disk.py): a file of this
    # size is held back so the server can always start and clean up on a full disk;
    # writes are refused (503) below the minimum free; a warning is logged below the other.
    disk_reserve_bytes: Annotated[int, msgspec.Meta(ge=0)] = 64 * 1024 * 1024
    disk_free_min_bytes: Annotated[int, msgspec.Meta(ge=0)] = 32 * 1024 * 1024
    disk_free_warn_bytes: Annotated[int, msgspec.Meta(ge=0)] = 1024 * 1024 * 1024
    # Connections served at once; 0 sizes it from the open-file limit (listener.py).
    max_connections: Annotated[int, msgspec.Meta(ge=0)] = 0
    # An idle keep-alive connection is closed after this long without a request.
    keep_alive_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    # A connection must send a request's whole header section within this long.
    header_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    # TLS (tls.py): with a PEM certificate and its key the server speaks HTTPS, on
    # https_port beside plain HTTP on port, or (https_port 0) on port instead of HTTP.
    tls_cert: str = ""
    tls_key: str = ""
    https_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 0
    # The audit trail (service/audit): every API call as a CloudTrail record, kept this many
    # days by the store clock, written in one batch per flush interval.
    audit: bool = True
    audit_retention_days: Annotated[float, msgspec.Meta(gt=0)] = 90.0
    audit_flush_interval_s: Annotated[float, msgspec.Meta(gt=0, le=60)] = 0.2
    # A bucket the trail is also delivered to, as CloudTrail log files, every interval.
    audit_bucket: str | None = None
    audit_delivery_interval_s: Annotated[float, msgspec.Meta(gt=0)] = 300.0

    # Volumes (storage/volumes/): where object bytes live. Each directory defaults to
    # data_dir/volumes/<name>; a cold or archive volume may sit on another disk (snapshots
    # then cover only volumes inside the data directory).
    volume_hot_dir: str = ""
    volume_cold_dir: str = ""
    volume_archive_dir: str = ""
    # Storage classes mapped to another volume than the default, e.g.
    # "STANDARD_IA=hot,GLACIER_IR=archive" (defaults: storage/volumes/volume.py).
    storage_class_volumes: Annotated[
        str, msgspec.Meta(pattern=r"^([A-Z_]+=(hot|cold|archive)(,[A-Z_]+=(hot|cold|archive))*)?$")
    ] = ""

    # Compaction of extent files (storage/volumes/compaction.py): seconds between passes
    # (0 turns it off), the rate it reads live bytes at, and the share of a file that
    # must be garbage before it is rewritten.
    compaction_interval_s: Annotated[float, msgspec.Meta(ge=0)] = 60.0
    compaction_bytes_per_s: Annotated[float, msgspec.Meta(gt=0)] = 33554432.0
    compaction_garbage_fraction_min: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.5

    # The cost view (service/cost): price overrides by name, e.g.
    # "storage.STANDARD=0.021,dynamodb.write=0.625" (names: service/cost/prices.py), and
    # seconds between folds of metered requests into the store (a crash loses at most that).
    cost_prices: str = ""
    cost_flush_interval_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 10.0

    # Intelligent-Tiering and RestoreObject (service/objects/tiering/): seconds between
    # tiering passes, how often access times are written (the loss window), and the
    # factor on AWS's typical restore delays (0: restores complete at once).
    intelligent_tiering_interval_s: Annotated[float, msgspec.Meta(gt=0)] = 3600.0
    intelligent_tiering_access_flush_s: Annotated[float, msgspec.Meta(gt=0, le=60)] = 1.0
    restore_delay_scale: Annotated[float, msgspec.Meta(ge=0)] = 1.0

    # Encryption at rest (service/objects/encryption.py, storage/master_key.py): the master
    # key wrapping SSE-S3 data keys, base64 of 32 bytes (STRATA_MASTER_KEY), or a file
    # holding it; neither: data_dir/master.key, created at first start.
    master_key: str | None = None
    master_key_file: str = ""
    # SSE-C over plain HTTP: S3 refuses it; allow it only behind a TLS-terminating proxy
    # or for local tests.
    sse_c_http_allowed: bool = False

    def __repr__(self) -> str:  # never print the secrets
        hidden = ("root_secret_key", "master_key")
        fields = {f: getattr(self, f) for f in self.__struct_fields__ if f not in hidden}
        return f"Config({fields})"


_FIELDS = set(Config.__struct_fields__)


def _check(values: Mapping[str, Any], source: str) -> None:
    for name in values:
        if name not in _FIELDS:
            raise ConfigError(
                f"{source}: unknown setting '{name}' (known: {', '.join(sorted(_FIELDS))})"
            )


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in _FIELDS:
        raw = environ.get("STRATA_" + name.upper())
        if raw is not None:
            values[name] = raw
    return values


def load(
    path: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Build the configuration; raises ``ConfigError`` naming the bad setting."""
    environ = os.environ if environ is None else environ
    path = path or environ.get("STRATA_CONFIG")
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if path:
        try:
            with open(path, "rb") as handle:
                from_file = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist")
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}")
        section = from_file.get("strata", from_file)
        _check(section, f"config file {path}")
        merged.update(section)
        sources.update({k: f"config file {path}" for k in section})
    from_env = _from_env(environ)
    merged.update(from_env)
    sources.update({k: f"environment variable STRATA_{k.upper()}" for k in from_env})
    for name, value in (overrides or {}).items():
        if value is not None:
            merged[name] = value
            sources[name] = f"--{name.replace('_', '-')}"
    try:
        config = msgspec.convert(merged, Config, strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        name = text.rsplit("$.", 1)[-1].strip("`") if "$." in text else "?"
        where = sources.get(name, "configuration")
        raise ConfigError(f"bad value for '{name}' (from {where}): {text.split(' - at')[0]}")
    if not 0 < config.port < 65536:
        raise ConfigError(
            f"bad value for 'port' (from {sources.get('port', 'default')}): "
            f"{config.port} is not a TCP port (1-65535)"
        )
    if config.cost_prices:
        from strata.service.cost.prices import PriceError, Prices

        try:
            Prices.configured(config.cost_prices)
        except PriceError as exc:
            where = sources.get("cost_prices", "configuration")
            raise ConfigError(f"bad value for 'cost_prices' (from {where}): {exc}") from None
    if (config.root_access_key is None) != (config.root_secret_key is None):
        raise ConfigError("STRATA_ROOT_ACCESS_KEY and STRATA_ROOT_SECRET_KEY must be set together")
    _check_tls(config, sources)
    return config


def _check_tls(config: Config, sources: Mapping[str, str]) -> None:
    if bool(config.tls_cert) != bool(config.tls_key):
        raise ConfigError("tls_cert and tls_key must be set together (--tls-cert, --tls-key)")
    if config.https_port and not config.tls_cert:
        raise ConfigError(
            f"https_port (from {sources.get('https_port', 'configuration')}) needs tls_cert"
            " and tls_key"
        )
    if config.https_port and config.https_port == config.port:
        raise ConfigError(
            f"https_port {config.https_port} is also 'port': HTTP and HTTPS need two ports"
            " (https_port 0 serves HTTPS on 'port' alone)"
        )
