# The service image: receiver, processor, migrations and the demo exporter, compiled to JavaScript.
# Used by docker-compose.yml; ROLE, KAFKA_BROKERS, CLICKHOUSE_URL and the other variables of
# service/config.ts configure it.
#
#   docker build -t k8s-expenses .
#   docker run -e KAFKA_BROKERS=kafka:9092 -e ROLE=receiver -p 9201:9201 k8s-expenses
#   docker run -e CLICKHOUSE_URL=http://clickhouse:8123 k8s-expenses node dist/cli/migrate.js
#
# Node 26 is the Active LTS line (since October 2026, supported until April 2029); 24 and 22 are
# in maintenance only. The code also runs on Node 20 (package.json `engines`), which the tests use.
# Debian trixie is the current Debian stable. Both stages use the same pinned image.

# Build: every dependency, TypeScript included, and `npm run build` (scripts/build.mjs) -> dist/.
FROM node:26.10.0-trixie-slim AS build

ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

WORKDIR /app

# The embedded ClickHouse engine (chdb, an optional dependency of several hundred MB) is dropped
# from the manifest before installing: the image talks to a ClickHouse server, and compiling does
# not need it. Other optional dependencies stay: the TypeScript compiler's platform binary is one.
# `npm install` (which follows the lockfile) rather than `npm ci`: chdb names platform packages
# for other systems that not every registry serves, and `npm ci` refuses a lockfile without them.
COPY package.json package-lock.json ./
RUN npm pkg delete optionalDependencies.chdb \
    && npm install \
    && npm cache clean --force

COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs ./scripts/build.mjs
COPY core ./core
COPY receiver ./receiver
COPY ingest ./ingest
COPY processor ./processor
COPY query ./query
COPY cli ./cli
COPY service ./service
COPY demo ./demo
COPY migrations ./migrations
COPY proto ./proto
RUN npm run build

# Runtime: production dependencies only (no TypeScript, no test tools, no chdb) and dist/.
FROM node:26.10.0-trixie-slim AS runtime

ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

WORKDIR /app

COPY package.json package-lock.json ./
RUN npm install --omit=dev --omit=optional --ignore-scripts \
    && npm cache clean --force \
    && test ! -e node_modules/chdb \
    && test ! -e node_modules/typescript

# dist/ has the layout of the sources, with migrations/ and proto/ beside the code that reads them.
COPY --from=build /app/dist ./dist

# The image's unprivileged `node` user (uid 1000); DATA_DIR stays writable for ROLE=all.
RUN mkdir -p /app/data && chown node:node /app/data
USER node

ENV PORT=9201 \
    HOST=0.0.0.0 \
    DATA_DIR=/app/data

EXPOSE 9201

# No curl in the slim image: Node asks /healthz itself. /healthz answers as soon as the port is
# open, also while Kafka or ClickHouse are still awaited (/ready says that).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 9201) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# node runs as PID 1, with no npm or shell in between, and handles SIGTERM itself: it drains
# in-flight work and exits (service/main.ts). The tools run the same way: node dist/cli/migrate.js,
# node dist/cli/sql.js, node dist/demo/main.js. The Node option is the one npm start passes
# (service/node-flags.ts says why): V8 reads it at start-up, NODE_OPTIONS does not allow it.
CMD ["node", "--initial-old-space-size=128", "dist/service/main.js"]
