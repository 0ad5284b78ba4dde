/**
 * Issue 16, the kernel-profiles study at a reduced size (a quarter of each workload): six set-ups under
 * seed-5.13, mainline and the proposal through the API on the local pool. Each refusal is a rule of the
 * profile (iommu-reference.md §3 and §6, and the proposal's categories), and it is an answer of the study:
 * the study is done, the report's outcome grid holds the reason. Where two profiles run the same set-up,
 * they cost the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, startServer } from '../testing/harness';
import { builtinStudy, runStudy, studyData } from '../testing/studies';

describe('the kernel-profiles study', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startServer({ parallelRuns: 2 });
  });
  afterAll(() => server.close());

  it('shows what each profile refuses, and that the set-ups two profiles allow cost the same', async () => {
    const builtin = await builtinStudy(server, 'kernel-profiles');
    for (const experiment of builtin.experiments)
      for (const stream of experiment.config.workload.streams) stream.count /= 4;
    const { done } = await runStudy(server, { study: builtin });
    expect(done).toMatchObject({ status: 'done', runs: 18, done: 18, progress: 1 });

    const { rows } = await studyData(server, done);
    const at = (experiment: string, profile: string) =>
      rows.find((r) => r.experiment === experiment && r['kernel profile'] === profile)!;
    const outcomes = Object.fromEntries(
      builtin.experiments.map(({ label }: { label: string }) => [
        label,
        ['seed-5.13', 'mainline', 'proposal'].map((profile) => at(label, profile).outcome),
      ]),
    );
    expect(outcomes).toEqual({
      // §3: mainline has no iommu_dev_enable_feature(); seed-5.13 and the proposal keep the explicit calls.
      'VT-d PRI, feature calls + bind': ['done', 'refused', 'done'],
      // §3: without the calls, only mainline's attach switches faults on.
      'VT-d PRI, bind alone': ['refused', 'done', 'refused'],
      'SMMUv3 stall, bind alone': ['refused', 'done', 'refused'],
      'SMMUv3 PRI, bind alone': ['refused', 'done', 'refused'],
      // §6: only the proposal takes PRI behind SMMUv3.
      'SMMUv3 PRI, feature calls + bind': ['refused', 'refused', 'done'],
      // The proposal's categories: seed-5.13 has none, mainline no device fault handler.
      'passthrough, MAP on demand': ['refused', 'refused', 'done'],
    });
    expect(at('VT-d PRI, feature calls + bind', 'mainline').reason).toBe(
      'ECONFIG: config /features/0: iommu_dev_enable_feature() does not exist under kernel profile mainline.',
    );
    expect(at('SMMUv3 PRI, feature calls + bind', 'seed-5.13').reason).toMatch(
      /SMMUv3 takes PRI only under the proposal profile/,
    );
    expect(at('passthrough, MAP on demand', 'seed-5.13').reason).toMatch(
      /seed-5\.13 has no fault categories/,
    );
    for (const row of rows.filter((r) => r.outcome === 'refused'))
      expect(row['mean DMA latency (ns simulated)']).toBe('');

    // What each costs: the same set-up under two profiles that allow it, the same figures.
    const same = (r: Record<string, string>) => [
      r['mean DMA latency (ns simulated)'],
      r['page requests (requests)'],
    ];
    expect(same(at('VT-d PRI, feature calls + bind', 'seed-5.13'))).toEqual(
      same(at('VT-d PRI, feature calls + bind', 'proposal')),
    );
    expect(
      Number(at('VT-d PRI, feature calls + bind', 'proposal')['page requests (requests)']),
    ).toBeGreaterThan(0);
    // Mainline denies an SMMUv3 device's page requests: every DMA ends in a fault, each answered INVALID.
    const denied = at('SMMUv3 PRI, bind alone', 'mainline');
    expect(Number(denied['DMAs completed (DMAs)'])).toBe(0);
    expect(Number(denied['DMAs ended in a fault (DMAs)'])).toBe(500);
    expect(Number(denied['faults answered INVALID (faults)'])).toBeGreaterThan(0);
    // The proposal feeds the same device's requests to the fault path: all 500 complete.
    expect(Number(at('SMMUv3 PRI, feature calls + bind', 'proposal')['DMAs completed (DMAs)'])).toBe(500);

    // Bars per profile, one per run that ran, each linking to its run; refused runs draw nothing.
    const svg = await (await fetch(`${server.url}${done.report.charts[0]}`)).text();
    expect(svg).toContain('kernel profile');
    expect(svg).toContain('mean DMA latency (ns simulated)');
    const links = new Set([...svg.matchAll(/href="\/api\/v1\/runs\/([a-z0-9]+)"/g)].map((m) => m[1]));
    expect([...links].sort()).toEqual(
      rows
        .filter((r) => r.outcome === 'done')
        .map((r) => r.run)
        .sort(),
    );

    const html = await (await fetch(`${server.url}${done.report.html}`)).text();
    expect(html).toContain('<h2>Outcomes</h2>');
    const refused = at('passthrough, MAP on demand', 'mainline');
    expect(html).toContain(
      `<td class="refused"><a href="/api/v1/runs/${refused.run}">refused</a><br><small>${refused.reason}</small></td>`,
    );
    expect(html.match(/<figure data-chart="\d">\s*<svg/g)).toHaveLength(2);
  }, 180_000);
});
