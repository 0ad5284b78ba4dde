/**
 * Issue 16, saved studies kept as experiments are: saved (a built-in's copy), listed newest first, replaced
 * in revisions, deleted (their study runs stay), exported to a file and imported from it as an equal study.
 * A study that could not run, and a file of another format or version or a malformed one, is a 422 that
 * says so and writes nothing. A saved study runs by id, and its study run names the revision it ran; the
 * study runs are listed newest first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudyFile, StudySpec } from '@iommu-lab/wire';
import { type Running, call, startServer } from '../testing/harness';
import { until } from '../testing/queue';

const API = '/api/v1';
const MiB = 1 << 20;
const ENTRIES = '/system/iommus/0/capabilities/iotlb/entries';
const WORKING_SET = '/workload/streams/0/workingSet';

describe('saved studies', () => {
  let server: Running;
  let builtins: StudySpec[];
  const api = (method: string, path: string, body?: unknown) =>
    call(server.url, method, `${API}${path}`, body);
  const builtin = (name: string) => structuredClone(builtins.find((study) => study.name === name)!);
  const savedCount = async () => (await api('GET', '/studies/saved')).body.length;
  /** iotlb-reach at a few hundred transactions a run. */
  const small = () => {
    const spec = builtin('iotlb-reach');
    for (const experiment of spec.experiments) experiment.config.workload.streams[0]!.count = 200;
    return spec;
  };

  beforeAll(async () => {
    server = await startServer({ parallelRuns: 2 });
    builtins = (await api('GET', '/studies')).body;
  });
  afterAll(() => server.close());

  it('a built-in saved as a copy is listed newest first, replaced at revision 2, and deleted', async () => {
    const first = await api('POST', '/studies/saved', builtin('iotlb-reach'));
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      name: 'iotlb-reach',
      revision: 1,
      runs: 0,
      spec: builtin('iotlb-reach'),
    });
    const second = await api('POST', '/studies/saved', builtin('pinning-vs-on-demand'));
    const listed = (await api('GET', '/studies/saved')).body.map((s: { id: string }) => s.id);
    expect(listed.slice(0, 2)).toEqual([second.body.id, first.body.id]);
    expect((await api('GET', `/studies/saved/${first.body.id}`)).body).toEqual(first.body);

    const edited = { ...builtin('iotlb-reach'), title: 'IOTLB reach, edited' };
    edited.parameters[0]!.values = [16, 64];
    const replaced = await api('PUT', `/studies/saved/${first.body.id}`, edited);
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({
      id: first.body.id,
      revision: 2,
      title: 'IOTLB reach, edited',
      spec: edited,
    });
    expect((await api('GET', `/studies/saved/${first.body.id}`)).body.revision).toBe(2);

    // A replacement that could not run is refused, and the study stays at revision 2.
    const broken = structuredClone(edited);
    broken.parameters[0]!.values = [];
    expect((await api('PUT', `/studies/saved/${first.body.id}`, broken)).body).toMatchObject({
      statusCode: 422,
      reason: 'no-values',
      path: ENTRIES,
    });
    expect((await api('GET', `/studies/saved/${first.body.id}`)).body).toMatchObject({
      revision: 2,
      spec: edited,
    });

    expect((await api('DELETE', `/studies/saved/${second.body.id}`)).status).toBe(204);
    expect((await api('GET', `/studies/saved/${second.body.id}`)).body).toMatchObject({
      statusCode: 404,
      code: 'ENOENT',
      reason: 'no-such-saved-study',
      message: `no saved study "${second.body.id}".`,
    });
    expect((await api('DELETE', `/studies/saved/${second.body.id}`)).status).toBe(404);
    expect((await api('PUT', `/studies/saved/${second.body.id}`, edited)).status).toBe(404);
  });

  it('a study with a path not in its experiments, no values or too many runs: 422 with the path, nothing saved', async () => {
    const before = await savedCount();
    const missing = builtin('iotlb-reach');
    missing.parameters[0]!.path = '/system/iommus/0/capabilities/iotlb/sets';
    expect((await api('POST', '/studies/saved', missing)).body).toMatchObject({
      statusCode: 422,
      code: 'EINVAL',
      reason: 'no-such-path',
      path: '/system/iommus/0/capabilities/iotlb/sets',
      message:
        'study parameter /system/iommus/0/capabilities/iotlb/sets is not in the config of experiment "4 KiB pages".',
    });
    const empty = builtin('iotlb-reach');
    empty.parameters[1]!.values = [];
    expect((await api('POST', '/studies/saved', empty)).body).toMatchObject({
      reason: 'no-values',
      path: WORKING_SET,
    });
    const many = builtin('iotlb-reach');
    many.parameters[0]!.values = Array.from({ length: 64 }, (_, i) => 16 << (i % 8));
    expect((await api('POST', '/studies/saved', many)).body).toMatchObject({
      reason: 'too-many-runs',
      path: '/parameters',
      message: 'the study would make 384 runs; at most 256.',
    });
    expect(await savedCount()).toBe(before);
  });

  it('export then import gives an equal study; foreign, newer, older and malformed files are refused and write nothing', async () => {
    const saved = (await api('POST', '/studies/saved', builtin('pinning-vs-on-demand'))).body;
    const exported = await fetch(`${server.url}${API}/studies/saved/${saved.id}/export`);
    expect(exported.headers.get('content-disposition')).toBe(
      'attachment; filename="pinning-vs-on-demand.study.iommu-lab.json"',
    );
    const file = (await exported.json()) as StudyFile;
    expect(file).toEqual({
      format: 'iommu-lab/study-file',
      version: 1,
      exportedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      revision: 1,
      study: saved.spec,
    });
    const imported = await api('POST', '/studies/saved/import', file);
    expect(imported.status).toBe(201);
    expect(imported.body).toMatchObject({ name: 'pinning-vs-on-demand', revision: 1, runs: 0 });
    expect(imported.body.id).not.toBe(saved.id);
    expect(imported.body.spec).toEqual(saved.spec);

    const before = await savedCount();
    const refused = async (body: unknown) => (await api('POST', '/studies/saved/import', body)).body;
    expect(await refused({ ...file, format: 'iommu-lab/experiment' })).toMatchObject({
      statusCode: 422,
      code: 'EFORMAT',
      reason: 'not-a-study',
      message: 'not an iommu-lab study file: "format" must be "iommu-lab/study-file".',
    });
    expect(await refused({ ...file, version: 2 })).toMatchObject({
      statusCode: 422,
      code: 'EVERSION',
      reason: 'unknown-version',
      message: 'study file version 2 is not supported; this server reads version 1.',
    });
    expect(await refused({ ...file, version: 0 })).toMatchObject({ code: 'EVERSION', reason: 'too-old' });
    /** The file with its first parameter swept at another path. */
    const sweeping = (path: string) => {
      const changed = structuredClone(file);
      changed.study.parameters[0]!.path = path;
      return changed;
    };
    // Not a JSON pointer: the file is malformed, told with where in the file.
    expect(await refused(sweeping('workload/streams/0/count'))).toMatchObject({
      statusCode: 422,
      code: 'EFORMAT',
      reason: 'malformed',
      path: '/study/parameters/0/path',
    });
    // A pointer to nothing in the experiments: a study that could not run.
    expect(await refused(sweeping('/workload/streams/0/nothing'))).toMatchObject({
      statusCode: 422,
      code: 'EINVAL',
      reason: 'no-such-path',
      path: '/workload/streams/0/nothing',
    });
    expect(await savedCount()).toBe(before);
  });

  it('a saved study runs by id at a small size, its study run names its revision, and study runs are listed newest first', async () => {
    const saved = (await api('POST', '/studies/saved', small())).body;
    // A chart holds the working set at 128 MiB: it stays among the values.
    const set = { [ENTRIES]: [16], [WORKING_SET]: [1 * MiB, 128 * MiB] };
    const first = await api('POST', '/studies/runs', { study: { saved: saved.id }, set, engine: 'local' });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({
      name: 'iotlb-reach',
      runs: 4,
      study: { saved: saved.id, revision: 1 },
    });
    await api('PUT', `/studies/saved/${saved.id}`, { ...small(), title: 'IOTLB reach, second revision' });
    const second = await api('POST', '/studies/runs', { study: { saved: saved.id }, set, engine: 'local' });
    expect(second.body).toMatchObject({
      title: 'IOTLB reach, second revision',
      study: { saved: saved.id, revision: 2 },
    });
    const byName = await api('POST', '/studies/runs', {
      study: 'iotlb-reach',
      set,
      engine: 'local',
    });
    expect(byName.body.study).toEqual({ builtin: 'iotlb-reach' });
    const posted = await api('POST', '/studies/runs', { study: small(), set, engine: 'local' });
    expect(posted.body.study).toBeNull();
    expect(
      (await api('POST', '/studies/runs', { study: { saved: 'nothing' }, engine: 'local' })).body,
    ).toMatchObject({ statusCode: 404, reason: 'no-such-saved-study' });

    for (const started of [first, second, byName, posted])
      expect(
        await until(
          'the study run',
          async () => (await api('GET', `/studies/runs/${started.body.id}`)).body,
          (view) => view.status !== 'running',
          120_000,
        ),
      ).toMatchObject({ status: 'done', progress: 1 });
    expect((await api('GET', `/studies/saved/${saved.id}`)).body.runs).toBe(2);

    const listed = (await api('GET', '/studies/runs')).body;
    expect(listed.slice(0, 4).map((run: { id: string }) => run.id)).toEqual(
      [posted, byName, second, first].map((started) => started.body.id),
    );
    expect(listed[2]).toMatchObject({
      status: 'done',
      done: 4,
      runs: 4,
      study: { saved: saved.id, revision: 2 },
    });
    expect(listed[2].report.html).toBe(`/api/v1/studies/runs/${second.body.id}/report`);
    expect((await api('GET', '/studies/runs?limit=1')).body.map((run: { id: string }) => run.id)).toEqual([
      posted.body.id,
    ]);
    expect((await api('GET', '/studies/runs?name=pinning-vs-on-demand')).body).toEqual([]);
    expect((await api('GET', '/studies/runs?name=iotlb-reach')).body).toHaveLength(4);
    expect((await api('GET', '/studies/runs?limit=201')).body).toMatchObject({
      statusCode: 400,
      code: 'EVALIDATION',
    });

    // Deleting the saved study keeps its study runs and their reports; they no longer name it.
    expect((await api('DELETE', `/studies/saved/${saved.id}`)).status).toBe(204);
    expect((await api('GET', `/studies/runs/${first.body.id}`)).body).toMatchObject({
      status: 'done',
      study: null,
    });
    expect((await fetch(`${server.url}${first.body.report.csv}`)).status).toBe(200);
  }, 180_000);
});
