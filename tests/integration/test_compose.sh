#!/usr/bin/env bash
# docker-compose.yml is valid for Debian's docker-compose (no engine needed for `config`).
set -euo pipefail
cd "${CADENCE_SOURCE_DIR:-$(dirname "$0")/../..}"
docker-compose -f docker-compose.yml config -q
services=$(docker-compose -f docker-compose.yml config --services | sort | tr '\n' ' ')
for s in kafka redis worker scheduler gateway; do
  case " $services " in *" $s "*) ;; *) echo "missing service $s in: $services"; exit 1 ;; esac
done
grep -q 'KAFKA_PROCESS_ROLES: broker,controller' docker-compose.yml || { echo "Kafka not in KRaft mode"; exit 1; }
grep -q '^FROM debian:bookworm' Dockerfile || { echo "Dockerfile not on Debian bookworm"; exit 1; }
echo "docker-compose.yml valid; services: $services"
