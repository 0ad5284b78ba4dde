#!/usr/bin/env bash
# A parameter sweep over REST: an experiment from a preset, swept over the device's PRI capacity, run on
# the server's worker pool (or BullMQ when the server has REDIS_URL), then one comparison table.
#   examples/curl/sweep.sh [preset-id]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
PRESET="${1:-sva-pri-vtd}"

CONFIG=$(get /presets | pick "({ version: 1, system: v.find(p => p.id === '$PRESET').config, workload: v.find(p => p.id === '$PRESET').workload, seed: 1 })")
EXPERIMENT=$(post /experiments "{\"name\":\"$PRESET PRI sweep\",\"config\":$CONFIG}" | pick v.id)
SWEEP=$(post "/experiments/$EXPERIMENT/sweeps" '{"parameters":[{"path":"/system/devices/0/pri/capacity","values":[2,8,32]}]}' | pick v.id)
until [ "$(get "/sweeps/$SWEEP" | pick v.status)" != running ]; do sleep 0.5; done
RUNS=$(get "/sweeps/$SWEEP" | pick "v.runs.map(r => r.id).join(',')")
get "/compare?runs=$RUNS" | pick '[
  "metric".padEnd(34) + v.runs.map(r => r.label.padStart(18)).join(""),
  ...["/system/faults/creditWaits", "/system/faults/latencyNs/p99", "/system/dmaLatencyNs/p99"].map(path => {
    const m = v.metrics.find(m => m.path === path);
    return path.padEnd(34) + m.values.map(x => String(x).padStart(18)).join("");
  }),
].join("\n")'
