# The service image: receiver, processor, migrations and the demo exporter, run from the TypeScript
# sources with tsx. Used by docker-compose.yml; ROLE, KAFKA_BROKERS, CLICKHOUSE_URL and the other
# variables of service/config.ts configure it.
#
#   docker build -t k8s-expenses .
#   docker run -e KAFKA_BROKERS=kafka:9092 -e ROLE=receiver -p 9201:9201 k8s-expenses
FROM node:20.20.2-bookworm-slim

ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

WORKDIR /app

# Dependencies first, so a source change does not reinstall them. --omit=optional leaves out the
# embedded ClickHouse engine (chdb, an optional dependency of several hundred MB): in a container
# the service talks to a ClickHouse server (CLICKHOUSE_URL). It also leaves out esbuild's platform
# package (an optional dependency of tsx's esbuild); esbuild's install script then fetches the one
# for this platform itself, and the check below fails the build if that did not work.
# `npm install` (which follows the lockfile) rather than `npm ci`: chdb names platform packages
# for other systems that not every registry serves, and `npm ci` refuses a lockfile without them.
COPY package.json package-lock.json ./
RUN npm install --omit=dev --omit=optional \
    && npm cache clean --force

COPY proto ./proto
COPY migrations ./migrations
COPY ingest ./ingest
COPY receiver ./receiver
COPY processor ./processor
COPY service ./service
COPY demo ./demo

# TypeScript runs through tsx's loader: prove it works here (esbuild present, chdb not needed).
RUN node --import tsx --input-type=module --eval "await import('./service/config.ts'); await import('./demo/exporter.ts');" \
    && test ! -e node_modules/chdb

# The image's unprivileged `node` user (uid 1000); DATA_DIR stays writable for ROLE=all.
RUN mkdir -p /app/data && chown node:node /app/data
USER node

ENV PORT=9201 \
    HOST=0.0.0.0 \
    DATA_DIR=/app/data

EXPOSE 9201

# No curl in the slim image: Node asks /healthz itself.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 9201) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# node runs as PID 1 and handles SIGTERM itself: it drains in-flight work and exits (service/main.ts).
CMD ["node", "--import", "tsx", "service/main.ts"]
