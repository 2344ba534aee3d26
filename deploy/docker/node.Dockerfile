# The build-time Node.js image of the Dockerfile's `contracts` stage: Debian's nodejs and
# npm on the local bookworm base (deploy/docker/base-image.sh). No registry image needed.
ARG BASE_IMAGE=pujiang-base:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
CMD ["node"]
