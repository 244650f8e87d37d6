"""The `labelwell` command: serve, worker, migrate, createuser, token."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from app.settings import ROOT, env, settings

if TYPE_CHECKING:
    from collections.abc import Callable

DESCRIPTION = """Labelwell: a self-hosted data-annotation workbench.

Settings come from environment variables (DATABASE_URL, LABELWELL_DATA_DIR, ...);
the README lists them all. With none set, data lives in ./data on SQLite."""


def worker_command(concurrency: int) -> list[str]:
    # `python -m celery` (not the celery script) keeps the project root importable in the
    # worker's task processes, where piccolo_conf is looked up by module name
    # --quiet and warnings only: no banner and no line per job; app/worker.py says when it is ready
    return [sys.executable, "-m", "celery", "-A", "app.worker:celery_app", "--quiet", "worker",
            "--loglevel", "WARNING", "--concurrency", str(concurrency)]


def worker_env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT)}


# how `labelwell serve` stops its worker after a SIGTERM or SIGINT, counted from the signal: a
# warm shutdown first (the job in hand finishes), then a cold one (the job is handed back and
# marked interrupted), then SIGKILL; all within the 10 s a supervisor (docker stop) waits
WORKER_WARM_SECONDS = 6.5  # an idle Celery worker takes 4 to 6 s to stop warm
WORKER_COLD_SECONDS = 1.5
MARK_BEFORE_SECONDS = 9.0  # past this, the jobs left running are left for the next start to mark


def _die_with(prctl: Callable[..., int], parent: int) -> None:
    """In the worker's process, before it runs Celery: should `labelwell serve` die without
    stopping it (kill -9), the kernel sends it SIGTERM, so no worker lives on under init."""
    prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the server died before the line above
        os.kill(os.getpid(), signal.SIGTERM)


def start_worker(concurrency: int) -> subprocess.Popen:
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: the child only calls it
    except (OSError, AttributeError):  # not Linux
        return subprocess.Popen(worker_command(concurrency), env=worker_env(), cwd=ROOT)
    return subprocess.Popen(worker_command(concurrency), env=worker_env(), cwd=ROOT,
                            preexec_fn=functools.partial(_die_with, prctl, os.getpid()))


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    fields = fh.read().rpartition(b")")[2].split()
            except OSError:
                continue
            if len(fields) > 1 and int(fields[1]) == pid:
                found.append(int(entry))
    return found


def stop_worker(worker: subprocess.Popen, since: float) -> None:
    """Warm shutdown, then cold, then kill (its pool processes too), by the deadlines above."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)  # again, harmless: Celery is already in its warm shutdown
    steps = ((since + WORKER_WARM_SECONDS, signal.SIGQUIT), (since + WORKER_WARM_SECONDS + WORKER_COLD_SECONDS, None))
    for until, then in steps:
        try:
            worker.wait(timeout=max(0.0, until - time.monotonic()))
            return
        except subprocess.TimeoutExpired:
            pass
        if then is not None:
            print(f"The worker is still busy after {WORKER_WARM_SECONDS:g} s: stopping it cold.", flush=True)
            worker.send_signal(then)
    print("The worker did not stop: killing it.", flush=True)
    for pid in [*_children(worker.pid), worker.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    worker.wait(timeout=5)


def fail_interrupted() -> None:
    """The jobs the stopped worker left running are failed now, not at the next start."""
    from app.system import recovery

    try:
        asyncio.run(recovery.fail_orphans(None))
    except Exception as exc:  # the next worker to start does it anyway
        print(f"Jobs left running could not be marked interrupted ({type(exc).__name__}: {exc})", flush=True)


async def _prepare() -> tuple[int, tuple | None]:
    from app import bootstrap
    from app.db import migrate

    applied = await migrate()
    return applied, await bootstrap.first_admin()


def start_lines(host: str, port: int, applied: int, admin: tuple | None, args: argparse.Namespace) -> list[str]:
    """What a start prints: a few lines a person reads (the server's own logs stay at warnings)."""
    from importlib.metadata import version

    from app import bootstrap

    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    database = settings.database_url.split("@")[-1]  # no password in the output
    schema = f"{applied} migration(s) applied" if applied else "up to date"
    if settings.broker_url.startswith("filesystem://"):
        broker = f"the data folder ({settings.broker_dir}), no broker server needed"
    else:
        broker = settings.broker_url.split("@")[-1]
    lines = [f"Labelwell {version('labelwell')} is running: http://{shown}:{port}", *bootstrap.admin_lines(admin),
             f"  Data:      {settings.data_dir}", f"  Database:  {database} ({schema})", f"  Broker:    {broker}"]
    if (media := media_or_exit()) is not None:
        lines.append(f"  Uploads:   {media}")
    if args.no_worker:
        lines.append("  Worker:    not started here (--no-worker): run `labelwell worker` for background jobs")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        lines.append("  Note:      running as root; nothing here needs it: where you can, run Labelwell as a normal user")
    return lines


def media_or_exit() -> str | None:
    """Where uploads are kept when LABELWELL_MEDIA_URL names a bucket; an address that is none stops
    the start, naming it, rather than failing every upload later."""
    if not env("LABELWELL_MEDIA_URL"):
        return None
    from app.uploads import media_store

    try:
        media_store.current()
    except ValueError as exc:
        raise SystemExit(f"labelwell: {exc}") from None
    return media_store.describe()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    media_or_exit()

    # the worker and the ML code read these to tell a backend where this server is
    if args.host:
        os.environ["LABELWELL_HOST"] = args.host
    if args.port:
        os.environ["LABELWELL_PORT"] = str(args.port)
    host, port = args.host or settings.host, args.port or settings.port
    # before the worker starts, so it never meets an old schema, and the first admin before the
    # server starts, so it can be said here (the app's start-up hook then finds nothing to do)
    applied, admin = asyncio.run(_prepare())
    config = uvicorn.Config("app.asgi:app", host=host, port=port, log_level=args.log_level,
                            # forwarded headers only from the proxies named in LABELWELL_TRUSTED_PROXIES
                            proxy_headers=bool(settings.trusted_proxies),
                            forwarded_allow_ips=list(settings.trusted_proxies) or None,
                            timeout_graceful_shutdown=3)
    worker: subprocess.Popen | None = None
    stopping: list[float] = []

    def begin_stop() -> None:
        if not stopping:
            stopping.append(time.monotonic())
            if worker is not None and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)  # its warm shutdown runs while the web server drains

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: object) -> None:
            begin_stop()
            super().handle_exit(sig, frame)

    server = Server(config)

    def on_signal(sig: int, frame: object) -> None:
        # outside uvicorn's own handling: before it starts, while the worker stops, and the
        # signal uvicorn raises again when it is done (which would otherwise end the process
        # before the worker is stopped)
        begin_stop()
        server.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    for line in start_lines(host, port, applied, admin, args):
        print(line, flush=True)
    if not args.no_worker:
        worker = start_worker(args.concurrency)  # it says "Worker: ready" itself
    try:
        server.run()
    finally:
        if worker is not None:
            begin_stop()
            stop_worker(worker, stopping[0])
            if time.monotonic() - stopping[0] < MARK_BEFORE_SECONDS:
                fail_interrupted()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    # become Celery rather than wait for it: a SIGTERM (docker stop) then reaches Celery itself,
    # which finishes its job and removes its heartbeat instead of being orphaned
    media_or_exit()
    os.chdir(ROOT)
    command = worker_command(args.concurrency)
    os.execve(command[0], command, worker_env())


def cmd_migrate(_: argparse.Namespace) -> int:
    from app.db import migrate

    asyncio.run(migrate())
    return 0


def cmd_createuser(args: argparse.Namespace) -> int:
    from app.accounts import service
    from app.db import migrate
    from app.errors import InputError

    async def create() -> None:
        await migrate()
        data = {"email": args.email, "password": args.password, "role": args.role,
                "first_name": args.first_name, "last_name": args.last_name}
        user = await service.create_user(data, token=args.token)
        print(f"Created {user.role} {user.email} (id {user.id})")

    try:
        asyncio.run(create())
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    """A script's first key without a browser: the user's API token (`--reset`: a new one)."""
    from app.accounts import service
    from app.db import migrate
    from app.tables import User

    async def show() -> str | None:
        await migrate(quiet=True)
        user = await User.objects().where(User.email == args.email.strip().lower()).first()
        if user is None or not user.is_active:
            return None
        return await (service.reset_token(user) if args.reset else service.token_of(user))

    key = asyncio.run(show())
    if key is None:
        print(f"error: no active user with the email {args.email}", file=sys.stderr)
        return 2
    print(key)
    return 0


def cmd_model_serve(args: argparse.Namespace) -> int:
    """The project's built-in model as a label_studio_ml backend."""
    import uvicorn

    from app.asgi import model_server

    print(f"Serving the built-in model of project {args.project} as a label_studio_ml backend at "
          f"http://{args.host}:{args.port} (/health, /setup, /predict, /webhook)", flush=True)
    uvicorn.run(model_server(args.project), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labelwell", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the web server (and a background worker)",
                                description="Apply database migrations, create the first admin if there is no user "
                                "yet, and serve the web app. A background worker starts alongside unless --no-worker "
                                "is given (then run `labelwell worker` yourself, e.g. in another container).")
    serve.add_argument("--host", help=f"address to listen on (default: LABELWELL_HOST or {settings.host})")
    serve.add_argument("--port", type=int, help=f"port to listen on (default: LABELWELL_PORT or {settings.port})")
    serve.add_argument("--no-worker", action="store_true", help="do not start the background worker")
    serve.add_argument("--concurrency", type=int, default=1, help="worker processes to start (default: 1)")
    serve.add_argument("--log-level", default="warning",
                       help="the web server's log level: warning (default), info (also every request), debug")
    serve.set_defaults(func=cmd_serve)

    worker = commands.add_parser("worker", help="run only the background worker (Celery)",
                                 description="Run the Celery worker that does imports, exports and ML predictions. "
                                 "It reads jobs from CELERY_BROKER_URL (by default a folder in the data directory, "
                                 "so no broker server is needed).")
    worker.add_argument("--concurrency", type=int, default=2, help="worker processes (default: 2)")
    worker.set_defaults(func=cmd_worker)

    migrate = commands.add_parser("migrate", help="apply database migrations and exit",
                                  description="Bring the database schema up to date. Safe to run twice; "
                                  "`serve` also does it at every start.")
    migrate.set_defaults(func=cmd_migrate)

    create = commands.add_parser("createuser", help="create a user from the command line",
                                 description="Create a user (an admin, a reviewer or an annotator).")
    create.add_argument("--email", required=True, help="the user's email, used to log in")
    create.add_argument("--password", required=True, help="at least 8 characters")
    create.add_argument("--role", default="annotator", choices=["admin", "reviewer", "annotator"],
                        help="global role (default: annotator)")
    create.add_argument("--first-name", default="", help="first name (optional)")
    create.add_argument("--last-name", default="", help="last name (optional)")
    create.add_argument("--token", default=None, help="API token to give the user (default: generated)")
    create.set_defaults(func=cmd_createuser)

    token = commands.add_parser("token", help="print a user's API token (for scripts and the SDKs)",
                                description="Print the API token of a user, for `Authorization: Token <key>` "
                                "and Label Studio's SDKs (`label_studio_sdk.Client(url, api_key=...)`). Run it "
                                "with the server's environment (DATABASE_URL, LABELWELL_DATA_DIR).")
    token.add_argument("--email", required=True, help="the user's email")
    token.add_argument("--reset", action="store_true", help="make a new token; the old one stops working")
    token.set_defaults(func=cmd_token)

    model = commands.add_parser("model", help="the built-in model: serve it to Label Studio",
                                description="The built-in model of a project, outside Labelwell.")
    model_commands = model.add_subparsers(dest="model_command", required=True, metavar="ACTION")
    serve_model = model_commands.add_parser(
        "serve", help="serve a project's built-in model as a label_studio_ml backend",
        description="Answer /health, /setup, /predict and /webhook as an ML backend built with label_studio_ml "
        "does, with the project's active built-in model version, so Label Studio can be pointed at it. "
        "Run it with the server's environment (DATABASE_URL, LABELWELL_DATA_DIR); training events sent to "
        "/webhook start a training run in Labelwell's worker.")
    serve_model.add_argument("--project", type=int, required=True, help="the project whose model to serve")
    serve_model.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve_model.add_argument("--port", type=int, default=9090, help="port to listen on (default: 9090)")
    serve_model.add_argument("--log-level", default="warning", help="warning (default), info, debug")
    serve_model.set_defaults(func=cmd_model_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
