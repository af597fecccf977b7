"""The deployment files, checked without Docker: docker-compose.yml, Dockerfile, .env.example.

File parsing, and the Redis service's own command run as a throwaway `redis-server` on a free
loopback port: no database, no network, no Docker daemon.
"""

import json
import os
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
import yaml

from tests.support.processes import free_port

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "browser-worker", "beat")
MAILPIT_SMTP_PORT = 1025
# The variables an operator sets most; .env.example must keep documenting each of them.
DOCUMENTED_VARIABLES = {
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DEBUG",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "DEFAULT_FROM_EMAIL",
    "MESSAGE_ID_DOMAIN",
    "DELIVERY_SANDBOX",
    "DELIVERY_SANDBOX_EMAIL",
    "LEGISLATOR_DATA_DIR",
    "SECURE_SSL_REDIRECT",
    "CELERY_QUEUE",
    "LOG_LEVEL",
    "EMAIL_TIMEOUT",
}


@pytest.fixture(scope="module")
def services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose["services"]


def _words(command):
    """A compose command as argv, with the script of `sh -c SCRIPT` split into words too."""
    words = list(command) if isinstance(command, list) else shlex.split(command)
    if len(words) >= 3 and words[0] in ("sh", "bash", "/bin/sh", "/bin/bash") and words[1] == "-c":
        return words[:2] + shlex.split(words[2])
    return words


def _environment(service):
    """A service's environment as a dict, whichever of the two compose syntaxes it uses."""
    environment = service.get("environment") or {}
    if isinstance(environment, dict):
        return {key: str(value) for key, value in environment.items()}
    return dict(item.split("=", 1) for item in environment)


def _mailpit_name(services):
    names = [name for name, spec in services.items() if "mailpit" in spec.get("image", "")]
    assert len(names) == 1, f"expected one Mailpit service, found {names}"
    return names[0]


def test_services_exist(services):
    for name in ("db", "redis", *APP_SERVICES):
        assert name in services, name
    _mailpit_name(services)


def test_web_runs_gunicorn_with_the_wsgi_app(services):
    words = _words(services["web"]["command"])
    assert "gunicorn" in words
    assert words[words.index("gunicorn") + 1] == "config.wsgi:application"
    assert int(words[words.index("--timeout") + 1]) >= 120  # a million actions' CSV export


def test_worker_and_beat_run_celery_on_the_config_app(services):
    assert _words(services["worker"]["command"])[:4] == ["celery", "-A", "config", "worker"]
    browser = _words(services["browser-worker"]["command"])
    assert browser[:4] == ["celery", "-A", "config", "worker"]
    assert browser[browser.index("-Q") + 1] == "web-forms"
    assert "--concurrency=1" in browser
    assert _words(services["beat"]["command"])[:4] == ["celery", "-A", "config", "beat"]


def test_app_services_share_one_environment(services):
    web, worker, browser_worker, beat = (_environment(services[name]) for name in APP_SERVICES)
    assert web == worker == browser_worker == beat
    assert web["DJANGO_SETTINGS_MODULE"] == "config.settings.production"

    database = urlsplit(web["DATABASE_URL"])
    assert database.scheme in ("postgres", "postgresql", "pgsql")
    assert database.hostname == "db"

    redis = urlsplit(web["REDIS_URL"])
    assert redis.scheme == "redis"
    assert redis.hostname == "redis"

    email = urlsplit(web["EMAIL_URL"])
    assert email.scheme.startswith("smtp")
    assert email.hostname == _mailpit_name(services)
    assert email.port == MAILPIT_SMTP_PORT


def test_app_services_wait_for_healthy_db_and_redis(services):
    for backing in ("db", "redis"):
        assert services[backing].get("healthcheck", {}).get("test"), f"{backing} has no healthcheck"
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        for backing in ("db", "redis"):
            assert depends_on[backing]["condition"] == "service_healthy", (name, backing)


def test_published_ports_bind_loopback_only(services):
    published = []
    for name, spec in services.items():
        assert spec.get("network_mode") != "host", name
        for port in spec.get("ports", []):
            if isinstance(port, dict):  # long syntax
                published.append((name, port.get("host_ip"), port))
            else:  # short syntax: [HOST_IP:][HOST_PORT:]CONTAINER_PORT
                text = str(port)
                host_ip = "127.0.0.1" if text.startswith("127.0.0.1:") else None
                published.append((name, host_ip, port))
    assert ("web", "127.0.0.1", "127.0.0.1:8000:8000") in published
    exposed = [(name, port) for name, host_ip, port in published if host_ip != "127.0.0.1"]
    assert not exposed


def _dockerfile_instructions():
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions, current = [], ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        keyword, _, arguments = (current + line).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    return instructions


def test_dockerfile_cmd_runs_gunicorn_as_a_non_root_user():
    instructions = _dockerfile_instructions()
    cmd = [arguments for keyword, arguments in instructions if keyword == "CMD"][-1]
    argv = json.loads(cmd) if cmd.startswith("[") else shlex.split(cmd)
    assert argv[0] == "gunicorn"
    assert "config.wsgi:application" in argv
    assert int(argv[argv.index("--timeout") + 1]) >= 120  # a million actions' CSV export

    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users, "the image runs as root: no USER line"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_dockerfile_bakes_no_secret_key_into_the_image():
    for keyword, arguments in _dockerfile_instructions():
        if keyword in ("ENV", "ARG"):
            assert "SECRET_KEY" not in arguments


def test_every_env_example_variable_is_read_by_the_settings():
    example = (ROOT / ".env.example").read_text()
    # Active (NAME=value) and commented-out (# NAME=value) lines both name a variable.
    names = re.findall(r"^[ \t]*(?:#[ \t]*)?(?:export[ \t]+)?([A-Z][A-Z0-9_]*)=", example, re.M)
    missing = DOCUMENTED_VARIABLES - set(names)
    assert not missing, f".env.example no longer documents {sorted(missing)}"
    settings_source = "\n".join(
        path.read_text() for path in sorted((ROOT / "config" / "settings").glob("*.py"))
    )
    unread = [name for name in names if not re.search(rf"""["']{name}["']""", settings_source)]
    assert not unread, f".env.example names variables the settings never read: {unread}"


# --- Redis: the broker holds deliveries not yet sent ---------------------------------------


def _redis_script(services, *, port, data_dir):
    """The redis service's own command, as compose would run it (`$$` is a literal `$`), moved
    to a free loopback port and a temporary directory."""
    words = _words(services["redis"]["command"])
    assert words[:2] == ["sh", "-c"]
    script = services["redis"]["command"][2].replace("$$", "$")
    assert "--dir /data" in script
    return script.replace("--dir /data", f"--dir {data_dir}") + f" --port {port} --bind 127.0.0.1"


def test_redis_keeps_its_data_on_a_volume_and_app_services_use_its_password(services):
    redis_service = services["redis"]
    assert "redisdata:/data" in redis_service["volumes"]
    assert "redisdata" in yaml.safe_load((ROOT / "docker-compose.yml").read_text())["volumes"]
    password = redis_service["environment"]["REDIS_PASSWORD"]
    assert password.startswith("${REDIS_PASSWORD:?"), "no default: compose refuses without one"
    for name in APP_SERVICES:
        assert urlsplit(_environment(services[name])["REDIS_URL"]).password == "${REDIS_PASSWORD}"
    health = " ".join(redis_service["healthcheck"]["test"])
    assert "REDISCLI_AUTH" in health and "PONG" in health


def test_the_compose_redis_command_asks_a_password_never_evicts_and_persists(services, tmp_path):
    """Run the service's command for real (a throwaway redis-server on a free port)."""
    port = free_port()
    script = _redis_script(services, port=port, data_dir=tmp_path)
    environment = {**os.environ, "REDIS_PASSWORD": "s3cretWord"}

    def start():
        process = subprocess.Popen(
            ["sh", "-c", script],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis(port=port, password="s3cretWord", socket_timeout=2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return process, client
            except redis.exceptions.ConnectionError:
                assert time.monotonic() < deadline, "the compose redis command did not start"
                time.sleep(0.05)

    def stop(process):
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)

    process, client = start()
    try:
        with pytest.raises(redis.exceptions.AuthenticationError):
            redis.Redis(port=port, socket_timeout=2).ping()
        assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        client.rpush("action-alerts", "a delivery task")
    finally:
        stop(process)
    process, client = start()
    try:
        assert client.lrange("action-alerts", 0, -1) == [b"a delivery task"]
    finally:
        stop(process)
