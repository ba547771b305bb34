# Officine Appliance — one image: PostgreSQL, the app, the scheduler and Caddy under a small
# supervisor (provisioning/officine-services.sh run). Built by the same provisioning script
# as a Debian 12 host (install.sh --docker-build); per-container secrets, database and
# Caddy settings are created at first start (docker-entrypoint.sh → install.sh).
#
#   docker build -t officine-appliance .
#   docker run -d --name officine -p 443:8443 -p 80:8080 \
#     -v officine-etc:/etc/officine -v officine-data:/var/lib/officine \
#     -v officine-pg:/var/lib/officine-postgresql -v officine-caddy:/var/lib/caddy \
#     -v officine-walspool:/var/lib/officine-wal-spool \
#     -e OFFICINE_SITE=officine.groupement.fr -e OFFICINE_TLS=acme:dsi@groupement.fr \
#     officine-appliance
#
# Not built in CI (no Docker engine on the build machines): the script path it runs is
# what the tests exercise (appliance/test/platform/install.test.ts, dockerfile.test.ts).

# ---- build: compile the server, the agent and the UI with the full toolchain
FROM node:20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build

# ---- runtime: Debian 12 + Node 20, then install.sh lays out /opt/officine like on a host
FROM node:20-bookworm-slim
COPY --from=build /src /src
RUN /src/provisioning/install.sh --docker-build --min-ram-mb 0 --min-disk-mb 0 \
 && rm -rf /src /var/lib/apt/lists/*
# Caddy listens on unprivileged ports inside the container; publish them as 80/443.
ENV OFFICINE_HTTP_PORT=8080 OFFICINE_HTTPS_PORT=8443
# The WAL spool is a volume too: PostgreSQL counts a spooled segment as archived, so one
# not yet shipped must survive the container.
VOLUME ["/etc/officine", "/var/lib/officine", "/var/lib/officine-postgresql", "/var/lib/officine-wal-spool", "/var/lib/caddy"]
EXPOSE 8080 8443 8443/udp
# The supervisor starts as root only to hand each process its own user (postgres,
# officine, caddy): no service runs as root.
# Node through the release's launcher, like every process of the appliance (the runtime a
# bundle ships once an upgrade installed one, else the image's Node 20).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD /opt/officine/current/provisioning/officine-node -e "fetch('http://127.0.0.1:'+(process.env.OFFICINE_APP_PORT||8081)+'/readyz').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"
ENTRYPOINT ["/opt/officine/current/provisioning/docker-entrypoint.sh"]
