# model-server with the example models, for docker-compose.yml (server + Prometheus + Grafana).
FROM node:20-bookworm-slim
WORKDIR /app
# onnxruntime-node ships its CPU binaries in the package; skip the optional GPU download.
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    NODE_ENV=production \
    LOG_LOCATION=/app/logs
COPY package.json package-lock.json .npmrc ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/sdk/package.json packages/sdk/
COPY packages/worker/package.json packages/worker/
COPY packages/gateway/package.json packages/gateway/
COPY packages/model-archiver/package.json packages/model-archiver/
COPY packages/cli/package.json packages/cli/
RUN npm ci --include=dev --no-audit --no-fund
COPY . .
# Builds the packages and the example archives into model-store/ with the project's model-archiver.
RUN npm run build && mkdir -p /app/keys /app/logs && chown -R node:node /app/keys /app/logs /app/model-store
USER node
EXPOSE 8080 8081 8082 7070 7071
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
  CMD node -e "fetch('http://127.0.0.1:8080/ping').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# The flags are the default `vmargs`; given here, `start --foreground` needs no second node process
# to apply them (keep them in step if deploy/config.properties sets `vmargs`).
CMD ["node", "--max-semi-space-size=4", "--heap-growing-percent=50", "packages/cli/dist/main.js", "start", "--foreground", "--ts-config", "/app/deploy/config.properties"]
