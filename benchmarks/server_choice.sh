#!/bin/bash
# Usage: bash benchmarks/server_choice.sh   (needs `make test` once for the venv; writes only under /tmp)
# Server choice: same Strata app on uvicorn vs granian, server pinned to core 0, load generator on core 1.
# Interleaved rounds: A B A B A B.
export AWS_ACCESS_KEY_ID=AKSATESTROOT00000000 AWS_SECRET_ACCESS_KEY=test/secret/key/for/strata/e2e/0000000000
B=$(cd "$(dirname "$0")/.." && pwd)/.venv/bin
cd "$(mktemp -d)"
for round in 1 2 3; do
 for srv in uvicorn granian; do
  rm -rf d-$srv; port=$((4800 + RANDOM % 100))
  STRATA_SERVER=$srv STRATA_ROOT_ACCESS_KEY=$AWS_ACCESS_KEY_ID STRATA_ROOT_SECRET_KEY=$AWS_SECRET_ACCESS_KEY STRATA_LOG_LEVEL=warning taskset -c 0 $B/strata server --port $port --data-dir d-$srv >srv-$srv.log 2>&1 &
  pid=$!
  for i in $(seq 50); do curl -sf localhost:$port/_strata/health >/dev/null && break; sleep 0.1; done
  for spec in "put 4KiB" "get 4KiB" "get 1MiB"; do
    set -- $spec
    r=$(taskset -c 1 $B/strata bench s3 --endpoint http://127.0.0.1:$port --op $1 --size $2 -c 32 -d 6s --warmup 1s --objects 200 --json -q 2>/dev/null)
    echo "$round $srv $1 $2 $(echo "$r" | $B/python -c 'import json,sys; d=json.load(sys.stdin); print(round(d.get("ops_per_s", d.get("throughput",{}).get("ops_per_s",0))), d.get("mib_per_s"), d.get("latency_ms", {}).get("p99", ""), d.get("errors"))' 2>&1 | tail -1)"
  done
  kill $pid; wait $pid 2>/dev/null
 done
done
