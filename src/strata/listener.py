"""The listening socket and the descriptor budget, set up before the HTTP server starts.

We bind the socket ourselves, without SO_REUSEPORT: granian binds with it, so a second
server on a busy port would start silently and the kernel would split connections between
the two. Binding here makes a busy port an immediate, named error for either server.
"""

from __future__ import annotations

import errno
import resource
import socket

# Descriptors kept for RocksDB's files, blob files being streamed and the process itself;
# the rest of the limit is for connections.
FILES_RESERVED_MAX = 1024
FD_LIMIT_MAX = 1 << 20  # when the hard limit is "unlimited"


class ListenError(Exception):
    """The address cannot be listened on (in use, not local, not resolvable)."""


def bind(host: str, port: int, backlog: int) -> socket.socket:
    """A listening TCP socket on host:port, or ``ListenError`` naming it and why."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, backlog=backlog)
    except socket.gaierror as exc:
        raise ListenError(f"cannot listen on {where}: unknown host ({exc.strerror})")
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ListenError(
                f"cannot listen on {where}: address already in use"
                " (another server is running there; choose another --port)"
            )
        raise ListenError(f"cannot listen on {where}: {exc.strerror}")


def raise_fd_limit() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit; returns (before, after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = FD_LIMIT_MAX if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):
            return soft, soft
        return soft, wanted
    return soft, soft


def default_max_connections(fd_limit: int) -> int:
    """Connections that fit in ``fd_limit`` with room left for files: half, up to 1024 kept."""
    return max(16, fd_limit - min(fd_limit // 2, FILES_RESERVED_MAX))
