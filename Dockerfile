# mpsiem-telegram — multi-stage image: build with the full toolchain, run as a non-root user.
# The database lives in the /data volume; settings come from the environment (or an env file).
# Node 24 is the current LTS line (Node 20 reached end of life in April 2026); both stages use the same
# major, so better-sqlite3's native addon is built for the ABI it runs on.

FROM node:24-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles its native addon when no prebuilt binary can be fetched.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    BOT_DB_PATH=/data/bot.db \
    BOT_HTTP_HOST=0.0.0.0 \
    BOT_HTTP_PORT=9464
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD node -e "fetch('http://127.0.0.1:9464/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# The same command the tests start: the package's bin with the run sub-command.
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["run"]
