# Vigil: slim, non-root, with a health check. Used by docker-compose.yml (two instances on
# MongoDB and Redis); alone it runs one instance on the embedded DuckDB store in /app/var:
#   docker build -t vigil . && docker run -p 8000:8000 -v vigil-data:/app/var vigil
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY schema ./schema
COPY resolvers ./resolvers
COPY infra ./infra
# PDF reports: WeasyPrint needs Pango and HarfBuzz's subsetter, and a font (DejaVu Sans).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
# Every dependency has a binary wheel: no compiler in the image. The directories exist here,
# owned by the user, so that a named volume mounted on one starts with that owner.
RUN pip install . \
    && useradd --system --uid 10001 --no-create-home --home-dir /app vigil \
    && install -d -o vigil -g vigil -m 0700 /app/var /app/secret
USER vigil

# matplotlib (report charts) keeps its font cache in a writable folder: /app is not.
ENV MPLCONFIGDIR=/tmp/matplotlib \
    VIGIL_HOST=0.0.0.0 \
    VIGIL_PORT=8000 \
    VIGIL_STORE_URL=duckdb:////app/var/vigil.duckdb \
    VIGIL_SECRET_FILE=/app/var/secret.key
EXPOSE 8000
# Liveness: the process answers. (docker-compose.yml waits on /readyz before routing to it.)
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('VIGIL_PORT', '8000'), timeout=2)"]
CMD ["vigil", "serve"]
