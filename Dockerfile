# Lock as a container: Node.js 24 runs the TypeScript sources directly (no build step).
#   docker build -t lock .
#   docker run -p 3000:3000 -e DATABASE_URL=… -e LOCK_KEK=… -e LOCK_ISSUER=https://… lock
# Without DATABASE_URL it starts the embedded PostgreSQL under /var/lib/lock/data (try-outs only:
# mount a volume there). See docs/deployment.md.
FROM node:24-bookworm-slim

ENV NODE_ENV=production \
    LOCK_DATA_DIR=/var/lib/lock/data \
    LOCK_KEYS_DIR=/var/lib/lock/keys \
    NODE_COMPILE_CACHE=/app/node_modules/.cache/lock \
    MALLOC_ARENA_MAX=2

WORKDIR /app

# Dependencies first, so that a source change does not reinstall them. The runtime imports only
# `dependencies` (src/ imports no devDependency), so the devDependencies stay out of the image.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY src ./src
COPY views ./views
COPY migrations ./migrations
COPY LICENSE README.md ./
# Compiled here, read at every start; the first start adds src/main.ts itself. With every module
# in the cache Node never loads its TypeScript stripper (src/cli/node-flags.ts, COMPILE_CACHE_DIR).
RUN node --input-type=module -e "await import('./src/app.ts'); await import('./src/cli/serve.ts')" \
 && chown -R node:node node_modules/.cache

# The image's own unprivileged user; it owns only the state directory, not the code.
RUN mkdir -p /var/lib/lock/data /var/lib/lock/keys \
 && chown -R node:node /var/lib/lock \
 && chmod 700 /var/lib/lock/keys
USER node
VOLUME ["/var/lib/lock"]

EXPOSE 3000
# /healthz answers 200 while the process runs (plain HTTP; with LOCK_TLS_CERT use https and a CA).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT ?? 3000}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# SIGTERM (docker stop) drains in-flight requests; give it time: `docker stop -t 30`.
STOPSIGNAL SIGTERM
# --max-semi-space-size, --heap-growing-percent: see src/cli/node-flags.ts (RSS under load).
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=100", "src/main.ts"]
