"""A throwaway PostgreSQL cluster for the test session, or the one LABELWELL_TEST_POSTGRES_URL names.

The cluster lives in a temporary folder, listens on loopback only, and is stopped at the end.
PostgreSQL refuses to run as root, so as root it runs as Debian's `postgres` user."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class Cluster:
    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="labelwell-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            pwd.getpwnam("postgres")  # KeyError: the postgresql package did not create its user
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, text=True, cwd="/")

    def start(self) -> str:
        self.run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                 "-E", "UTF8", "--no-sync")
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self.run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"),
                 "-o", options, "-w", "-t", "60", "start")
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            self.run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def run_coroutine(fn):
    """asyncio.run in a thread of its own: Playwright's sync API keeps a loop running in this one."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(fn())).result()


def create_database(admin_url: str, name: str) -> str:
    """A fresh database on the server; returns its URL."""
    import asyncpg

    async def create() -> None:
        for attempt in range(50):
            try:
                conn = await asyncpg.connect(admin_url)
                break
            except (OSError, asyncpg.CannotConnectNowError):
                if attempt == 49:
                    raise
                time.sleep(0.2)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    run_coroutine(create)
    return admin_url.rsplit("/", 1)[0] + "/" + name


if __name__ == "__main__":
    # for .ci/run and developers: `python3 tests/pg.py start` prints the URL and the folder to stop
    import sys

    if sys.argv[1:2] == ["start"]:
        bin_dir = find_bin_dir()
        if bin_dir is None:
            sys.exit("PostgreSQL is not installed: apt-get install postgresql")
        cluster = Cluster(bin_dir)
        print(cluster.start(), cluster.dir)
    elif sys.argv[1:2] == ["stop"] and len(sys.argv) == 3:
        folder = Path(sys.argv[2])
        cluster = Cluster.__new__(Cluster)
        cluster.bin_dir, cluster.dir, cluster.data = find_bin_dir(), folder, folder / "data"
        cluster.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        cluster.stop()
    else:
        sys.exit("usage: python3 tests/pg.py start | stop FOLDER")
