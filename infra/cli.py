"""The `vigil` command: `vigil serve` runs the server, `vigil token` prints a local token,
`vigil retention` shows or sets how long the MongoDB store keeps points."""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Sequence
from typing import Any

from domain.access import Role
from infra.config import MAX_RETENTION_DAYS, ConfigError, Settings

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vigil", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server (settings from VIGIL_* variables)")
    serve.add_argument("--host", help="address to bind (default VIGIL_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default VIGIL_PORT or 8000)")
    serve.add_argument("--tls-cert", help="PEM certificate: serve HTTPS (VIGIL_TLS_CERT_FILE)")
    serve.add_argument("--tls-key", help="PEM private key of --tls-cert (VIGIL_TLS_KEY_FILE)")

    token = commands.add_parser("token", help="print a token signed with the local secret")
    token.add_argument("--subject", required=True, help="who the token is for")
    token.add_argument(
        "--project",
        action="append",
        required=True,
        help="a project the subject may access; repeat for several",
    )
    token.add_argument(
        "--role",
        action="append",
        required=True,
        choices=[r.value for r in Role],
        help="the role in the project given at the same position",
    )
    token.add_argument(
        "--ttl", type=_lifetime, default=86_400, help="lifetime in seconds (default: one day)"
    )

    rotate = commands.add_parser(
        "rotate-key", help="add an encryption key version and re-encrypt every stored secret"
    )
    rotate.add_argument(
        "--reencrypt-only", action="store_true", help="seal with the current key; add none"
    )
    rotate.add_argument(
        "--drop-old", action="store_true", help="then remove the older versions from the key file"
    )

    retention = commands.add_parser(
        "retention",
        help="show, or set for every instance, the MongoDB store's ceiling of raw points",
    )
    retention.add_argument("days", type=int, nargs="?", help="the new retention in days")
    return parser


def _lifetime(raw: str) -> int:
    """--ttl: a whole, positive number of seconds."""
    try:
        seconds = int(raw)
    except ValueError:
        seconds = 0
    if seconds <= 0:
        raise argparse.ArgumentTypeError(
            f"{raw!r} is not a lifetime: give a whole number of seconds above 0 (86400 is a day)"
        )
    return seconds


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        overrides = {k: v for k in ("host", "port") if (v := getattr(args, k, None)) is not None}
        tls = {"tls_cert_file": "tls_cert", "tls_key_file": "tls_key"}
        overrides |= {k: v for k, a in tls.items() if (v := getattr(args, a, None)) is not None}
        settings = Settings.from_env(**overrides)
    except ConfigError as exc:
        print(f"vigil: {exc}", file=sys.stderr)
        return 2
    if args.command == "token":
        return _token(settings, args)
    if args.command == "rotate-key":
        return _rotate_key(settings, args)
    if args.command == "retention":
        return _retention(settings, args.days)
    return _serve(settings)


def _token(settings: Settings, args: argparse.Namespace) -> int:
    from infra.bootstrap import local_tokens

    if len(args.project) != len(args.role):
        print("vigil: give one --role for each --project", file=sys.stderr)
        return 2
    projects = dict(zip(args.project, args.role, strict=True))
    try:
        token = local_tokens(settings).issue(
            subject=args.subject, projects=projects, ttl_seconds=args.ttl
        )
    except ValueError as exc:
        print(f"vigil: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


def _rotate_key(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from domain.errors import VigilError
    from infra.compliance.rotate import rotate_key
    from infra.crypto import KeyringError

    try:
        done = asyncio.run(
            rotate_key(settings, new_key=not args.reencrypt_only, drop_old=args.drop_old)
        )
    except (KeyringError, VigilError) as exc:
        print(f"vigil: {exc}", file=sys.stderr)
        return 2
    print(
        f"key version {done.previous_version} -> {done.current_version};"
        f" {done.resealed} secrets sealed with version {done.current_version}"
        + (f"; dropped versions {', '.join(map(str, done.dropped))}" if done.dropped else "")
    )
    return 0


def _retention(settings: Settings, days: int | None) -> int:
    import asyncio
    import getpass

    from domain.errors import Unavailable
    from infra.stores.mongo import MongoDatabase, MongoOptions

    if not settings.store_url.startswith(("mongodb://", "mongodb+srv://")):
        print(
            "vigil: `vigil retention` sets MongoDB's ceiling; on the embedded DuckDB store"
            " VIGIL_RETENTION_DAYS is the ceiling of raw points and each project's policy"
            " (setRetentionPolicy, docs/retention.md) says what its runs delete",
            file=sys.stderr,
        )
        return 2
    if days is not None and not 0 < days <= MAX_RETENTION_DAYS:
        print(f"vigil: the retention must be 1 to {MAX_RETENTION_DAYS} days", file=sys.stderr)
        return 2

    async def run() -> str:
        options = MongoOptions(retention_seconds=settings.retention_days * 86_400)
        async with await MongoDatabase.open(settings.store_url, options=options) as db:
            if days is not None:
                await db.set_retention(days * 86_400, by=f"vigil retention ({getpass.getuser()})")
            applied = await db.applied_retention()
            shown = ", ".join(f"{k} {_days(v)}" for k, v in applied.items())
            return f"retention {_days(db.retention_seconds)} (expiry of {shown})"

    try:
        print(asyncio.run(run()))
    except Unavailable as exc:
        print(f"vigil: {exc.message}", file=sys.stderr)
        return 1
    return 0


def _days(seconds: int | None) -> str:
    return "none" if seconds is None else f"{seconds / 86_400:g} days"


def logging_config(settings: Settings) -> dict[str, Any]:
    """uvicorn's own log set-up, plus Vigil's loggers (the start message, errors) beside it."""
    import uvicorn

    config: dict[str, Any] = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["loggers"]["vigil"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    # Tokens in query strings (refused, but logged by uvicorn as sent) are redacted.
    config["filters"] = {"credentials": {"()": "infra.logredact.RedactCredentials"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["credentials"]
    if not settings.access_log_writes:  # accepted collector writes: no line each
        config["filters"]["quiet_writes"] = {"()": "infra.access_log.QuietWrites"}
        config["loggers"]["uvicorn.access"]["filters"] = ["quiet_writes"]
    return config


def _serve(settings: Settings) -> int:
    import uvicorn

    from infra.app import create_app
    from infra.serving import server_options

    failed = False

    def stop_serving() -> None:  # the start, running behind the listening port, failed
        nonlocal failed
        failed = True
        server.should_exit = True

    # The port listens first: while the store loads, /healthz answers 200 and /readyz 503
    # (infra/startup.py) instead of refusing connections.
    app = create_app(settings, tune_gc=True, on_start_failure=stop_serving)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        log_config=logging_config(settings),
        **server_options(settings),
    )
    server = uvicorn.Server(config)
    server.run()
    return 3 if failed or not server.started else 0  # 3: uvicorn's own start-up failure code


if __name__ == "__main__":
    raise SystemExit(main())
