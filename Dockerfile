# The healthprobe image: nothing but the static binary, at /healthprobe.
#
# Use it from any image, whatever its base (scratch, distroless, slim):
#   COPY --from=ghcr.io/OWNER/healthprobe:0.2 /healthprobe /healthprobe
# /healthprobe is a promise: every version of this image keeps the binary at
# that path, and nothing else is in it (no shell, no libraries, no CA bundle;
# the Mozilla roots are compiled in).
#
# Built from a release binary in dist/ (scripts/release.sh), one image per
# platform, with a build context that holds that one file as `healthprobe`;
# the per-platform images are joined into one multi-arch tag by a manifest
# list (scripts/image-e2e.sh, .github/workflows/release.yml do both):
#   mkdir ctx && cp dist/healthprobe-0.2.0-aarch64-unknown-linux-musl ctx/healthprobe
#   docker build --platform linux/arm64 --build-arg VERSION=0.2.0 \
#     --build-arg REVISION=$(git rev-parse HEAD) -f Dockerfile -t healthprobe:0.2.0-arm64 ctx
# (No ARG comes before the COPY: Docker's classic builder gives an ARG step
# in a FROM scratch stage the engine's own platform, and then refuses the
# COPY of a --platform linux/arm64 build.)
FROM scratch
COPY healthprobe /healthprobe
ARG VERSION=unknown
ARG REVISION=unknown
ARG SOURCE=https://github.com/OWNER/healthprobe
LABEL org.opencontainers.image.title="healthprobe" \
      org.opencontainers.image.description="One static binary for health checks (HTTP, HTTPS, TCP, Unix socket) with one deadline; exit 0 healthy, 1 unhealthy. The binary is /healthprobe." \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT"
ENTRYPOINT ["/healthprobe"]
