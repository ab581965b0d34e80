# Vigil: slim, non-root, with a health check.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY schema ./schema
COPY resolvers ./resolvers
COPY infra ./infra
RUN pip install . && useradd --create-home --uid 10001 vigil && mkdir -p /app/var \
    && chown vigil /app/var
USER vigil

ENV VIGIL_HOST=0.0.0.0 VIGIL_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1
CMD ["vigil", "serve"]
