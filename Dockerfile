# wazuh-bpf-agent image, used by docker-compose.yml (README: "Quick start with Docker Compose").
# Two stages on the same Node image, so that the native modules built in the first one
# (better-sqlite3) match the Node ABI that runs them in the second.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
# clang and libbpf-dev compile the CO-RE eBPF object (bpf/Makefile: clang only, no llvm tools);
# make, g++ and python3 let node-gyp build better-sqlite3 when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends clang libbpf-dev make g++ python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY bpf bpf/
COPY proto proto/
COPY src src/
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
# libbpf.so.1 is loaded at run time through koffi. mount(8), which the agent uses to mount tracefs
# where the host has not, is already in the base image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libbpf1 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/wazuh-bpf-agent
COPY --from=build /build/package.json ./
COPY --from=build /build/node_modules node_modules/
COPY --from=build /build/dist/src dist/src/
COPY --from=build /build/dist/bpf dist/bpf/
COPY conf conf/
COPY conf/ossec.conf /etc/wazuh-bpf-agent/ossec.conf
# client.keys, counters, the FIM baseline, the spool and logs
VOLUME /var/lib/wazuh-bpf-agent
ENTRYPOINT ["node", "/opt/wazuh-bpf-agent/dist/src/cli.js"]
CMD ["-c", "/etc/wazuh-bpf-agent/ossec.conf", "--home", "/var/lib/wazuh-bpf-agent", "run"]
