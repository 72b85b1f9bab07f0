# The few targets a developer reaches for. `make run` and `make test` work on a fresh machine
# with only Python 3.11+, make and git.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install lock run test lint typecheck format migrate messages bench bench-deadlines bench-awards bench-mail bench-pages load compose-check clean

# Dependencies come from the lock files in requirements/ (exact versions for every package,
# made by `make lock` from pyproject.toml's ranges); the project itself is installed without
# resolving anything again.
$(VENV)/.installed: pyproject.toml requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Lapor needs Python 3.11 or newer (found %s)." % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "$$(grep '^uv==' requirements/dev.txt)"
	$(VENV)/bin/uv pip install --quiet --python $(PY) -r requirements/dev.txt
	$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e .
	@touch $@

install: $(VENV)/.installed

# Re-resolve the locks after changing a range in pyproject.toml (`make lock UV_ARGS=--upgrade`
# moves every package to the newest release the ranges allow).
UV_COMPILE = $(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 --quiet $(UV_ARGS)

lock: $(VENV)/.installed
	$(UV_COMPILE) -o requirements/prod.txt
	$(UV_COMPILE) --extra dev -o requirements/dev.txt

run: $(VENV)/.installed
	DEBUG=$${DEBUG:-1} $(PY) manage.py run_portal --host $(HOST) --port $(PORT)

# Checks first (quick), then the suite: ruff, Django's system checks (with django-linear-migrations':
# each app's history linear and its max_migration.txt right), no model change without its
# migration, mypy over the core apps; then pytest with coverage (the floor is in pyproject.toml).
test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=$${DEBUG:-1} $(PY) manage.py check --fail-level WARNING
	DEBUG=$${DEBUG:-1} $(PY) manage.py makemigrations --check --dry-run
	DEBUG=$${DEBUG:-1} $(VENV)/bin/mypy
	@[ -n "$$CHROMIUM_PATH" ] || [ -x /usr/bin/chromium ] || [ -x /usr/bin/chromium-browser ] || $(VENV)/bin/playwright install chromium
	$(VENV)/bin/pytest --cov --cov-report=term $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	DEBUG=$${DEBUG:-1} $(VENV)/bin/mypy

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrate: $(VENV)/.installed
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate

messages: $(VENV)/.installed
	cd $(CURDIR) && DEBUG=1 $(PY) manage.py makemessages -l id -l en --no-location --ignore '.venv/*' --ignore 'var/*'
	cd $(CURDIR) && DEBUG=1 $(PY) manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf var/ .pytest_cache

# Benchmarks report figures and assert nothing; they need PostgreSQL (their own database, created
# if missing). `make bench-deadlines BENCH_ARGS=--refill` fills the million complaints again;
# `make bench BENCH_COMPLAINTS=20000` works on a small fill (as CI does: tests/bench/). The fill
# follows the models (bench/fill.py): a NOT NULL column it does not supply stops it, by name.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/lapor_bench
BENCH_COMPLAINTS ?= 1000000

# The ranking benchmark works on its own copy of lapor_bench (created from it when missing);
# `make bench-awards AWARDS_BENCH_ARGS="--year 2024 --repeat 5"`.
AWARDS_BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/lapor_bench_awards

bench: bench-deadlines bench-awards bench-mail bench-pages

bench-deadlines: $(VENV)/.installed
	DATABASE_URL=$(BENCH_DATABASE_URL) DEBUG=$${DEBUG:-1} BENCH_COMPLAINTS=$(BENCH_COMPLAINTS) \
		$(PY) bench/deadlines.py $(BENCH_ARGS)

# The pages served by gunicorn (2 sync workers, production settings) on the bench database; the
# POST scenario adds complaints, so point it at a copy: BENCH_PAGES_DATABASE_URL=postgres://.../copy
# The public pages' cache needs a shared cache: give CACHE_URL=rediscache://... (without it the
# benchmark's local-memory cache turns the page cache off).
BENCH_PAGES_DATABASE_URL ?= $(BENCH_DATABASE_URL)

bench-pages: $(VENV)/.installed
	$(PY) bench/pages.py --database-url $(BENCH_PAGES_DATABASE_URL) $(BENCH_ARGS)

bench-awards: $(VENV)/.installed
	DATABASE_URL=$(AWARDS_BENCH_DATABASE_URL) DEBUG=$${DEBUG:-1} $(PY) bench/awards.py $(AWARDS_BENCH_ARGS)

# Notification delivery through a real worker on the file-system broker and on Redis (a private
# redis-server), SQLite and BENCH_MAIL_DATABASE_URL, file and SMTP mail: 1,000 emails each.
BENCH_MAIL_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/lapor_bench_mail

bench-mail: $(VENV)/.installed
	$(PY) bench/mail.py --database $(BENCH_MAIL_DATABASE_URL) $(BENCH_ARGS)

# Load test of several nodes on one machine (bench/load.py): two gunicorn web processes, two
# Celery workers and beat on one PostgreSQL (DATABASE_URL's server, database <name>_load, made
# afresh and dropped) and Redis (CELERY_BROKER_URL, CACHE_URL). Complaints at a steady rate with
# pages read alongside for LOAD_SECONDS, then a clock days later for the deadline sweep (two
# beats); counts accepted = stored = routed, duplicates, losses, breaches and emails, and exits
# non-zero when one disagrees. `make load LOAD_SECONDS=30 LOAD_ARGS="--rate 20 --readers 4"`.
LOAD_SECONDS ?= 120

load: $(VENV)/.installed
	LOAD_SECONDS=$(LOAD_SECONDS) $(PY) bench/load.py $(LOAD_ARGS)

# docker-compose.yml for real, scaled: `docker-compose up --scale web=3 --scale worker=3` on the
# stand-in images of deploy/local-images (built from Debian's packages when missing; no Docker
# Hub needed), complaints and page reads through the proxy alone, then counts from PostgreSQL,
# the access logs and the workers' mail files; `down -v` at the end. Exits non-zero when a check
# fails (bin/compose-scale-check; COMPOSE_CHECK_ARGS="--images official" on the official images).
compose-check:
	bin/compose-scale-check $(COMPOSE_CHECK_ARGS)
