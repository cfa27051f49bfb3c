# The Rounds appservice and bots. Built by docker-compose.yml.
FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY vendor ./vendor
RUN npm ci --omit=dev --no-audit --no-fund
COPY appservice ./appservice
COPY bots ./bots
COPY scripts/appservice.mjs ./scripts/
COPY tsconfig.json ./
# The widgets are built here and served by the appservice (Vite is a runtime dependency for this).
COPY widgets ./widgets
RUN node node_modules/vite/bin/vite.js build --config widgets/vite.config.ts
# The start script bundles the TypeScript here at each start.
RUN mkdir -p node_modules/.cache/rounds && chown node node_modules/.cache/rounds
USER node
EXPOSE 9100 9101
CMD ["node", "scripts/appservice.mjs"]
