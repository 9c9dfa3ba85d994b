# syntax=docker/dockerfile:1
# annakv node image: deploy/README.md explains how it is run (Compose, Kubernetes).
#   docker build -t annakv:0.1.0 .
# The default command binds every interface, so the node refuses to start until it is given
# cluster TLS (--cluster-tls-ca/-cert/-key, or ANNAKV_CLUSTER_TLS_CA/_CERT/_KEY) or
# --cluster-insecure.

# Build stage: compilers and dev dependencies (AssemblyScript, TypeScript) live only here.
FROM node:20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; zeromq ships
# prebuilt binaries, so its install script has nothing to do.
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build

# Runtime stage: production dependencies, the built JS, the Wasm core and the proto.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY --from=build /src/build/annakv.wasm ./build/annakv.wasm
COPY --from=build /src/proto ./proto
USER node
# routing (clients), actor requests 6200+tid, actor gossip 6250+tid (at most 50 actors),
# membership, metrics (/metrics, /status, /ready); every port moves with --port-offset.
EXPOSE 6450 6200-6249 6250-6299 6350 6400
# /ready answers 200 once the node serves its keys; slim has no curl, so Node's fetch asks.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (6400 + Number(process.env.ANNAKV_PORT_OFFSET || 0)) + '/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["start", "--host", "0.0.0.0"]
