# PYTHON_IMAGE: another Python 3.11+ on Debian (deploy/local-images builds one from Debian's
# packages where Docker Hub is out of reach); the default is the official image.
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# WeasyPrint (the monitoring report's PDF) needs Pango and a font from the system.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
    fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
# The locked production dependencies first (a layer that changes only with the lock), then the
# project itself without resolving anything again.
# Into a virtual environment whose bin is first on the PATH: `python`, `gunicorn` and `celery`
# are found there on either base (Debian's own Python has no `python` command and refuses pip
# installs into the system).
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
COPY requirements/prod.txt requirements/prod.txt
RUN python3 -m venv /opt/venv \
 && pip install --no-cache-dir -r requirements/prod.txt
COPY pyproject.toml README.md ./
COPY lapor lapor
COPY agencies agencies
COPY notifications notifications
COPY complaints complaints
COPY accounts accounts
COPY portal portal
COPY workspace workspace
COPY awards awards
COPY api api
RUN pip install --no-cache-dir --no-deps .
COPY . .
RUN useradd --create-home lapor && mkdir -p /app/var && chown -R lapor /app/var
USER lapor
EXPOSE 8000
# migrate, load_reference, collectstatic, then gunicorn with lapor/gunicorn.conf.py (an access
# log without query strings): the same script CI runs in .ci/prod-smoke.
CMD ["bin/start-web"]
