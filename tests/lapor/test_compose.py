"""docker-compose.yml puts a reverse proxy in front of the portal, and only the proxy reaches
it; web and worker scale (`docker compose up --scale web=3 --scale worker=3`). The test suite
does not start Docker: the file is read as YAML (merge keys resolved, as compose does) and
checked for what keeps a client from choosing its own address and what scaling needs.
`make compose-check` (bin/compose-scale-check) runs it for real where a Docker daemon is."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


@pytest.fixture(scope="module")
def caddyfile() -> str:
    # Without comments: what Caddy reads.
    text = (ROOT / "Caddyfile").read_text()
    return "\n".join(line.split("#", 1)[0].rstrip() for line in text.splitlines())


def default(value: str) -> str:
    """What compose makes of ``${NAME:-default}`` parts when NAME is not set."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))


def published(service: dict) -> list[str]:
    return [default(port) for port in service.get("ports", [])]


def test_web_is_not_published_only_exposed_to_the_compose_network(services):
    web = services["web"]
    assert "ports" not in web
    assert [str(port) for port in web["expose"]] == ["8000"]


def test_the_proxy_is_the_only_service_that_publishes_a_port(services):
    assert {name for name, service in services.items() if published(service)} == {"proxy"}
    proxy = services["proxy"]
    assert default(proxy["image"]).startswith("caddy:")
    ports = published(proxy)
    assert "80:80" in ports and "443:443" in ports
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    # Certificates survive a restart (Let's Encrypt limits how often they may be issued).
    assert any(volume.endswith(":/data") for volume in proxy["volumes"])
    assert proxy["environment"]["DOMAIN"] == "${DOMAIN:-:80}"


def test_web_trusts_the_forwarded_header_from_one_proxy(services):
    environment = services["web"]["environment"]
    assert environment["LAPOR_CLIENT_IP_HEADER"] == "X-Forwarded-For"
    assert str(environment["LAPOR_TRUSTED_PROXIES"]) == "1"
    # The worker and beat share the same settings (the YAML anchor), so nothing differs there.
    assert services["worker"]["environment"]["LAPOR_CLIENT_IP_HEADER"] == "X-Forwarded-For"


def test_the_caddyfile_serves_the_domain_with_tls_or_plain_http_and_forwards_to_web(caddyfile):
    sites = re.findall(r"^(\S[^{]*)\{\s*$", caddyfile, flags=re.MULTILINE)
    # One site: the DOMAIN (automatic HTTPS when set), else :80 (plain HTTP).
    assert [site.strip() for site in sites] == ["{$DOMAIN::80}"]
    # Trusting proxies in front of Caddy would pass a client's own X-Forwarded-For on.
    assert "trusted_proxies" not in caddyfile
    assert "header_up X-Forwarded-For" not in caddyfile
    assert caddyfile.count("{") == caddyfile.count("}")


def test_the_proxy_and_web_agree_on_the_client_address(settings, rf):
    """A request as the proxy sends it: a client's own X-Forwarded-For is gone (Caddy sets it
    afresh), and with the compose settings the address is the one the proxy saw."""
    from lapor.clientip import client_ip

    settings.LAPOR_CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.LAPOR_TRUSTED_PROXIES = 1
    request = rf.get("/", HTTP_X_FORWARDED_FOR="203.0.113.9", REMOTE_ADDR="172.18.0.5")
    assert client_ip(request) == "203.0.113.9"


SCALED = ("web", "worker")


@pytest.mark.parametrize("name", SCALED)
def test_scaled_services_have_no_fixed_name_or_host_port(services, name):
    """`--scale web=3` fails on a fixed container name or a fixed host port."""
    service = services[name]
    assert "container_name" not in service
    assert not published(service)
    assert service.get("deploy", {}).get("replicas", 1) >= 1


def test_beat_stays_single(services):
    beat = services["beat"]
    assert "celery -A lapor beat" in beat["command"]
    assert beat.get("deploy", {}).get("replicas", 1) == 1
    others = [s for n, s in services.items() if n != "beat"]
    assert not any("beat" in str(service.get("command", "")) for service in others)
    # A worker does not embed a beat (celery worker -B) that would multiply with the workers.
    assert " -B" not in services["worker"]["command"]
    assert "--beat" not in services["worker"]["command"]


def test_migrations_run_once_before_any_replica_starts(services):
    migrate = services["migrate"]
    assert "manage.py migrate" in " ".join(migrate["command"])
    assert str(migrate["restart"]) == "no"
    assert "migrate" not in migrate["depends_on"]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    # bin/start-web would otherwise migrate in every web replica at once.
    assert services["web"]["environment"]["LAPOR_MIGRATE_ON_START"] == "0"
    script = (ROOT / "bin" / "start-web").read_text()
    assert 'if [ "${LAPOR_MIGRATE_ON_START:-1}" != "0" ]; then' in script


def test_the_proxy_balances_over_every_web_replica(caddyfile):
    """Docker's DNS answers `web` with one address per replica: Caddy's dynamic A upstreams
    ask it again and again and balance over them all (a static `web:8000` would keep one)."""
    block = re.search(r"^\s+reverse_proxy \{\n(.*?)^\t\}$", caddyfile, re.MULTILINE | re.DOTALL)
    assert block, "reverse_proxy with a block of upstream settings"
    body = block.group(1)
    dynamic = re.search(r"dynamic a \{(.*?)\}", body, re.DOTALL)
    assert dynamic
    settings = dict(line.split(None, 1) for line in dynamic.group(1).strip().splitlines())
    assert settings == {"name": "web", "port": "8000", "refresh": "5s"}
    assert re.search(r"^\s+lb_policy round_robin$", body, re.MULTILINE)
    # POSTs that reached a replica are never retried (no lb_retry_match widening it).
    assert "lb_retry_match" not in body
    assert len(re.findall(r"^\s+reverse_proxy\b", caddyfile, re.MULTILINE)) == 1


def test_the_images_are_the_official_ones_unless_overridden(services):
    """deploy/local-images builds stand-ins where Docker Hub is out of reach; without the
    variables, compose pulls and builds exactly what production uses."""
    assert default(services["postgres"]["image"]) == "postgres:16"
    assert default(services["redis"]["image"]) == "redis:7"
    assert default(services["proxy"]["image"]) == "caddy:2"
    for name in ("migrate", "web", "worker", "beat"):
        assert default(services[name]["image"]) == "lapor:latest"
        assert services[name]["build"]["context"] == "."
        assert default(services[name]["build"]["args"]["PYTHON_IMAGE"]) == "python:3.11-slim"
    assert published(services["proxy"]) == ["80:80", "443:443", "443:443/udp"]


def test_the_dockerfile_base_defaults_to_the_official_python_and_uses_a_venv():
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in lines
    assert [line for line in lines if line.startswith("FROM ")] == ["FROM ${PYTHON_IMAGE}"]
    # python, gunicorn and celery (the services' commands) from the venv on either base.
    assert "ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH" in lines
