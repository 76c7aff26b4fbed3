# probectl in a container, for `probectl exporter` in a cluster (deploy/exporter.yaml).
#
#   docker build -t registry.example.com/probectl:0.1.0 .
#
# Python is pinned to a patch release on Debian 12 slim; pin the digest too
# (python:3.12.8-slim-bookworm@sha256:...) for reproducible builds. Runs as a non-root
# user with no shell needs and a read-only root filesystem.

FROM python:3.12.8-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md CHANGELOG.md ./
COPY probectl ./probectl
RUN python -m venv /venv && /venv/bin/pip install . && /venv/bin/pip uninstall -y pip

FROM python:3.12.8-slim-bookworm
LABEL org.opencontainers.image.title="probectl" \
      org.opencontainers.image.description="Why Kubernetes containers restart: probectl CLI and exporter" \
      org.opencontainers.image.source="https://github.com/probectl/probectl" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /venv /venv
ENV PATH=/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 65532:65532
EXPOSE 9847
ENTRYPOINT ["probectl"]
CMD ["exporter"]
