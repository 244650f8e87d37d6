"""The `labelwell` command: serve, worker, migrate, createuser."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys

from app.settings import ROOT, settings

DESCRIPTION = """Labelwell: a self-hosted data-annotation workbench.

Settings come from environment variables (DATABASE_URL, LABELWELL_DATA_DIR, ...);
the README lists them all. With none set, data lives in ./data on SQLite."""


def worker_command(concurrency: int) -> list[str]:
    # `python -m celery` (not the celery script) keeps the project root importable in the
    # worker's task processes, where piccolo_conf is looked up by module name
    return [sys.executable, "-m", "celery", "-A", "app.worker:celery_app", "worker",
            "--loglevel", "INFO", "--concurrency", str(concurrency)]


def worker_env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT)}


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    # the worker and the ML code read these to tell a backend where this server is
    if args.host:
        os.environ["LABELWELL_HOST"] = args.host
    if args.port:
        os.environ["LABELWELL_PORT"] = str(args.port)
    worker = None
    if not args.no_worker:
        worker = subprocess.Popen(worker_command(args.concurrency), env=worker_env(), cwd=ROOT)
    host, port = args.host or settings.host, args.port or settings.port
    print(f"Labelwell on http://{host}:{port} (database: {settings.database_url.split('@')[-1]})", flush=True)
    try:
        # the app's start-up hook migrates the database and creates the first admin
        uvicorn.run("app.asgi:app", host=host, port=port, proxy_headers=True, log_level=args.log_level)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    # become Celery rather than wait for it: a SIGTERM (docker stop) then reaches Celery itself,
    # which finishes its job and removes its heartbeat instead of being orphaned
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
    serve.add_argument("--log-level", default="info", help="uvicorn log level (default: info)")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
