"""The deployment files, checked without a Docker engine (none runs on these machines).

docker-compose.yml is validated against the compose-spec JSON schema that the
check-jsonschema package ships (its `vendor.compose-spec` built-in schema, Apache-2.0, from
the compose-spec project), then checked for what Vigil needs: two instances on MongoDB and
Redis sharing one secret, behind a proxy that reaches both and passes websockets, and a
MongoDB replica set with access control (a keyFile, a root user, a least-privilege user
for Vigil), initiated by compose, on a pinned server release Vigil accepts. Every
`VIGIL_*` variable is read from `infra.config.Settings`, so renaming a setting fails here.
nginx and node check the syntax of deploy/ when they are installed (`apt-get install
nginx-light nodejs`).
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import fields
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import yaml

from infra.config import ConfigError, Settings
from infra.stores.mongo.server import version_problem
from tests.tools import need_tool

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
NGINX = ROOT / "deploy" / "nginx.conf"
MONGO_INIT = ROOT / "deploy" / "mongo-init.js"
DEPLOYMENT = ROOT / "docs" / "deployment.md"
DOCKERFILE = ROOT / "Dockerfile"
SETTINGS = {f"VIGIL_{f.name.upper()}" for f in fields(Settings)}
VIGIL_SERVICES = ("vigil-1", "vigil-2")
EXPORTED = "exported0secret" + "0" * 24  # what the tests export for `${NAME:?...}`: 32+ chars


def compose_schema() -> dict[str, Any]:
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text())
    return schema


def schema_errors(document: object) -> list[str]:
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())  # resolves `<<` merges
    return document


def interpolate(value: str) -> str:
    """Compose's `${NAME:-default}` with nothing exported: the default; `${NAME:?message}`
    (a value the operator must export): a stand-in password."""
    value = re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", EXPORTED, value)
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def environment(service: dict[str, Any]) -> dict[str, str]:
    return {k: interpolate(str(v)) for k, v in (service.get("environment") or {}).items()}


def nginx_directives(text: str, name: str) -> list[str]:
    """The arguments of every `name ...;` directive, comments removed."""
    text = re.sub(r"#[^\n]*", "", text)
    return [m.group(1).strip() for m in re.finditer(rf"(?m)^\s*{name}\s+([^;]*);", text)]


def nginx_block(text: str, header: str) -> str:
    """The body of the first block opened by `header {` (no nested braces in it)."""
    match = re.search(re.escape(header) + r"\s*\{([^{}]*)\}", re.sub(r"#[^\n]*", "", text))
    assert match, f"no `{header} {{ ... }}` block in {NGINX.name}"
    return match.group(1)


def test_compose_file_follows_the_compose_spec(compose: dict[str, Any]) -> None:
    assert schema_errors(compose) == []


def test_the_schema_check_catches_a_mistake(compose: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["vigil-1"]["healtcheck"] = broken["services"]["vigil-1"].pop("healthcheck")
    broken["services"]["redis"]["restart"] = ["always"]
    errors = schema_errors(broken)
    assert any("healtcheck" in error for error in errors), errors
    assert any(error.startswith("services/redis/restart") for error in errors), errors


def test_two_vigil_instances_on_mongodb_and_redis(compose: dict[str, Any]) -> None:
    services = compose["services"]
    built = sorted(name for name, s in services.items() if s.get("build") == ".")
    assert built == list(VIGIL_SERVICES)
    instances = set()
    for name in VIGIL_SERVICES:
        env = environment(services[name])
        store, bus = urlsplit(env["VIGIL_STORE_URL"]), urlsplit(env["VIGIL_BUS_URL"])
        assert (store.scheme, store.hostname, store.port, store.path) == (
            "mongodb",
            "mongo",
            27017,
            "/vigil",
        )
        assert parse_qs(store.query)["replicaSet"] == ["rs0"]
        assert parse_qs(store.query)["authSource"] == ["admin"]
        assert (store.username, store.password) == ("vigil", EXPORTED)
        assert (bus.scheme, bus.hostname, bus.port) == ("redis", "redis", 6379)
        assert {"mongo", "redis"} <= set(services), "the URLs name services of this file"
        assert env["VIGIL_MODE"] == "production"
        assert "ports" not in services[name], "instances are reached through the proxy only"
        assert services[name]["depends_on"]["mongo-init"] == {
            "condition": "service_completed_successfully"
        }
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}
        instances.add(env["VIGIL_INSTANCE"])
    assert instances == set(VIGIL_SERVICES), "each instance has its own stable name"


def test_every_vigil_variable_is_a_setting_and_accepted(compose: dict[str, Any]) -> None:
    for name in VIGIL_SERVICES:
        env = environment(compose["services"][name])
        unknown = {key for key in env if key.startswith("VIGIL_")} - SETTINGS
        assert not unknown, f"{name} sets variables infra/config/ does not read: {unknown}"
        try:
            settings = Settings.from_env(env)
        except ConfigError as exc:
            pytest.fail(f"{name}: {exc}")
        assert settings.production
        assert (settings.host, settings.port) == ("0.0.0.0", 8000)


def test_both_instances_share_one_secret(compose: dict[str, Any]) -> None:
    services = compose["services"]
    one, two = (services[name] for name in VIGIL_SERVICES)
    assert one["environment"]["VIGIL_SECRET"] == two["environment"]["VIGIL_SECRET"]
    secret_file = environment(one)["VIGIL_SECRET_FILE"]
    assert secret_file == environment(two)["VIGIL_SECRET_FILE"]
    folder = str(Path(secret_file).parent)
    mounts = [{m.split(":")[1]: m.split(":")[0] for m in s["volumes"]} for s in (one, two)]
    assert mounts[0][folder] == mounts[1][folder] == "vigil-secret"
    assert "vigil-secret" in compose["volumes"], "a named volume, shared by both"


def test_mongo_is_a_replica_set_initiated_by_compose(compose: dict[str, Any]) -> None:
    services = compose["services"]
    command = services["mongo"]["command"]
    assert command[command.index("--replSet") + 1] == "rs0"
    init = services["mongo-init"]
    assert init["depends_on"]["mongo"] == {"condition": "service_healthy"}
    assert init["restart"] == "no", "a one-shot service"
    assert "--file /deploy/mongo-init.js" in " ".join(init["entrypoint"])
    assert "./deploy/mongo-init.js:/deploy/mongo-init.js:ro" in init["volumes"]
    script = MONGO_INIT.read_text()
    assert '_id: "rs0"' in script and 'host: "mongo:27017"' in script
    assert "rs.initiate(" in script and "NotYetInitialized" in script, "idempotent initiate"
    assert "isWritablePrimary" in script, "waits until primary before Vigil starts"


def test_mongo_runs_a_pinned_release_with_access_control(compose: dict[str, Any]) -> None:
    services = compose["services"]
    mongo = services["mongo"]
    release = re.fullmatch(r"mongo:(\d+)\.(\d+)\.(\d+)", mongo["image"])
    assert release, "the patch release is pinned"
    numbers = [int(n) for n in release.groups()]
    assert version_problem({"version": ".".join(release.groups()), "versionArray": numbers}) is None
    assert {services[n]["image"] for n in ("mongo-keyfile", "mongo-init")} == {mongo["image"]}
    command = mongo["command"]
    assert command[command.index("--keyFile") + 1] == "/keys/keyfile"
    assert float(interpolate(command[command.index("--wiredTigerCacheSizeGB") + 1])) <= 2
    assert "mongo-keys:/keys:ro" in mongo["volumes"]
    assert mongo["depends_on"]["mongo-keyfile"] == {"condition": "service_completed_successfully"}
    keyfile = " ".join(services["mongo-keyfile"]["entrypoint"])
    assert "chmod 0400" in keyfile and "chown 999:999" in keyfile and "test -s" in keyfile
    root_password = mongo["environment"]["MONGO_INITDB_ROOT_PASSWORD"]
    assert root_password.startswith("${MONGO_ROOT_PASSWORD:?"), "no default password"
    assert "--authenticationDatabase admin" in " ".join(services["mongo-init"]["entrypoint"])


def test_vigil_gets_a_least_privilege_user() -> None:
    script = MONGO_INIT.read_text()
    assert '{ role: "readWrite", db: "vigil" }' in script
    assert 'actions: ["getParameter"]' in script and "resource: { cluster: true }" in script
    assert "process.env.VIGIL_MONGO_PASSWORD" in script
    assert "updateUser(" in script and "createUser(" in script, "idempotent"
    assert "dbAdmin" not in script and "root" not in script.split("const roles")[1]


def test_backup_and_restore_commands_have_a_shape_that_works() -> None:
    """mongodump and mongorestore are not in Debian's archive, and no Docker engine runs
    here: the commands are checked for the mistakes that would break them."""
    text = DEPLOYMENT.read_text()
    commands = [line.strip() for line in re.findall(r"(?m)^\s*(docker compose [^\n]*)$", text)]
    dump = [c for c in commands if "mongodump" in c]
    restore = [c for c in commands if "mongorestore" in c]
    assert dump and restore
    for command in dump + restore:
        # -T: no TTY, which would mangle the binary archive on stdout or stdin.
        assert command.startswith("docker compose exec -T mongo mongo"), command
        assert "--archive" in command and "--gzip" in command
        assert "--authenticationDatabase admin" in command
    # A point-in-time copy of a replica set: the whole deployment with its oplog (--oplog
    # refuses --db), replayed on restore.
    assert all("--oplog" in c and "--db" not in c for c in dump)
    assert all("--oplogReplay" in c for c in restore)
    assert "docker compose stop vigil-1 vigil-2" in text, "instances stopped during a restore"


def test_long_running_services_have_health_checks_and_restart(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if name in ("mongo-init", "mongo-keyfile"):
            continue
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"][0] == "CMD", name
    probe = compose["services"]["vigil-1"]["healthcheck"]["test"]
    assert "http://127.0.0.1:8000/readyz" in " ".join(probe)


def test_the_proxy_reaches_both_instances(compose: dict[str, Any]) -> None:
    proxy = compose["services"]["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert proxy["ports"] == ["8080:80"]
    for name in VIGIL_SERVICES:
        assert proxy["depends_on"][name] == {"condition": "service_healthy"}
    text = NGINX.read_text()
    upstream = nginx_block(text, "upstream vigil")
    servers = {args.split()[0] for args in nginx_directives(upstream, "server")}
    port = environment(compose["services"]["vigil-1"])["VIGIL_PORT"]
    assert servers == {f"{name}:{port}" for name in VIGIL_SERVICES}
    assert nginx_directives(text, "listen") == ["80"]


def test_the_proxy_upgrades_websockets_on_graphql() -> None:
    text = NGINX.read_text()
    graphql = nginx_block(text, "location = /graphql")
    headers = nginx_directives(graphql, "proxy_set_header")
    assert "Upgrade $http_upgrade" in headers
    assert "Connection $connection_upgrade" in headers
    assert nginx_directives(graphql, "proxy_pass") == ["http://vigil"]
    assert nginx_directives(text, "proxy_http_version") == ["1.1"]
    upgrade_map = nginx_block(text, "map $http_upgrade $connection_upgrade")
    assert "default upgrade" in upgrade_map
    (read_timeout,) = nginx_directives(graphql, "proxy_read_timeout")
    assert read_timeout.endswith("h"), "quiet subscriptions outlive nginx's 60 s default"


def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    nginx = need_tool("nginx", "/usr/sbin/nginx", install="apt-get install nginx-light")
    # The instances' names resolve only on the compose network: point them at loopback.
    text = re.sub(r"\bvigil-[12]:8000\b", "127.0.0.1:8000", NGINX.read_text())
    config = tmp_path / "nginx.conf"
    config.write_text(text)
    run = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(config)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert "test is successful" in run.stderr


def test_the_mongo_script_is_valid_javascript() -> None:
    node = need_tool("node", install="apt-get install nodejs")
    run = subprocess.run([node, "--check", str(MONGO_INIT)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_the_dockerfile_is_slim_non_root_with_a_health_check() -> None:
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    (base,) = [line.split()[1] for line in instructions if line.startswith("FROM ")]
    assert base.startswith("python:3.11-slim")
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    text = DOCKERFILE.read_text()
    assert re.search(r"HEALTHCHECK[^\n]*\\\n[^\n]*/healthz", text)
    assert instructions[-1] == 'CMD ["vigil", "serve"]'
    for source in re.findall(r"(?m)^COPY (\S+) \./", text):
        assert (ROOT / source).exists(), source
    env = set(re.findall(r"\b(VIGIL_[A-Z_]+)=", text))
    assert env and env <= SETTINGS, env - SETTINGS
