# The lab server (which also serves the dashboard), built from the repository root.
# docker compose up  (see docker-compose.yml; needs IOMMU_LAB_TOKEN since it listens beyond loopback)
FROM node:20-bookworm-slim

WORKDIR /app
# better-sqlite3 builds from source where its prebuilt binary cannot be fetched.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4100 \
    IOMMU_LAB_DB=/app/data/iommu-lab.db

# Dependencies first, so source edits do not reinstall them.
COPY package.json package-lock.json turbo.json tsconfig.base.json ./
COPY apps/api/package.json apps/api/
COPY packages/emulator/package.json packages/emulator/
COPY packages/wire/package.json packages/wire/
COPY packages/bench-report/package.json packages/bench-report/
COPY packages/db/package.json packages/db/
COPY packages/client/package.json packages/client/
COPY apps/web/package.json apps/web/
COPY examples/package.json examples/
# npm ci's postinstall generates the Prisma client from the schema.
COPY prisma prisma
COPY packages/db/scripts packages/db/scripts
RUN npm ci --include=dev --no-audit --no-fund

COPY apps apps
COPY packages packages
# The dashboard, built once; the API serves it at /.
RUN npm run build --workspace @iommu-lab/web

RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 4100
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz',{headers:{authorization:'Bearer '+process.env.IOMMU_LAB_TOKEN}}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["npm", "run", "start", "--workspace", "@iommu-lab/api"]
