# cadence services on Debian bookworm: build stage with the -dev packages, runtime stage with
# only the shared libraries, the binaries, the schemas and the default playbook.
FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config librdkafka-dev libevent-dev libjansson-dev \
      libhiredis-dev libpcre2-dev libssl-dev libglib2.0-dev libzstd-dev \
      libcurl4-openssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DCADENCE_TESTS=OFF \
      -DCADENCE_DATA_DIR=/usr/share/cadence \
    && cmake --build /build -j"$(nproc)" && cmake --install /build --prefix /usr/local

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      librdkafka1 libevent-2.1-7 libjansson4 libhiredis0.14 libpcre2-8-0 libssl3 \
      libglib2.0-0 libzstd1 tzdata ca-certificates curl \
      libcurl4 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/cadence* /usr/local/bin/
COPY schemas /usr/share/cadence/schemas
COPY examples /usr/share/cadence/examples
COPY services/gateway/console /usr/share/cadence/services/gateway/console
USER nobody
