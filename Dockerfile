# The application image (the B2BUA app; also runs the reference recording server).
# Production connects it to the official drachtio-server image: see docker-compose.yml.
# Build stage: every dependency, the native batched UDP addon (native/udp-batch, built by npm ci's
# install step) and the compiled product (npm run build -> dist/); then only what runs is kept.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json binding.gyp ./
COPY native ./native
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev && npm cache clean --force

# Run stage: the compiled product, its production dependencies and the addon, as `npm start` runs it.
FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/build/Release/udp_batch.node ./build/Release/udp_batch.node
COPY --from=build /app/dist ./dist
COPY console/dist ./console/dist
COPY prompts ./prompts
USER node
ENV NODE_ENV=production
CMD ["node", "dist/app/main.js"]
