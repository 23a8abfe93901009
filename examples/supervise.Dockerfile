# examples/supervise.Dockerfile: healthprobe as the container's main process,
# supervising the service with the Kubernetes probe loop (seed 001's
# startup, liveness and readiness probes), so that Docker's restart policy
# restarts a container whose liveness fails: Docker never acts on an
# unhealthy HEALTHCHECK by itself (moby #28400).
#
#   docker build -f examples/supervise.Dockerfile -t model-server .   (after the builder
#   stage of Dockerfile.example, or with the two static binaries in the context)
#   docker run -d --restart on-failure --name model-server model-server
#
# scripts/supervise-e2e.sh builds this file as it is (with binaries built on
# the host) and checks it against real Docker and Podman engines.
FROM scratch
COPY health_server /health_server
COPY healthprobe /healthprobe
ENV BIND=127.0.0.1 PORT=8000 LOAD_DELAY=2
# startup: every 1 s, up to 30 failures (the model loads);
# liveness: every 2 s once started, 3 failures in a row stop the service
#   (SIGTERM, then SIGKILL after 10 s) and the container exits 1;
# readiness: Docker's HEALTHCHECK, which Compose's service_healthy,
#   Swarm and Traefik read.
ENV HEALTHPROBE_TIMEOUT=1s
ENTRYPOINT ["/healthprobe", \
  "--startup", "http://127.0.0.1:${PORT}/health", \
  "--startup-period", "1s", "--startup-failure-threshold", "30", \
  "--liveness", "http://127.0.0.1:${PORT}/health", \
  "--period", "2s", "--failure-threshold", "3", \
  "--termination-grace-period", "10s", \
  "--", "/health_server"]
HEALTHCHECK --interval=2s --timeout=3s --start-period=30s --retries=2 \
  CMD ["/healthprobe", "--expect-json", "/status=ok", "http://127.0.0.1:${PORT}/health"]
