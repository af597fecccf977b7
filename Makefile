# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint check pytest audit audit-if-online data clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## make run: migrate, import ../shared/data if present, load the demo campaign, then web on 127.0.0.1:8000 and one worker with the periodic sweep (Ctrl-C stops both)
run: install
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py import_public_data
	$(BIN)/python manage.py load_demo
	@echo
	@echo "Admin: create a staff user with '$(BIN)/python manage.py create_staff_user you@example.org'"
	@echo "  (it asks for a password and prints a key for an authenticator app), then sign in at"
	@echo "  http://127.0.0.1:8000/admin/ with the email, the password and the app's 6-digit code."
	@echo "Mail (sandbox mode) is written to var/mail/."
	@echo
	@# The web server runs in the foreground so that Ctrl-C reaches it (a background job of a
	@# non-interactive shell ignores SIGINT); the worker is stopped when the recipe exits.
	@trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; \
	$(BIN)/celery -A config worker --beat -Q action-alerts,web-forms --loglevel=info --concurrency=2 & worker=$$!; \
	$(BIN)/python manage.py runserver 127.0.0.1:8000

## make test: lint, Django checks, then the whole suite against PostgreSQL and Redis on loopback
test: install lint check audit-if-online pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: install
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py check
	DJANGO_SETTINGS_MODULE=config.settings.test DATABASE_URL=sqlite://:memory: $(BIN)/python manage.py makemigrations --check --dry-run
	@# Production settings as a deployment sets them: a throwaway long random key, one host.
	DJANGO_SETTINGS_MODULE=config.settings.production ALLOWED_HOSTS=example.org \
	DATABASE_URL=sqlite://:memory: REDIS_URL= \
	SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

pytest: install
	$(BIN)/pytest

## make audit: pip-audit over the pinned dependencies (PyPI's advisory data). In `make test` only when PyPI answers, so a run without network is never failed by it.
audit: install
	@mkdir -p var
	$(BIN)/pip freeze --exclude-editable > var/audit-requirements.txt
	$(BIN)/pip-audit --strict --progress-spinner off --no-deps --disable-pip -r var/audit-requirements.txt

audit-if-online: install
	@# pip-audit asks PyPI about each pinned version (/pypi/NAME/VERSION/json): probe that.
	@if curl -sf --max-time 5 -o /dev/null https://pypi.org/pypi/pip/25.0/json; then \
		$(MAKE) --no-print-directory audit; \
	else \
		echo "make audit skipped: PyPI's vulnerability data (pypi.org/pypi/NAME/VERSION/json) is not reachable"; \
	fi

## make bench: page, counter and submit against their ceilings (production settings, gunicorn, wrk) at 1,000 and 1,000,000 actions, then bench.lookup and bench.delivery; one table, figures in var/bench/latest.json. BENCH_ARGS=--quick: 1,000 actions only. Not part of `make test`.
.PHONY: bench
bench: install
	@command -v wrk >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; }
	$(BIN)/python -m bench.web $(BENCH_ARGS)

clean:
	rm -rf var $(VENV)
