// A paced HTTP client in its own process for the control plane's latency figures: one keep-alive
// connection, one request at a time, started at most `rate` a second, each timed from its send to the end
// of its response with process.hrtime (nanoseconds), where autocannon reports whole milliseconds. After a
// warm-up second it keeps every latency for `seconds`; prints {requests, errors, non2xx, p50, p99, max,
// rate} with latencies in ms.
import { Agent, request } from 'node:http';

const [url, rate, seconds] = [new URL(process.argv[2]), Number(process.argv[3]), Number(process.argv[4])];
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const intervalNs = 1e9 / rate;

function once() {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ns: Number(process.hrtime.bigint() - start), status: res.statusCode }));
    });
    req.on('error', () => resolve({ ns: -1, status: 0 }));
    req.end();
  });
}

const sleep = (ns) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ns / 1e6)));
const latencies = [];
let [errors, non2xx] = [0, 0];
const warmupEnd = process.hrtime.bigint() + 1_000_000_000n;
let measureStart = 0n;
let next = Number(process.hrtime.bigint());
for (;;) {
  const now = process.hrtime.bigint();
  if (measureStart === 0n && now >= warmupEnd) measureStart = now;
  if (measureStart !== 0n && now - measureStart >= BigInt(seconds * 1e9)) break;
  const { ns, status } = await once();
  if (measureStart !== 0n) {
    if (ns < 0) errors++;
    else if (status < 200 || status > 299) non2xx++;
    else latencies.push(ns / 1e6);
  }
  // The next start is one interval after this one's, or at once if that has passed (a slow answer).
  next += intervalNs;
  const wait = next - Number(process.hrtime.bigint());
  if (wait > 0) await sleep(wait);
  else next = Number(process.hrtime.bigint());
}
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
process.stdout.write(
  JSON.stringify({
    requests: latencies.length,
    errors,
    non2xx,
    p50: at(0.5),
    p99: at(0.99),
    max: latencies.at(-1) ?? 0,
    rate: latencies.length / seconds,
  }),
);
agent.destroy();
