"""The container files hold together: the test run needs no Docker engine, so what can be
checked without one is checked here (tests/integration/test_wheel_install.py runs the
Dockerfile's install steps for real; scripts/container-check builds and runs the image
where a Docker daemon can run). compose.yaml, deploy/nginx.conf and the
Dockerfile name the same nodes, settings and checks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from imagechat.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
NGINX = (ROOT / "deploy" / "nginx.conf").read_text()


def nodes() -> dict[str, dict[str, Any]]:
    return {name: service for name, service in COMPOSE["services"].items()
            if service.get("image") == "imagechat:local" and "command" not in service}


def test_the_image_is_built_from_wheels_in_two_stages_and_runs_unprivileged() -> None:
    assert len(re.findall(r"^FROM ", DOCKERFILE, re.M)) == 2
    assert "pip wheel" in DOCKERFILE and "--no-index --find-links /wheels" in DOCKERFILE
    users = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/readyz", DOCKERFILE, re.M)
    assert 'CMD ["serve", "--host", "0.0.0.0"]' in DOCKERFILE
    assert 'ENTRYPOINT ["imagechat"]' in DOCKERFILE


def test_compose_runs_postgres_redis_nginx_and_at_least_two_nodes() -> None:
    services = COMPOSE["services"]
    assert {"postgres", "redis", "nginx", "migrate"} <= set(services)
    assert len(nodes()) >= 2
    assert services["migrate"]["command"] == ["migrate"]
    assert "pgdata" in COMPOSE["volumes"]
    assert any(v.startswith("pgdata:") for v in services["postgres"]["volumes"])


def test_every_node_shares_the_database_the_broker_and_a_secret_from_the_environment() -> None:
    known = {f"IMAGECHAT_{name.upper()}" for name in Settings.model_fields}
    for name, service in {**nodes(), "migrate": COMPOSE["services"]["migrate"]}.items():
        environment = service["environment"]
        assert {k for k in environment if k.startswith("IMAGECHAT_")} <= known, name
        assert environment["IMAGECHAT_DATABASE_URL"].startswith("postgresql://"), name
        assert environment["IMAGECHAT_REDIS_URL"].startswith("redis://redis:"), name
        # Required from the environment: compose refuses to start without it.
        assert environment["IMAGECHAT_SESSION_SECRET"].startswith(
            "${IMAGECHAT_SESSION_SECRET:?"), name


def test_nginx_sends_to_exactly_the_nodes_and_upgrades_websockets() -> None:
    upstream = re.search(r"upstream imagechat_nodes \{(.*?)\}", NGINX, re.S)
    assert upstream
    servers = re.findall(r"server (\S+)( [^;]*)?;", upstream.group(1))
    assert {address for address, _ in servers} == {f"{name}:8000" for name in nodes()}
    # As in the README's tested configuration: a restarted node is used again at once.
    assert all(options.strip() == "fail_timeout=2s" for _, options in servers)
    assert re.search(r"map \$http_upgrade \$connection_upgrade \{", NGINX)
    assert "proxy_set_header Connection $connection_upgrade;" in NGINX
    mounts = COMPOSE["services"]["nginx"]["volumes"]
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in mounts
