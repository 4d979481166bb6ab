# Multi-stage build on Node 24 LTS: compile src/ only (tsconfig.prod.json: no test fakes, no demo or dev scripts) with
# dev dependencies, then ship production dependencies and dist/src alone.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.prod.json ./
COPY src ./src
RUN npx tsc -p tsconfig.prod.json

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
USER node
EXPOSE 4001
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4001)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# node runs as PID 1 and gets `docker stop`'s SIGTERM itself (no npm in between); src/main.ts drains and exits 0.
# The young generation is sized explicitly: with only the old-space cap, Node 24's V8 runs a full mark-compact every
# ~70 ms under webhook load (3× the CPU per webhook); the same flags as `npm start` (README "Performance").
CMD ["node", "--max-old-space-size=160", "--max-semi-space-size=8", "dist/src/main.js"]
