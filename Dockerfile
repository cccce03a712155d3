# Storewise: one image for every process (API servers, projection workers, migrations).
# Not built or exercised by the test suite; see docs/deployment.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    STOREWISE_VAR_DIR=/var/lib/storewise STOREWISE_LOG_FORMAT=json
WORKDIR /app

# torch first, pinned as in the Makefile, so that nothing pulls another build.
RUN pip install torch==2.13.0
COPY pyproject.toml README.md ./
COPY domain domain
COPY application application
COPY infrastructure infrastructure
COPY projections projections
COPY graphql_api graphql_api
COPY alembic alembic
COPY alembic.ini ./
COPY data data
RUN pip install . && useradd --system --home /var/lib/storewise storewise \
    && mkdir -p /var/lib/storewise && chown storewise /var/lib/storewise
USER storewise

EXPOSE 8000
# SIGTERM (docker stop) lets in-flight requests finish, then the process exits.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
CMD ["storewise", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-projections"]
