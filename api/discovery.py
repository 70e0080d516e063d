"""How the CLI finds a ``budgetkg serve`` running on the same data directory.

The server writes ``<data>/server.json`` (its URL, pid and store) once it answers requests and
removes it when it stops. A client believes the file only if that pid is alive and ``/api/health``
answers 200 within a short timeout, so a file left behind by a killed server is harmless.

Cheap to import (no numpy, no model): the CLI asks this before anything heavy loads. Requests go
through the standard library's ``urllib`` rather than httpx: on the loaded 2-core machine importing
httpx and making its client took ~0.4 s + ~0.25 s per client (an SSL context even for http://), urllib
~0.13 s — a third of the ~2 s budget of a CLI search answered by the server.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

SERVER_FILE = "server.json"
#: seconds a client waits for /api/health of an announced server before working without it
HEALTH_TIMEOUT = 2.0


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


def call(url: str, params: dict | None = None, form: dict | None = None, timeout: float | None = None) -> Reply:
    """GET ``url?params``, or POST ``form`` (URL-encoded); any HTTP status is a Reply. Raises OSError
    (urllib's URLError, a timeout, a refused connection) when there is no answer."""
    import urllib.error
    import urllib.parse
    import urllib.request

    if params:
        url += "?" + urllib.parse.urlencode(params)
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    # no proxy: the server is local, and an http_proxy of the environment would not reach it
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, data=data), timeout=timeout) as r:
            return Reply(r.status, dict(r.headers.items()), r.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return Reply(exc.code, dict(exc.headers.items()), exc.read())


@dataclass(frozen=True)
class ServerInfo:
    url: str  # e.g. http://127.0.0.1:8000
    pid: int
    store: str | None  # the remote store the server uses ($BUDGETKG_STORE), None for the embedded one
    started: float  # time.time() when it started answering


def server_file(data_dir: Path) -> Path:
    return Path(data_dir) / SERVER_FILE


def client_url(host: str, port: int) -> str:
    """The URL a local client uses to reach a server listening on ``host``:``port``."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def announce(data_dir: Path, url: str, store: str | None) -> None:
    """Write the server file (atomically: a client never reads half of it)."""
    path = server_file(data_dir)
    tmp = path.with_name(f".{SERVER_FILE}.{os.getpid()}")
    tmp.write_text(json.dumps(asdict(ServerInfo(url, os.getpid(), store, time.time()))), encoding="utf-8")
    os.replace(tmp, path)


def withdraw(data_dir: Path, pid: int | None = None) -> None:
    """Remove the server file if it is this process's (another server may have announced since)."""
    path = server_file(data_dir)
    info = read(data_dir)
    if info is not None and info.pid != (pid or os.getpid()):
        return
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def read(data_dir: Path) -> ServerInfo | None:
    """The announced server, alive or not; None when there is no readable file."""
    try:
        raw = json.loads(server_file(data_dir).read_text(encoding="utf-8"))
        return ServerInfo(url=str(raw["url"]), pid=int(raw["pid"]), store=raw.get("store"),
                          started=float(raw.get("started", 0)))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged file is as good as none: the CLI works on its own


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True


def find_server(data_dir: Path, store: str | None) -> ServerInfo | None:
    """The running server of this data directory and store that answers its health check, or None."""
    info = read(data_dir)
    if info is None or info.store != store or not pid_alive(info.pid):
        return None
    try:
        ok = call(info.url + "/api/health", timeout=HEALTH_TIMEOUT).status == 200
    except OSError:
        return None
    return info if ok else None
