# The Rounds appservice and bots. Built by docker-compose.yml.
FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY vendor ./vendor
RUN npm ci --omit=dev --no-audit --no-fund
COPY appservice ./appservice
COPY bots ./bots
COPY tsconfig.json ./
USER node
EXPOSE 9100 9101
CMD ["node", "--import", "tsx", "appservice/main.ts"]
