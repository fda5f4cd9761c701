# syntax=docker/dockerfile:1
# model-server's container image (docs/deployment.md). Stages:
#   manifests   the lock file and the workspaces' package.json files, for both installs below
#   build       dev dependencies, compiles the packages, builds the example archives; never shipped
#   deps        production dependencies of the server's packages only, for the target platform
#   runtime     node + those dependencies + the compiled packages; runs as uid 1000, no npm, no compilers
#   demo        runtime + the example model store and docker-compose's config (docker-compose.yml)
#   production  the default target: runtime as it is; models come from a volume at /models
#   docker build -t model-server:0.1.0 .                 # production
#   docker build --target demo -t model-server:demo .    # what docker-compose.yml runs
ARG NODE_IMAGE=node:20-bookworm-slim

# What npm needs to install the workspaces: the lock file and every workspace's package.json.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/sdk/package.json packages/sdk/
COPY packages/archive/package.json packages/archive/
COPY packages/worker/package.json packages/worker/
COPY packages/gateway/package.json packages/gateway/
COPY packages/model-archiver/package.json packages/model-archiver/
COPY packages/workflow-archiver/package.json packages/workflow-archiver/
COPY packages/cli/package.json packages/cli/
COPY examples/ocr/package.json examples/ocr/

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# onnxruntime-node ships its CPU binaries in the package; skip the optional GPU download.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY --from=manifests /src ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.base.json ./
COPY packages packages
COPY scripts scripts
COPY examples examples
# Only the server's packages and the archivers (for the examples), not the benchmarks. The example
# workflows (.war) land in the model store beside the models.
RUN npx tsc -b packages/cli packages/model-archiver packages/workflow-archiver && node scripts/build-dashboard.mjs && node scripts/build-examples.mjs /src/model-store

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
# Set by BuildKit to the platform being built (amd64, arm64).
ARG TARGETARCH
COPY --from=manifests /src ./
# The server's workspaces only: the archiver's esbuild is a build tool and stays out. onnxruntime-node
# carries binaries for every OS and CPU (about 290 MB); only this platform's are kept (about 45 MB).
RUN npm ci --omit=dev --no-audit --no-fund \
      -w packages/cli -w packages/gateway -w packages/worker -w packages/archive -w packages/sdk -w packages/protocol \
 && ort_arch=$([ "${TARGETARCH}" = arm64 ] && echo arm64 || echo x64) \
 && find node_modules/onnxruntime-node/bin -mindepth 2 -maxdepth 2 -type d ! -name linux -exec rm -rf {} + \
 && find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 -type d ! -name "${ort_arch}" -exec rm -rf {} + \
 && test -f node_modules/onnxruntime-node/bin/napi-v6/linux/${ort_arch}/onnxruntime_binding.node

FROM ${NODE_IMAGE} AS runtime
# The server needs only node: package managers go (compilers are not in the slim base). They sit in the
# base image's layers, so this hides them without making the image smaller.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /opt/yarn-* \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg \
 && mkdir -p /models /etc/model-server
WORKDIR /app
ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL=skip \
    LOG_LOCATION=/tmp/model-server/logs
COPY --from=deps /app/package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/packages/protocol/package.json packages/protocol/
COPY --from=build /src/packages/protocol/dist packages/protocol/dist
COPY --from=build /src/packages/sdk/package.json packages/sdk/
COPY --from=build /src/packages/sdk/dist packages/sdk/dist
COPY --from=build /src/packages/archive/package.json packages/archive/
COPY --from=build /src/packages/archive/dist packages/archive/dist
COPY --from=build /src/packages/worker/package.json packages/worker/
COPY --from=build /src/packages/worker/dist packages/worker/dist
COPY --from=build /src/packages/gateway/package.json packages/gateway/
COPY --from=build /src/packages/gateway/dist packages/gateway/dist
COPY --from=build /src/packages/cli/package.json packages/cli/
COPY --from=build /src/packages/cli/dist packages/cli/dist
COPY deploy/docker/config.properties /etc/model-server/config.properties
# Everything the server writes goes under /tmp (unpacked archives, worker sockets, the state file, a
# generated key file), so the root file system can be read-only with an emptyDir on /tmp.
USER 1000:1000
EXPOSE 8080 8081 8082 7070 7071
# Liveness, not readiness: the process answers HTTP. /ping and /v2/health/ready turn unhealthy while a
# model loads or a worker restarts, which is no reason for an orchestrator to kill the container.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/v2/health/live',{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The flags are the default `vmargs`; given here, `start --foreground` needs no second node process to
# apply them (keep them in step with `vmargs` in the config files; a test checks).
ENTRYPOINT ["node", "--max-semi-space-size=4", "--heap-growing-percent=50", "packages/cli/dist/main.js"]
CMD ["start", "--foreground", "--ncs", "--ts-config", "/etc/model-server/config.properties"]

FROM runtime AS demo
USER 0:0
COPY --from=build /src/model-store /app/model-store
COPY deploy/config.properties /app/deploy/config.properties
# docker-compose.yml mounts named volumes here; a new volume takes the folder's owner from the image.
RUN mkdir -p /app/keys /app/logs && chown 1000:1000 /app/keys /app/logs
USER 1000:1000
ENV LOG_LOCATION=/app/logs
CMD ["start", "--foreground", "--ncs", "--ts-config", "/app/deploy/config.properties", "--workflow-store", "/app/model-store", "--workflows", "all"]

FROM runtime AS production
