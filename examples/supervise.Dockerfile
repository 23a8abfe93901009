# examples/supervise.Dockerfile: healthprobe as the container's main process,
# supervising the service with Kubernetes' three probes from a spec file
# (examples/probes.yaml): startup gates the others; a failing liveness stops
# the service so that Docker's restart policy restarts the container (Docker
# never acts on an unhealthy HEALTHCHECK by itself, moby #28400); readiness
# decides what `healthprobe --status` answers, so Docker's HEALTHCHECK asks
# the supervisor instead of probing the service a second time.
#
#   docker build -f examples/supervise.Dockerfile -t model-server .   (after the builder
#   stage of Dockerfile.example, or with the two static binaries in the context)
#   docker run -d --restart on-failure --read-only --user 65534:65534 --cap-drop ALL \
#     --security-opt no-new-privileges --name model-server model-server
#   docker exec model-server /healthprobe --status -o json
#
# scripts/supervise-e2e.sh builds this file as it is (with binaries built on
# the host) and checks it against real Docker, Compose and Podman engines.
FROM scratch
COPY health_server /health_server
COPY healthprobe /healthprobe
COPY probes.yaml /probes.yaml
ENV BIND=127.0.0.1 PORT=8000 LOAD_DELAY=2
ENTRYPOINT ["/healthprobe", "--probes", "/probes.yaml", "--termination-grace-period", "10s", \
  "--", "/health_server"]
HEALTHCHECK --interval=1s --timeout=3s --start-period=30s --retries=1 \
  CMD ["/healthprobe", "--status"]
