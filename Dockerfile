# The loopgate image a fan-out worker runs in on a cluster (Kubernetes Jobs
# queued by Kueue; docs/manual.md, "Running workers on a cluster").
#
#   docker build -t registry.example.com/loopgate:0.1.0 .
#
# Its entrypoint, tools/loopgate-worker, clones LOOPGATE_REPO at
# LOOPGATE_BASE, runs the worker command it is given (a `loopgate run` with
# the worker's settings and budget slice), then pushes the worker's branch
# and its signed log back to the remote.  Add the toolchains your gates
# need (python3-pytest, golang, ...) in an image built FROM this one.
FROM debian:12-slim AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	--no-install-recommends build-essential pkg-config libcurl4-openssl-dev \
	libjansson-dev libyaml-dev libssl-dev libsqlite3-dev libseccomp-dev zlib1g-dev \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make -j"$(nproc)" build/loopgate

FROM debian:12-slim
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	--no-install-recommends ca-certificates git bubblewrap python3 \
	libcurl4 libjansson4 libyaml-0-2 libssl3 libsqlite3-0 libseccomp2 zlib1g \
	&& rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/loopgate /usr/local/bin/loopgate
COPY tools/loopgate-worker /usr/local/bin/loopgate-worker
RUN useradd --create-home --uid 10001 loopgate && mkdir -p /work && chown loopgate /work
# numeric: runAsNonRoot (the Job's securityContext) can check it
USER 10001
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/loopgate-worker"]
CMD ["loopgate", "run", "--help"]
