# The application image (the B2BUA app; also runs the reference recording server).
# Production connects it to the official drachtio-server image: see docker-compose.yml.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# the native batched UDP addon (native/udp-batch) is built by npm ci's install step
COPY package.json package-lock.json binding.gyp ./
COPY native ./native
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY src ./src
COPY console/dist ./console/dist
COPY prompts ./prompts
USER node
ENV NODE_ENV=production
CMD ["node", "--import", "tsx", "src/app/main.ts"]
