"""docker-compose.yml, .env.example and the Dockerfile, checked without a container engine.

The compose file is validated against the Compose Specification's JSON schema, a copy of
``schema/compose-spec.json`` from github.com/compose-spec/compose-spec kept in
``tests/data/compose-spec.json`` (its ``$comment`` names the commit), both as written and
after interpolating ``.env.example``. Then every command must parse with the real CLI,
every variable must be one the project or Label Studio reads, and no secret may be literal.
"""

from __future__ import annotations

import inspect
import json
import re
import shlex
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from backend import cli, settings
from tests.conftest import ROOT

COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
SCHEMA = Path(__file__).parent / "data" / "compose-spec.json"

#: Label Studio 1.23.2 settings the compose file may set, each read by Label Studio itself:
#: server.py (_create_user), core/settings/base.py and label_studio.py, ml/ and webhooks/.
LABEL_STUDIO_VARIABLES = {
    "LABEL_STUDIO_USERNAME", "LABEL_STUDIO_PASSWORD", "LABEL_STUDIO_USER_TOKEN",
    "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN", "LABEL_STUDIO_HOST", "ML_BLOCK_LOCAL_IP",
    "SSRF_PROTECTION_ENABLED", "COLLECT_ANALYTICS", "LATEST_VERSION_CHECK", "SENTRY_DSN",
    "FRONTEND_SENTRY_DSN", "LABEL_STUDIO_BASE_DATA_DIR", "WEBHOOK_TIMEOUT",
    # its database settings (label_studio/core/settings/base.py: DATABASES_ALL)
    "DJANGO_DB", "POSTGRE_NAME", "POSTGRE_USER", "POSTGRE_PASSWORD", "POSTGRE_HOST", "POSTGRE_PORT",
}
#: The postgres image's first-start settings.
POSTGRES_VARIABLES = {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}
#: The redis image's server password (read by our start command) and redis-cli's.
REDIS_VARIABLES = {"REDIS_PASSWORD", "REDISCLI_AUTH"}
SECRET_NAME = re.compile(r"PASS|PASSWORD|TOKEN|SECRET|API_KEY|AUTH")
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
ONLY_INTERPOLATION = re.compile(r"^(\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\})?$")


def load_compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def used_variables(text: str) -> set[str]:
    """Every ``${VAR}`` the compose file interpolates (``$$`` is a literal dollar)."""
    return {m.group(1) for m in INTERPOLATION.finditer(text.replace("$$", ""))}


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation: ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}``, ``$$``."""
    def value(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2) or "", match.group(3) or ""
        found = env.get(name, "")
        if op.endswith("?") and not found:
            raise ValueError(f"{name}: {arg}")
        return found if found or not op.endswith("-") else arg

    return INTERPOLATION.sub(value, text.replace("$$", "\0")).replace("\0", "$")


def literal_secrets(compose: dict[str, Any]) -> list[str]:
    """Environment entries with a secret-like name whose value is written in the file."""
    found = []
    blocks = [compose.get("x-backend-environment", {})]
    blocks += [s.get("environment", {}) for s in compose["services"].values()]
    for block in blocks:
        for name, value in dict(block).items():
            text = "" if value is None else str(value)
            if SECRET_NAME.search(name) and not ONLY_INTERPOLATION.match(text) and text not in ("true", "false"):
                found.append(f"{name}={text}")
            if "://" in text and "@" in text and not re.search(r"://[^@]*\$\{[^}]+\}@", text):
                found.append(f"{name}={text}")
    return found


def commands(compose: dict[str, Any]) -> list[list[str]]:
    """Every ``ls-active ...`` command line: service commands and health-check tests."""
    found = []
    for service in compose["services"].values():
        for raw in (service.get("command"), (service.get("healthcheck") or {}).get("test")):
            if not raw:
                continue
            argv = shlex.split(raw) if isinstance(raw, str) else [str(a) for a in raw]
            if argv and argv[0] in ("CMD", "CMD-SHELL"):
                argv = argv[1:] if argv[0] == "CMD" else shlex.split(" ".join(argv[1:]))
            if argv and argv[0] == "ls-active":
                found.append(argv[1:])
    return found


def project_variables() -> set[str]:
    """Variables ``Settings.from_env`` reads, plus those in the README's configuration table."""
    source = inspect.getsource(settings)
    names = set(re.findall(r'env(?:\.get\(|, )"([A-Z][A-Z0-9_]+)"', source))
    readme = (ROOT / "README.md").read_text()
    names |= set(re.findall(r"^\|\s*`([A-Z][A-Z0-9_]+)`", readme, flags=re.M))
    return names


def test_the_schema_copy_says_where_it_came_from() -> None:
    schema = json.loads(SCHEMA.read_text())
    assert "compose-spec/compose-spec" in schema["$comment"]
    assert schema["title"] == "Compose Specification"


@pytest.mark.parametrize("interpolated", [False, True])
def test_compose_file_matches_the_compose_specification(interpolated: bool) -> None:
    text = COMPOSE.read_text()
    if interpolated:
        text = interpolate(text, read_env_file(ENV_EXAMPLE))
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(yaml.safe_load(text))


def test_env_example_defines_every_interpolated_variable() -> None:
    used = used_variables(COMPOSE.read_text())
    defined = read_env_file(ENV_EXAMPLE)
    assert used, "the compose file should take its settings from .env"
    assert sorted(used - set(defined)) == []


def test_env_example_holds_only_placeholders_for_secrets() -> None:
    for name, value in read_env_file(ENV_EXAMPLE).items():
        if SECRET_NAME.search(name):
            assert value in ("", "change-me"), f"{name} in .env.example must be a placeholder"


def test_no_literal_secret_in_the_compose_file() -> None:
    compose = load_compose()
    assert literal_secrets(compose) == []
    assert not re.search(r"\b[0-9a-f]{32,}\b|\beyJ[\w-]{20,}", COMPOSE.read_text())


def test_the_secret_finder_flags_a_written_password() -> None:
    compose = load_compose()
    compose["services"]["redis"]["environment"]["REDIS_PASSWORD"] = "hunter22"
    compose["x-backend-environment"]["REDIS_URL"] = "redis://:hunter22@redis:6379/0"
    assert len(literal_secrets(compose)) == 2


def test_every_ls_active_command_parses() -> None:
    found = commands(load_compose())
    dockerfile_cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE.read_text(), flags=re.M)
    assert dockerfile_cmd is not None
    found.append(json.loads(dockerfile_cmd.group(1))[1:])
    assert {argv[0] for argv in found} >= {"web", "worker"}
    parser = cli.build_parser()
    for argv in found:
        try:
            parser.parse_args(argv)
        except SystemExit:
            pytest.fail(f"`ls-active {' '.join(argv)}` is not a command of backend.cli.build_parser()")


def test_every_environment_variable_is_read_by_someone() -> None:
    compose = load_compose()
    ours = project_variables()
    assert {"REDIS_URL", "MODEL_DIR", "LABEL_STUDIO_API_KEY"} <= ours
    known = {"backend": ours, "worker": ours, "label-studio": LABEL_STUDIO_VARIABLES, "redis": REDIS_VARIABLES,
             "postgres": POSTGRES_VARIABLES}
    for name, service in compose["services"].items():
        unknown = set(service.get("environment") or {}) - known[name]
        assert not unknown, f"{name} sets variables nothing reads: {sorted(unknown)}"


def test_label_studio_gets_what_a_backend_on_a_private_network_needs() -> None:
    ls = load_compose()["services"]["label-studio"]
    assert ls["image"] == "heartexlabs/label-studio:1.23.2"
    env = ls["environment"]
    assert env["ML_BLOCK_LOCAL_IP"] == "false" and env["SSRF_PROTECTION_ENABLED"] == "false"
    assert "LABEL_STUDIO_HOST" in env
    assert "--enable-legacy-api-token" in ls["command"] or env["LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN"] == "true"
    assert env["COLLECT_ANALYTICS"] == "false" and env["LATEST_VERSION_CHECK"] == "false"


def test_label_studio_keeps_its_data_in_postgresql() -> None:
    """On SQLite one writer holds Label Studio's whole database (docs/label-studio-writes.md)."""
    services = load_compose()["services"]
    env = services["label-studio"]["environment"]
    assert env["DJANGO_DB"] == "default" and env["POSTGRE_HOST"] == "postgres"
    database = services["postgres"]["environment"]
    assert (env["POSTGRE_NAME"], env["POSTGRE_USER"]) == (database["POSTGRES_DB"], database["POSTGRES_USER"])
    assert env["POSTGRE_PASSWORD"] == database["POSTGRES_PASSWORD"] and "POSTGRES_PASSWORD" in env["POSTGRE_PASSWORD"]
    assert services["label-studio"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["postgres"]["volumes"])


def test_services_are_persistent_healthy_and_scalable() -> None:
    compose = load_compose()
    services = compose["services"]
    assert set(services) == {"label-studio", "postgres", "redis", "backend", "worker"}
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    worker = services["worker"]
    assert "container_name" not in worker and "ports" not in worker, "workers must scale"
    assert "--appendonly yes" in " ".join(services["redis"]["command"])
    assert any(v.endswith(":/data") for v in services["redis"]["volumes"])
    model_dir = compose["x-backend-environment"]["MODEL_DIR"]
    for name in ("backend", "worker"):
        assert f"models:{model_dir}" in services[name]["volumes"], f"{name} must share the model volume"
    assert set(compose["volumes"]) >= {"models", "redis-data", "label-studio-data", "postgres-data"}


def test_the_schema_rejects_a_misspelled_service_key() -> None:
    compose = load_compose()
    compose["services"]["worker"]["helthcheck"] = compose["services"]["worker"].pop("healthcheck")
    with pytest.raises(jsonschema.ValidationError, match="helthcheck"):
        jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(compose)
