"""`redactor`: serve, check a configuration, manage models, console users and retention,
run the benchmark."""

from __future__ import annotations

import argparse
import getpass
import importlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import get_args

from redactor.config import ConsoleRole, load_config
from redactor.errors import ConfigError, InvalidInput, RedactorError
from redactor.retention.commands import add_parser as add_retention_parser
from redactor.retention.commands import main as retention


def bench(args: list[str]) -> int:
    """`redactor bench ARGS` = `python -m bench ARGS`. bench/ lives in the repository and is not
    installed with the package, so this works from the repository's root only."""
    root = Path.cwd()
    if (
        not (root / "bench" / "__main__.py").is_file()
        or not (root / "redactor" / "cli.py").is_file()
    ):
        print(
            f"redactor bench: expected to run in the redactor repository's root (the folder holding "
            f"bench/ and redactor/), but {root} has no bench/__main__.py; bench/ is not installed with "
            f"the package: cd to the repository and run `redactor bench` or `python -m bench` there",
            file=sys.stderr,
        )
        return 2
    sys.path.insert(0, str(root))
    module = importlib.import_module("bench.__main__")
    return int(module.main(args))


def add_users_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`redactor users add|list|passwd|roles|disable`: the console's accounts."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", type=Path, help="TOML file; its console.users_path is the accounts file"
    )
    roles = argparse.ArgumentParser(add_help=False)
    roles.add_argument(
        "--role",
        dest="roles",
        action="append",
        required=True,
        choices=get_args(ConsoleRole),
        metavar="ROLE",
        help=f"repeat for several: {', '.join(get_args(ConsoleRole))}",
    )
    password = argparse.ArgumentParser(add_help=False)
    password.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin (default: prompt twice)",
    )
    users = sub.add_parser(
        "users",
        help="manage review console accounts (the first: "
        "`redactor users add admin --role administrator`)",
    )
    act = users.add_subparsers(dest="users_command", required=True)
    act.add_parser("add", parents=[common, roles, password], help="add an account").add_argument(
        "name"
    )
    act.add_parser("list", parents=[common], help="list accounts and their roles")
    act.add_parser(
        "passwd", parents=[common, password], help="set a password (ends their sessions)"
    ).add_argument("name")
    act.add_parser(
        "roles", parents=[common, roles], help="replace an account's roles"
    ).add_argument("name")
    act.add_parser(
        "disable", parents=[common], help="disable an account (ends their sessions)"
    ).add_argument("name")


def users(args: argparse.Namespace) -> int:
    """Runs a parsed `redactor users ...`; errors print `redactor users: ...` and return 2."""
    import sqlite3

    from redactor.review.users import UserStore

    try:
        cfg = load_config(args.config)
        store = UserStore(
            cfg.users_path,
            session_ttl_s=cfg.console.session_ttl_s,
            min_password_chars=cfg.console.min_password_chars,
        )
        try:
            if args.users_command == "list":
                for u in store.list_users():
                    flag = "  (disabled)" if u.disabled else ""
                    print(f"{u.name}\t{','.join(sorted(u.roles))}{flag}")
            elif args.users_command == "add":
                user = store.add(args.name, _new_password(args), args.roles)
                print(f"added {user.name} with roles {','.join(sorted(user.roles))}")
            elif args.users_command == "passwd":
                store.get(args.name)  # before the prompt: NotFound for a mistyped name
                store.set_password(args.name, _new_password(args))
                print(f"changed the password of {args.name}; their sessions ended")
            elif args.users_command == "roles":
                user = store.set_roles(args.name, args.roles)
                print(f"{user.name} now has roles {','.join(sorted(user.roles))}")
            elif args.users_command == "disable":
                store.disable(args.name)
                print(f"disabled {args.name}; their sessions ended")
        finally:
            store.close()
    except (RedactorError, OSError, sqlite3.Error) as e:
        print(f"redactor users: {e}", file=sys.stderr)
        return 2
    return 0


def _new_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"new password for {args.name}: ")
    if getpass.getpass("the same again: ") != first:
        raise InvalidInput("the two passwords differ; nothing was changed")
    return first


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:  # its options are the benchmark's own, passed through untouched
        return bench(argv[1:])
    parser = argparse.ArgumentParser(
        prog="redactor", description="Privacy-preserving video redaction service."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start the gRPC server")
    serve.add_argument("--config", type=Path, help="TOML file overriding the embedded defaults")
    serve.add_argument("--address", help="host:port (default: server.address, 127.0.0.1:50051)")
    serve.add_argument(
        "--metrics-port",
        type=int,
        default=9464,
        help="Prometheus /metrics on 127.0.0.1 (0 = off; default: %(default)s)",
    )
    serve.add_argument(
        "--scheduler",
        help="Dask scheduler that runs export segments, e.g. tcp://10.0.0.5:8786 "
        "(default: export.cluster.scheduler; none = in this process)",
    )
    serve.add_argument(
        "--no-console",
        action="store_true",
        help="do not serve the review console (default: on console.address, 127.0.0.1:8080)",
    )
    serve.add_argument("--log-level", default="INFO")
    check = sub.add_parser(
        "check-config", help="validate a configuration file and print the result"
    )
    check.add_argument("config", type=Path, nargs="?")
    models = sub.add_parser("models", help="fetch, verify or list model files")
    models.add_argument("action", choices=["fetch", "verify", "list"])
    add_users_parser(sub)
    add_retention_parser(sub)
    sub.add_parser(
        "bench",
        add_help=False,
        help="run the benchmark, same as `python -m bench` (from the repository root; "
        "`redactor bench --help` for its options)",
    )
    args = parser.parse_args(argv)

    if args.command == "users":
        return users(args)
    if args.command == "retention":
        return retention(args)
    if args.command == "models":
        from redactor.models import main as models_main

        return models_main([args.action])
    if args.command == "check-config":
        try:
            cfg = load_config(args.config)
        except ConfigError as e:
            print(e, file=sys.stderr)
            return 2
        print(cfg.model_dump_json(indent=2))
        return 0

    # Before any thread pool starts: idle OpenMP workers sleep, not spin on shared cores (docs/kernels.md).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        cfg = load_config(args.config)
        if args.scheduler:
            cluster = cfg.export.cluster.model_copy(update={"scheduler": args.scheduler})
            cfg = cfg.model_copy(
                update={"export": cfg.export.model_copy(update={"cluster": cluster})}
            )
        if args.metrics_port and not cfg.server.metrics_port:
            cfg = cfg.model_copy(
                update={"server": cfg.server.model_copy(update={"metrics_port": args.metrics_port})}
            )
        from redactor.server.app import create_server

        running = create_server(cfg, args.address, console=not args.no_console)
    except (ConfigError, RedactorError, OSError) as e:
        print(f"redactor: {e}", file=sys.stderr)
        return 2
    stop = threading.Event()
    terminated: list[int] = []

    def on_signal(sig: int, _frame: object) -> None:
        terminated.append(sig)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    print(f"redactor serving on {running.address} (Ctrl-C to stop)", flush=True)
    if running.console_url:
        print(f"review console on {running.console_url}", flush=True)
    stop.wait()
    if terminated and terminated[0] == signal.SIGTERM:
        # a rolling update or a scale-down: live streams move before the server goes
        print(f"draining: live streams move elsewhere within {cfg.server.drain_s:g} s", flush=True)
        running.drain(cfg.server.drain_s)
    running.stop(cfg.server.grace_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
