#!/usr/bin/env bash
# docker-compose.yml is valid for Debian's docker-compose (no engine needed for `config`).
set -euo pipefail
cd "${CADENCE_SOURCE_DIR:-$(dirname "$0")/../..}"
docker-compose -f docker-compose.yml config -q
services=$(docker-compose -f docker-compose.yml config --services | sort | tr '\n' ' ')
for s in kafka redis worker scheduler gateway notifier; do
  case " $services " in *" $s "*) ;; *) echo "missing service $s in: $services"; exit 1 ;; esac
done
grep -q 'KAFKA_PROCESS_ROLES: broker,controller' docker-compose.yml || { echo "Kafka not in KRaft mode"; exit 1; }
grep -q '^FROM debian:bookworm' Dockerfile || { echo "Dockerfile not on Debian bookworm"; exit 1; }
# Production-like settings: Kafka 4.x with a data volume and a host listener, Redis with AOF on
# a volume and no eviction, a readiness healthcheck per cadence service, one image built once.
cfg=$(docker-compose -f docker-compose.yml config)
grep -q 'image: apache/kafka:4\.' docker-compose.yml || { echo "Kafka is not 4.x"; exit 1; }
grep -q 'kafka-data:/var/lib/kafka/data' docker-compose.yml || { echo "no Kafka volume"; exit 1; }
grep -q 'HOST://localhost:29092' docker-compose.yml || { echo "no host listener for kcat"; exit 1; }
grep -q -- '--maxmemory-policy", "noeviction"' docker-compose.yml || { echo "Redis may evict"; exit 1; }
grep -q -- '"--appendonly", "yes"' docker-compose.yml || { echo "Redis AOF off"; exit 1; }
grep -q 'redis-data:/data' docker-compose.yml || { echo "no Redis volume"; exit 1; }
for s in worker scheduler gateway notifier; do
  docker-compose -f docker-compose.yml config | awk -v s="  $s:" '$0==s{f=1;next} /^  [a-z-]+:$/{f=0} f' \
    | grep -q '/readyz' || { echo "$s has no /readyz healthcheck"; exit 1; }
done
[ "$(echo "$cfg" | grep -c 'build:')" = 1 ] || { echo "the image must be built once"; exit 1; }
echo "docker-compose.yml valid; services: $services"
