/** autocannon in its own process (so the load generator does not share the server's event loop). */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const bin = require.resolve('autocannon/autocannon.js');

export interface Load {
  url: string;
  seconds: number;
  connections?: number;
  method?: string;
  body?: string;
}

export interface LoadResult {
  requests: number;
  non2xx: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
}

export function runLoad(load: Load): Promise<LoadResult> {
  const args = [bin, '--json', '-d', String(load.seconds)];
  args.push('-c', String(load.connections ?? 1), '-m', load.method ?? 'GET');
  if (load.body !== undefined) args.push('-b', load.body, '-H', 'content-type=application/json');
  args.push(load.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited with ${code}`));
      const result = JSON.parse(out) as {
        requests: { total: number };
        non2xx: number;
        errors: number;
        latency: { p50: number; p99: number; max: number };
      };
      resolve({
        requests: result.requests.total,
        non2xx: result.non2xx,
        errors: result.errors,
        p50: result.latency.p50,
        p99: result.latency.p99,
        max: result.latency.max,
      });
    });
  });
}
