# syntax=docker/dockerfile:1
# SENTpulse: build the dashboard and the five agents, then ship a small runtime image.

# the Bun version of .bun-version (development, CI and agent builds use the same)
FROM oven/bun:1.4.4 AS build
WORKDIR /src
COPY package.json bun.lock bunfig.toml ./
RUN bun install --frozen-lockfile
COPY tsconfig.json ./
COPY server server
COPY agent agent
COPY db db
COPY scripts scripts
COPY web web
RUN if [ -f web/package.json ]; then cd web && bun install --frozen-lockfile && bunx vite build; fi
# the five agents with the copies the installers fetch (xz, the macOS tar.xz, the Windows BCJ2
# package): a third of each binary on the wire instead of half with gzip
RUN apt-get update && apt-get install -y --no-install-recommends xz-utils 7zip && rm -rf /var/lib/apt/lists/*
RUN scripts/build-agents

FROM oven/bun:1.4.4-slim AS deps
WORKDIR /app
COPY package.json bun.lock bunfig.toml ./
RUN bun install --frozen-lockfile --production

FROM oven/bun:1.4.4-slim
WORKDIR /app
ENV NODE_ENV=production SENTPULSE_PORT=8080 SENTPULSE_DATA_DIR=/data \
    SENTPULSE_AGENT_DIST_DIR=/app/dist/agent SENTPULSE_WEB_DIST_DIR=/app/web/dist
COPY --from=deps /app/node_modules node_modules
COPY package.json tsconfig.json bunfig.toml ./
COPY server server
COPY db db
COPY --from=build /src/dist/agent dist/agent
COPY --from=build /src/web/dist web/dist
RUN mkdir -p /data && chown bun:bun /data
USER bun
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD bun -e "fetch('http://127.0.0.1:8080/healthz').then(r => process.exit(r.ok ? 0 : 1)).catch(() => process.exit(1))"
CMD ["bun", "server/main.ts"]
