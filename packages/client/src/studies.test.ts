/**
 * Studies from the CLI (issue 16): `study list`, and `study run` of a study file at a reduced size with
 * --set, which writes the report (HTML, CSV, each chart as SVG) to --out; a parameter the study does not
 * sweep is the API's refusal. Against a real server (local engine).
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, startServer } from '@iommu-lab/api/src/testing/harness';
import { type StudySpec, createClient } from './index';
import { spawnCli } from './testing/spawn-cli';

const cli = (url: string, args: string[]) => spawnCli(['--url', url, ...args]);

describe('studies from the CLI', () => {
  let server: Running;
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lab-studies-'));
  beforeAll(async () => {
    server = await startServer({ parallelRuns: 2 });
  });
  afterAll(() => server.close());

  it('study list names the built-in studies with their runs at full size', async () => {
    const out = await cli(server.url, ['study', 'list']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(
      /^study\s+runs\s+title\n[─ ]+\npinning-vs-on-demand\s+36\s+Pinning against on-demand mapping: .+\npri-credits\s+48\s+PRI credits and page request queue depth: .+\niotlb-reach\s+30\s+IOTLB reach: .+\nnested-cost\s+81\s+Nested cost: .+\nkernel-profiles\s+18\s+Kernel profiles: /,
    );
  });

  it('study run of a study file with --set writes the report: HTML, CSV and a SVG per chart', async () => {
    const builtin = ((await createClient({ baseUrl: server.url }).studies.list()) as StudySpec[]).find(
      (s) => s.name === 'iotlb-reach',
    );
    for (const experiment of builtin!.experiments) experiment.config.workload.streams[0]!.count = 1000;
    const file = join(dir, 'small.json');
    writeFileSync(file, JSON.stringify(builtin));
    const out = join(dir, 'report');
    const result = await cli(server.url, [
      'study',
      'run',
      file,
      '--engine',
      'local',
      '--set',
      '/system/iommus/0/capabilities/iotlb/entries=16,4096',
      '--set',
      '/workload/streams/0/workingSet=1048576,134217728',
      '--out',
      out,
    ]);
    expect(result.stderr).toMatch(/^study iotlb-reach \(\w+\): 8 run\(s\) on the local engine/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(
        `^study iotlb-reach done: 8 of 8 runs answered \\(8 done\\) in \\d+ s \\(wall\\); wrote report\\.html \\(\\d+ KiB\\), data\\.csv \\(1 KiB\\), chart-0\\.svg \\(\\d+ KiB\\), chart-0\\.png \\(\\d+ KiB\\), chart-1\\.svg \\(\\d+ KiB\\), chart-1\\.png \\(\\d+ KiB\\) to ${out}\\n$`,
      ),
    );
    expect(readdirSync(out).sort()).toEqual([
      'chart-0.png',
      'chart-0.svg',
      'chart-1.png',
      'chart-1.svg',
      'data.csv',
      'report.html',
    ]);
    const csv = readFileSync(join(out, 'data.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(9);
    expect(csv.slice(1).map((line) => line.split(',').slice(0, 3).join(','))).toEqual([
      '4 KiB pages,16,1',
      '4 KiB pages,16,128',
      '4 KiB pages,4096,1',
      '4 KiB pages,4096,128',
      '2 MiB pages,16,1',
      '2 MiB pages,16,128',
      '2 MiB pages,4096,1',
      '2 MiB pages,4096,128',
    ]);
    for (const chart of ['chart-0.svg', 'chart-1.svg'])
      expect(readFileSync(join(out, chart), 'utf8')).toMatch(
        /^<svg[\s\S]*IOTLB entries \(entries\)[\s\S]*<\/svg>$/,
      );
    expect(readFileSync(join(out, 'report.html'), 'utf8').match(/<figure data-chart/g)).toHaveLength(2);
  }, 120_000);

  it('a --set of a parameter the study does not sweep is the API’s refusal, exit 1', async () => {
    const result = await cli(server.url, ['study', 'run', 'iotlb-reach', '--set', '/seed=1,2']);
    expect(result).toMatchObject({
      code: 1,
      stderr:
        'error: EINVAL: study iotlb-reach sweeps no parameter /seed. (reason: no-such-parameter, path: /seed)\n',
    });
  });
});
