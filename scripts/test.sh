#!/usr/bin/env bash
# Set up, start Redis and PostgreSQL when they are down, then run the whole test suite.
# Extra arguments go to pytest (e.g. ./scripts/test.sh tests/jobs/test_inputs.py -x).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "test: starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        >/dev/null
    for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    echo "test: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    for _ in $(seq 100); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.1; done
fi

# The tests make and drop databases of their own; they connect through the database "test".
psql -h 127.0.0.1 -U postgres -d test -c "select 1" >/dev/null 2>&1 \
    || createdb -h 127.0.0.1 -U postgres test 2>/dev/null || true

exec .venv/bin/python -m pytest "$@"
