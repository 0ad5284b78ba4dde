/**
 * Studies from the CLI (issue 16): `study list`, and `study run` of a study file at a reduced size with
 * --set, which writes the report (HTML, CSV, each chart as SVG) to --out; a parameter the study does not
 * sweep is the API's refusal. Saved studies: `study save` of a built-in or a file, `study saved`, `study
 * export` and `study import` (a file of another kind is the API's refusal), `study run` of a saved id, and
 * `study runs` listing what ran, with the client's methods under them. Against a real server (local engine).
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

  it('study save of a built-in prints its id; study saved lists it; export then import makes an equal copy', async () => {
    const saved = await cli(server.url, ['study', 'save', 'pinning-vs-on-demand']);
    expect(saved.code).toBe(0);
    const id = saved.stdout.trim();
    expect(saved.stderr).toBe(`saved study pinning-vs-on-demand as ${id}, revision 1\n`);
    const listed = await cli(server.url, ['study', 'saved']);
    expect(listed.stdout).toMatch(
      new RegExp(
        `^id\\s+study\\s+revision\\s+runs\\s+title\\n[─ ]+\\n${id}\\s+pinning-vs-on-demand\\s+1\\s+36\\s+Pinning against on-demand mapping: `,
      ),
    );

    const file = join(dir, 'pinning.study.iommu-lab.json');
    const exported = await cli(server.url, ['study', 'export', id, '--out', file]);
    expect(exported).toMatchObject({
      code: 0,
      stderr: `wrote study pinning-vs-on-demand, revision 1, to ${file}\n`,
    });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
      format: 'iommu-lab/study-file',
      version: 1,
      revision: 1,
    });
    const imported = await cli(server.url, ['study', 'import', file]);
    expect(imported.code).toBe(0);
    const copy = imported.stdout.trim();
    expect(copy).not.toBe(id);
    const client = createClient({ baseUrl: server.url });
    expect((await client.studies.saved.get(copy)).spec).toEqual((await client.studies.saved.get(id)).spec);
    expect((await client.studies.saved.list()).slice(0, 2).map((study) => study.id)).toEqual([copy, id]);
  });

  it('study import of a file of another kind is the API’s refusal (exit 1); one that is not JSON a usage error (exit 2)', async () => {
    const experiment = join(dir, 'experiment.json');
    writeFileSync(experiment, JSON.stringify({ format: 'iommu-lab/experiment', version: 1, experiment: {} }));
    expect(await cli(server.url, ['study', 'import', experiment])).toMatchObject({
      code: 1,
      stderr:
        'error: EFORMAT: not an iommu-lab study file: "format" must be "iommu-lab/study-file". (reason: not-a-study)\n',
    });
    const text = join(dir, 'notes.json');
    writeFileSync(text, 'not json');
    const notJson = await cli(server.url, ['study', 'import', text]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/^error: EUSAGE: .*notes\.json is not JSON/);
  });

  it('study run of a saved study by id, then study runs lists it with its revision', async () => {
    const client = createClient({ baseUrl: server.url });
    const spec = (await client.studies.list()).find((s) => s.name === 'iotlb-reach')!;
    for (const experiment of spec.experiments) experiment.config.workload.streams[0]!.count = 500;
    const file = join(dir, 'iotlb-small.json');
    writeFileSync(file, JSON.stringify(spec));
    const id = (await cli(server.url, ['study', 'save', file])).stdout.trim();
    await client.studies.saved.update(id, { ...spec, title: 'IOTLB reach, revision 2' });

    const result = await cli(server.url, [
      'study',
      'run',
      id,
      '--engine',
      'local',
      '--set',
      '/system/iommus/0/capabilities/iotlb/entries=16',
      '--out',
      join(dir, 'saved-report'),
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^study iotlb-reach done: 6 of 6 runs answered \(6 done\)/);
    const [latest] = await client.studies.runs({ limit: 1 });
    expect(latest).toMatchObject({ title: 'IOTLB reach, revision 2', study: { saved: id, revision: 2 } });

    const runs = await cli(server.url, ['study', 'runs', '--name', 'iotlb-reach']);
    expect(runs.code).toBe(0);
    const [header, rule, first, ...rest] = runs.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^id\s+study\s+status\s+answered\s+engine\s+created$/);
    expect(rule).toMatch(/^[─ ]+$/);
    expect(first).toMatch(
      new RegExp(
        `^${latest!.id}\\s+iotlb-reach \\(saved, revision 2\\)\\s+done\\s+6/6\\s+local\\s+\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`,
      ),
    );
    // The run of a study file, earlier, ran no saved study.
    expect(rest.some((line) => /^\w+\s+iotlb-reach\s+done\s+8\/8\s+local/.test(line))).toBe(true);
    expect((await cli(server.url, ['study', 'runs', '--name', 'nothing'])).stdout).toBe(
      'No study runs of nothing yet.\n',
    );
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
