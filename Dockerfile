# ImageChat in a container: `docker build -t imagechat .`, then
# `docker run -p 8000:8000 -v imagechat-data:/data imagechat` (SQLite in the volume), or
# `docker compose up` for PostgreSQL, Redis, two nodes and nginx (compose.yaml).
# tests/integration/test_wheel_install.py runs the same install steps (a wheel, installed
# into a clean environment, then `imagechat serve` until /readyz answers) without Docker.
# scripts/container-check builds and runs this image, and checks it becomes healthy.
ARG PYTHON_VERSION=3.11
# Any image with that Python, pip, apt and useradd (container-check uses a Debian stand-in
# where Docker Hub cannot be reached).
ARG BASE_IMAGE=python:${PYTHON_VERSION}-slim

# --- build: the wheels of ImageChat and of everything it needs, Redis client included ---
FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[redis]"

# --- run: those wheels only, as a user without privileges ---
FROM ${BASE_IMAGE}
# DejaVu Sans: the PDF review report's font, for every language's letters.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --home-dir /data --create-home imagechat
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels "imagechat[redis]"
USER imagechat
WORKDIR /data
VOLUME /data
ENV IMAGECHAT_DATABASE_URL=sqlite:////data/imagechat.db \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
EXPOSE 8000
# Healthy once ready: the database (and the broker, when shared) answer (/readyz).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('IMAGECHAT_PORT', '8000') + '/readyz', timeout=4)"]
ENTRYPOINT ["imagechat"]
CMD ["serve", "--host", "0.0.0.0"]
