"""What the benchmark runs against: the PostgreSQL server, databases, and server processes.

The server is ``--database-url`` (or ``DATABASE_URL``) when given, otherwise a private embedded
PostgreSQL under ``bench/.data/`` (the same pgserver wheel ``make run`` uses). Servers are the
real ``switchboard serve`` and ``switchboard worker`` commands, started as subprocesses and
always stopped with SIGINT (SIGKILL after a bounded wait).
"""

from __future__ import annotations

import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

SWITCHBOARD = Path(sys.executable).parent / "switchboard"
BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / ".data"
STARTUP_TIMEOUT_S = 120.0
SHUTDOWN_TIMEOUT_S = 20.0
REDIS_URL = "redis://127.0.0.1:6379/0"


def database_url_for(server_url: str, dbname: str) -> str:
    """The URL of database ``dbname`` on the server ``server_url`` points at."""
    params = conninfo_to_dict(server_url)
    params["dbname"] = dbname
    return make_conninfo(**params)


def database_exists(server_url: str, dbname: str) -> bool:
    with psycopg.connect(server_url, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
    return row is not None


def drop_database(server_url: str, dbname: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def create_database(server_url: str, dbname: str, *, template: str | None = None) -> str:
    """Create ``dbname`` (a file-level copy of ``template`` when given); returns its URL."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        clause = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{dbname}"{clause}')
    return database_url_for(server_url, dbname)


def vacuum(database_url: str) -> float:
    """``VACUUM (ANALYZE)``: planner statistics, and the visibility map that lets a scan read
    an index alone, as a server's autovacuum keeps them (a copy made just now has neither
    gathered). Quick on a copy of a dataset that was vacuumed when built. Returns seconds."""
    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return round(time.perf_counter() - started, 1)


RELATIONS = (
    "SELECT c.oid, pg_relation_filepath(c.oid) AS path FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'i', 't') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
)


def prewarm(database_url: str) -> dict[str, Any]:
    """Bring a copy just made to the state of a server in service: vacuumed (``vacuum``),
    then every table and index read once into the OS cache: by ``pg_prewarm`` where the
    server has it, else (an embedded build without it) by reading the relations' files, when
    the server runs on this machine. Returns what was read, or why not."""
    started = time.perf_counter()
    vacuum_s = vacuum(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        except psycopg.Error as error:
            data_dir = Path(conn.execute("SHOW data_directory").fetchone()[0])
            if not data_dir.is_dir():  # a server on another machine
                return {"vacuum_s": vacuum_s, "prewarmed": False, "why": str(error).strip()}
            paths = [data_dir / path for _oid, path in conn.execute(RELATIONS) if path]
            blocks, how = _read_files(paths), "files read (no pg_prewarm)"
        else:
            blocks = conn.execute(
                f"SELECT coalesce(sum(pg_prewarm(oid, 'read')), 0) FROM ({RELATIONS}) r"
            ).fetchone()[0]
            how = "pg_prewarm"
    return {
        "vacuum_s": vacuum_s,
        "prewarmed": True,
        "how": how,
        "blocks": int(blocks),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _read_files(paths: list[Path]) -> int:
    """Read each relation's files (its 1 GB segments: ``path``, ``path.1``, ...) once; the
    8 kB blocks read."""
    read = 0
    for path in paths:
        segment = 0
        while (part := path.with_name(path.name + (f".{segment}" if segment else ""))).exists():
            with part.open("rb", buffering=0) as f:
                while chunk := f.read(1 << 20):
                    read += len(chunk)
            segment += 1
    return read // 8192


class PostgresServer:
    """The PostgreSQL the benchmark uses: a given URL, or a private embedded server."""

    def __init__(self, url: str | None, data_dir: Path = DATA_DIR) -> None:
        self._given = url
        self._data_dir = data_dir
        self._embedded: Any = None
        self.url = ""

    @property
    def embedded(self) -> bool:
        return self._embedded is not None

    def start(self) -> str:
        if self._given:
            self.url = self._given
        else:
            from infrastructure.database import EmbeddedPostgres

            self._data_dir.mkdir(parents=True, exist_ok=True)
            self._embedded = EmbeddedPostgres(self._data_dir)
            self.url = self._embedded.start().url
        return self.url

    def stop(self) -> None:
        if self._embedded is not None:
            self._embedded.stop()
            self._embedded = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_answers(url: str = REDIS_URL) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:
        return False


@dataclass
class Process:
    """One ``switchboard`` subprocess (``serve`` or ``worker``), ready once ``ready_path``
    answers 200 on its port."""

    name: str
    database_url: str
    workdir: Path
    command: list[str]
    ready_path: str
    admin_token: str
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def stderr_path(self) -> Path:
        return self.workdir / f"{self.name}.stderr"

    def env(self) -> dict[str, str]:
        inherited = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("SWITCHBOARD_") and key not in ("DATABASE_URL", "REDIS_URL")
        }
        return {
            **inherited,
            "DATABASE_URL": self.database_url,
            "SWITCHBOARD_ADMIN_TOKEN": self.admin_token,
            "SWITCHBOARD_LOG_LEVEL": "WARNING",
            "SWITCHBOARD_DB_POOL_SIZE": "4",
            "SWITCHBOARD_DATA": str(self.workdir / "data"),
            **self.extra_env,
        }

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        argv = [str(SWITCHBOARD), *[a.replace("{port}", str(self.port)) for a in self.command]]
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                argv,
                env=self.env(),
                cwd=self.workdir,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                raise RuntimeError(f"{self.name} exited with {code}:\n{self.stderr()}")
            try:
                response = httpx.get(f"{self.base_url}{self.ready_path}", timeout=1)
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)  # polling start-up
        self.stop()
        raise RuntimeError(f"{self.name} not ready in {STARTUP_TIMEOUT_S:g}s:\n{self.stderr()}")

    def stop(self) -> int | None:
        """SIGINT, as Ctrl-C would; SIGKILL after a bounded wait."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                return process.wait(timeout=SHUTDOWN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
        return process.wait()

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-5_000:]
        except FileNotFoundError:
            return ""

    def cpu_s(self) -> float | None:
        """CPU seconds (user and system) the process has used so far."""
        if self.process is None:
            return None
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float | None:
        """VmHWM of the process (and of its children, for a multi-process server): peak RSS."""
        if self.process is None:
            return None
        pids = [self.process.pid, *_children(self.process.pid)]
        peaks = [_vm_hwm_kb(pid) for pid in pids]
        known = [kb for kb in peaks if kb is not None]
        return round(max(known) / 1024, 1) if known else None


def api_server(database_url: str, workdir: Path, admin_token: str, **env: str) -> Process:
    return Process(
        name=f"api-{secrets.token_hex(2)}",
        database_url=database_url,
        workdir=workdir,
        command=["serve", "--host", "127.0.0.1", "--port", "{port}", "--worker", "external"],
        ready_path="/healthz",
        admin_token=admin_token,
        extra_env=env,
    )


def worker(database_url: str, workdir: Path, admin_token: str, **env: str) -> Process:
    return Process(
        name="worker",
        database_url=database_url,
        workdir=workdir,
        command=["worker", "--metrics-port", "{port}"],
        ready_path="/metrics",
        admin_token=admin_token,
        extra_env=env,
    )


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _vm_hwm_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


# -- the machine and the versions ------------------------------------------------------------


def machine() -> dict[str, Any]:
    """Cores, memory, CPU model and a summary of ``pg_test_fsync`` where that binary exists."""
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "memory_gb": _memory_gb(),
    }
    info["pg_test_fsync"] = pg_test_fsync()
    return info


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _pg_test_fsync_binary() -> str | None:
    found = shutil.which("pg_test_fsync")
    if found:
        return found
    candidates = []
    try:
        import pgserver

        candidates.append(Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_test_fsync")
    except ImportError:
        pass
    candidates.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_test_fsync")))
    return next((str(path) for path in candidates if path.exists()), None)


def pg_test_fsync(seconds: int = 1) -> dict[str, Any]:
    """Ops/s of the fsync methods (``pg_test_fsync -s 1`` in a scratch directory): the disk's
    flush rate bounds synchronously committed transactions per second."""
    binary = _pg_test_fsync_binary()
    if binary is None:
        return {"available": False, "note": "pg_test_fsync not found"}
    scratch = DATA_DIR / "fsync_test"
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        out = subprocess.run(
            [binary, "-s", str(seconds), "-f", str(scratch / "probe")],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as error:
        return {"available": False, "note": str(error)}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ops: dict[str, float] = {}
    section = ""
    for line in out.splitlines():
        stripped = line.strip()
        if stripped.startswith("Compare") or stripped.startswith("Non-sync"):
            section = stripped.split("(")[0].strip()
        if "ops/sec" in stripped:
            name = stripped.split("  ")[0].strip()
            try:
                value = float(stripped.split("ops/sec")[0].split()[-1])
            except ValueError:
                continue
            ops[f"{section}: {name}" if section else name] = value
    one_write = {
        k: v for k, v in ops.items() if k.startswith("Compare file sync methods using one")
    }
    best = max(one_write.values()) if one_write else (max(ops.values()) if ops else None)
    return {"available": True, "best_8kB_sync_ops_s": best, "ops_s": ops}


def versions(database_url: str) -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for package in ("eventsourcing", "fastapi", "uvicorn", "psycopg", "httpx"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    with psycopg.connect(database_url) as conn:
        found["postgres"] = conn.execute("SHOW server_version").fetchone()[0]
        found["synchronous_commit"] = conn.execute("SHOW synchronous_commit").fetchone()[0]
        found["fsync"] = conn.execute("SHOW fsync").fetchone()[0]
        found["shared_buffers"] = conn.execute("SHOW shared_buffers").fetchone()[0]
    return found
