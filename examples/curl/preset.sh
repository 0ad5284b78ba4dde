#!/usr/bin/env bash
# A scenario preset end to end over REST: a lab from the preset, its workload, the fault counts and
# latencies it produced, then the lab deleted.
#   examples/curl/preset.sh sva-pri-vtd        (IOMMU_LAB_URL to use another server)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
PRESET="${1:?usage: preset.sh <preset-id> (see GET /api/v1/presets)}"

LAB=$(post /labs "{\"preset\":\"$PRESET\"}" | pick v.id)
WORKLOAD=$(get /presets | pick "v.find(p => p.id === '$PRESET').workload")
RESULT=$(post "/labs/$LAB/workloads" "{\"workload\":$WORKLOAD}")
echo "$RESULT" | pick '`'"$PRESET"': ${v.progress.completed}/${v.progress.total} transactions completed, ${v.metrics.system.faults.pageRequests} page requests, ${v.metrics.system.faults.stalls} stalls, fault latency p50 ${v.metrics.system.faults.latencyNs.p50} ns p99 ${v.metrics.system.faults.latencyNs.p99} ns, DMA p99 ${v.metrics.system.dmaLatencyNs.p99} ns`'
call -X DELETE "$B/labs/$LAB" > /dev/null
