/**
 * Property-based fuzzing of the REST API against a real server: random bodies (near-valid specs with wild
 * values, arbitrary JSON, raw non-JSON text, unknown fields), random ids and addresses in the path and the
 * query, on nearly every route, against labs built from presets. Whatever arrives, the server answers
 * below 500; every refusal is a JSON body with a string code and message; and a refusal changes nothing:
 * the lab's whole picture, its metrics and the list of labs are compared before and after each 4xx.
 * Also: the body limit (413), JSON only (415), and the access token (401).
 *
 * Sizes are drawn up to 16 MiB, or so large they fail fast (≥ 2^53): ranges in between make the emulator
 * do work per 4 KiB page (reclaim, mprotect over a huge VMA, populate's VMA check, stage-1 maps of nested
 * domains), which blocks the server for minutes, a problem reported apart rather than fuzzed into a hang.
 * Workload counts are small for the same reason (a paused lab runs a workload inline, up to its budget).
 */
import fc from 'fast-check';
import { PRESETS } from '@iommu-lab/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Response, type Running, call, startServer } from './testing/harness';

const API = '/api/v1';
const USER_BASE = 0x7f0000000000n;
const hex = (value: bigint) => `0x${value.toString(16)}`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests index freely into response bodies
type Body = any;

let server: Running;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

// ——— arbitraries ———

/** Values of any JSON type, including the awkward ones. */
const wild: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(null, true, false, 0, -1, -0, 1.5, 2 ** 53, 2 ** 64, -(2 ** 63), 1e308, '', [], {}),
  fc.constantFrom(
    'NaN',
    'Infinity',
    '-1',
    '1e309',
    '0x',
    '0x-1',
    '0xfffffffffffffffff',
    ' 1',
    '\u0000',
    '%00',
  ),
  fc.string({ maxLength: 12 }),
);

/** Mostly `good`, sometimes anything. */
const maybe = <T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 12, arbitrary: good }, { weight: 1, arbitrary: wild });

/**
 * Ids: mostly those of the lab under test (so requests reach the emulator), also well-formed unknown
 * ones, and strings that are not ids at all.
 */
function idArbitrary(labIds: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...labIds) },
    { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,8}$/) },
    { weight: 1, arbitrary: fc.string({ maxLength: 16 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('a'.repeat(65), '9abc', '-x', 'nic0 ', 'NaN', 'constructor', '__proto__'),
    },
  );
}

/** Hex addresses: anywhere in 64 bits, page-aligned, low, or inside the presets' process VMA. */
const address: fc.Arbitrary<string> = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(hex),
  fc.bigInt({ min: 0n, max: 2n ** 52n - 1n }).map((page) => hex(page * 4096n)),
  fc.integer({ min: 0, max: 0x4000 }).map((page) => hex(BigInt(page) * 4096n)),
  fc.integer({ min: 0, max: 0x4000 }).map((page) => hex(USER_BASE + BigInt(page) * 4096n)),
  fc.integer({ min: 0, max: 0x4000 * 4096 }).map((offset) => hex(USER_BASE + BigInt(offset))),
);

/** Sizes the schema accepts: up to 16 MiB (bytes, pages, hex), or at least 2^53 (see the note at the top). */
const size: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: 1, max: 1 << 24 }),
  fc.integer({ min: 1, max: 4096 }).map((pages) => pages * 4096),
  fc.integer({ min: 1, max: 1 << 24 }).map((bytes) => hex(BigInt(bytes))),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }).map(hex),
  fc.constant('0x0'),
);

/** Integers, small and at the edges (PASID space, 32 bits, 2^53), and a few that are not. */
const integer: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -4, max: 4096 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, -1, 1, 2 ** 20 - 1, 2 ** 20, 2 ** 31, 2 ** 32, 2 ** 53, 1e308) },
  { weight: 1, arbitrary: fc.double() },
);

/** Permissions: mostly valid sets of r, w, x (and p, which some routes refuse), sometimes repeats. */
const prot: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.shuffledSubarray(['r', 'w', 'x'], { minLength: 1 }).map((bits) => bits.join('')),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[rwxp]{0,4}$/) },
);
const pasid = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 4 }) },
  { weight: 1, arbitrary: integer },
);
const category = fc.constantFrom('BIND', 'MAP');

/**
 * An object: the `required` fields and some of the others, each value mostly good; sometimes with an
 * unknown field too, sometimes something else entirely.
 */
function spec(fields: Record<string, fc.Arbitrary<unknown>>, required: string[] = []): fc.Arbitrary<unknown> {
  const record = fc.record(
    Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, maybe(value)])),
    { requiredKeys: required },
  );
  const withExtra = fc
    .tuple(record, fc.string({ minLength: 1, maxLength: 8 }), wild)
    .map(([value, key, extra]) => ({ ...value, [key]: extra }));
  return fc.oneof(
    { weight: 8, arbitrary: record },
    { weight: 1, arbitrary: withExtra },
    { weight: 1, arbitrary: wild },
  );
}

const region = spec({ iova: address, size, phys: address, prot }, ['iova', 'size']);
const categories = fc.oneof(
  { weight: 4, arbitrary: fc.subarray(['BIND', 'MAP'], { minLength: 1 }) },
  { weight: 1, arbitrary: fc.array(category, { maxLength: 3 }) },
);
const handlerSpec = fc.oneof(
  spec(
    {
      type: fc.constant('external'),
      categories,
      timeoutNs: fc.oneof(fc.integer({ min: 1, max: 1e9 }), integer),
      timeoutResponse: fc.constantFrom('SUCCESS', 'INVALID', 'FAILURE'),
    },
    ['type'],
  ),
  spec({ type: fc.constant('sva'), categories }, ['type']),
  spec(
    {
      type: fc.constant('map'),
      categories,
      region,
      pinBudgetPages: fc.oneof(fc.integer({ min: 1, max: 4096 }), integer),
    },
    ['type', 'region', 'pinBudgetPages'],
  ),
  spec({ type: fc.constant('guest'), region }, ['type', 'region']),
);
const cacheGeometry = spec(
  {
    entries: fc.constantFrom(1, 2, 8, 64, 1024, 3),
    ways: fc.constantFrom(1, 2, 4, 8, 64, 3),
    replacement: fc.constantFrom('lru', 'fifo', 'random'),
  },
  ['entries', 'ways', 'replacement'],
);
/** A request: method, path under the lab (or absolute when it starts with /), and a JSON body or raw text. */
interface FuzzRequest {
  method: string;
  path: string;
  body?: { json: unknown } | { raw: string; type: string };
}

const seg = (value: string) => encodeURIComponent(value);
const post = (path: fc.Arbitrary<string>, body: fc.Arbitrary<unknown>) =>
  fc.tuple(path, body).map(([p, b]): FuzzRequest => ({ method: 'POST', path: p, body: { json: b } }));
const bare = (method: string, path: fc.Arbitrary<string>) =>
  path.map((p): FuzzRequest => ({ method, path: p }));

/** Ids of the lab under test, by kind. */
interface LabIds {
  iommus: string[];
  devices: string[];
  processes: string[];
  domains: string[];
}

/** Every route's requests, with ids drawn from the lab under test. */
function requestsFor(labIds: LabIds) {
  const id = idArbitrary(Object.values(labIds).flat());
  const iommuId = idArbitrary(labIds.iommus);
  const deviceId = idArbitrary(labIds.devices);
  const processId = idArbitrary(labIds.processes);
  const domainId = idArbitrary(labIds.domains);
  const feature = fc.oneof(fc.constantFrom('IOPF', 'SVA', 'AUX'), id);
  const iommuSpec = spec(
    {
      id,
      family: fc.constantFrom('vtd', 'smmuv3'),
      profile: fc.constantFrom('seed-5.13', 'mainline', 'proposal'),
      capabilities: spec({
        addressWidth: fc.constantFrom(48, 57),
        pasidBits: fc.integer({ min: 0, max: 20 }),
        pri: fc.boolean(),
        stall: fc.boolean(),
        nesting: fc.boolean(),
        sva: fc.boolean(),
        pageSizes: fc.subarray(['4K', '2M', '1G']),
        iotlb: cacheGeometry,
        pageRequestQueueDepth: fc.integer({ min: 1, max: 4096 }),
        faultQueueDepth: fc.integer({ min: 1, max: 4096 }),
      }),
      driver: spec({ faultCategories: fc.subarray(['BIND', 'MAP']) }, ['faultCategories']),
    },
    ['family', 'profile'],
  );
  const deviceSpec = spec(
    {
      id,
      iommu: iommuId,
      kind: fc.constantFrom('pci', 'platform'),
      rid: fc.oneof(
        fc.integer({ min: 0, max: 0xffff }),
        fc.stringMatching(/^[0-9a-f]{1,2}:[0-9a-f]{1,2}\.[0-7]$/),
      ),
      ats: fc.boolean(),
      pri: spec({ capacity: fc.integer({ min: 1, max: 64 }) }, ['capacity']),
      pasidBits: fc.integer({ min: 0, max: 20 }),
      prgResponsePasidRequired: fc.boolean(),
      stall: fc.boolean(),
      streamIds: fc.integer({ min: 1, max: 4 }),
      managesOwnFaults: fc.boolean(),
      atc: cacheGeometry,
    },
    ['iommu'],
  );
  const streamSpec = spec(
    {
      device: deviceId,
      pasid,
      pattern: fc.constantFrom('sequential', 'strided', 'random', 'hotspot'),
      base: address,
      workingSet: size,
      accessSize: fc.integer({ min: 1, max: 1 << 16 }),
      stride: size,
      hotFraction: fc.double({ min: 0, max: 1 }),
      hotProbability: fc.double({ min: 0, max: 1 }),
      readFraction: fc.double({ min: 0, max: 1 }),
      privileged: fc.boolean(),
      // Small, or refused by the schema (> 10^8): a paused lab runs an accepted workload inline.
      count: fc.oneof(fc.integer({ min: -1, max: 40 }), fc.constantFrom(100_000_001, 1.5, 0)),
      concurrency: fc.integer({ min: 0, max: 8 }),
      thinkTimeNs: fc.integer({ min: -1, max: 1000 }),
      startNs: fc.integer({ min: -1, max: 1000 }),
    },
    ['device', 'pattern', 'base', 'workingSet', 'count'],
  );

  const QUERY_KEYS = ['after', 'limit', 'kinds', 'device', 'pasid', 'category', 'stage', 'iova', 'token'];
  const query: fc.Arbitrary<string> = fc.oneof(
    fc
      .dictionary(
        fc.oneof(fc.constantFrom(...QUERY_KEYS), fc.string({ maxLength: 6 })),
        fc.oneof(
          fc.integer({ min: -3, max: 2000 }).map(String),
          fc.constantFrom(
            'pri.page-request,fault.response',
            'dma.completed',
            'nope',
            '',
            ',',
            'BIND',
            '1',
            '2',
          ),
          address.map(String),
          fc.string({ maxLength: 10 }),
        ),
        { maxKeys: 4 },
      )
      .map((entries) => `?${new URLSearchParams(entries)}`),
    fc.string({ maxLength: 20 }).map((text) => `?${encodeURI(text)}`),
    fc.constant(''),
  );

  const labRequests: fc.Arbitrary<FuzzRequest>[] = [
    post(
      fc.constant('/labs'),
      spec({
        name: fc.string({ maxLength: 90 }),
        preset: fc.oneof(fc.constantFrom(...PRESETS.map((p) => p.id)), id),
        options: spec({
          seed: integer,
          memoryFrames: fc.integer({ min: 0, max: 1 << 16 }),
          pasidBits: integer,
        }),
        config: fc.oneof(fc.constantFrom(...PRESETS.map((p) => p.config)), wild),
      }),
    ).map((request) => ({ ...request, path: `${API}/labs` })),
    bare(
      'GET',
      id.map((lab) => `${API}/labs/${seg(lab)}`),
    ),
    // Never a real lab's id (lab1, lab2, …): deleting the lab under test would end the run, not test it.
    bare(
      'DELETE',
      id.filter((lab) => !/^lab\d+$/.test(lab)).map((lab) => `${API}/labs/${seg(lab)}`),
    ),
    bare('POST', fc.constant('/reset')),
    bare('GET', fc.constant('/clock')),
    post(
      fc.constant('/clock'),
      spec(
        {
          action: fc.constantFrom('run', 'pause', 'step'),
          speed: fc.oneof(fc.double({ min: -1, max: 2e6 }), fc.constant('max')),
          steps: integer,
        },
        ['action'],
      ),
    ),
  ];

  const topologyRequests: fc.Arbitrary<FuzzRequest>[] = [
    post(fc.constant('/iommus'), iommuSpec),
    bare('GET', fc.constant('/iommus')),
    bare(
      'GET',
      iommuId.map((iommu) => `/iommus/${seg(iommu)}`),
    ),
    post(
      iommuId.map((iommu) => `/iommus/${seg(iommu)}/invalidate`),
      spec({ domain: domainId, pasid, iova: address, size }),
    ),
    post(fc.constant('/devices'), deviceSpec),
    bare('GET', fc.constant('/devices')),
    bare(
      'GET',
      deviceId.map((device) => `/devices/${seg(device)}`),
    ),
    bare(
      'POST',
      deviceId.map((device) => `/devices/${seg(device)}/reset`),
    ),
    fc
      .tuple(fc.constantFrom('PUT', 'DELETE'), deviceId, feature)
      .map(([method, device, name]): FuzzRequest => ({
        method,
        path: `/devices/${seg(device)}/features/${seg(name)}`,
      })),
    post(
      deviceId.map((device) => `/devices/${seg(device)}/attach`),
      spec({ domain: domainId, pasid, replace: fc.boolean() }, ['domain']),
    ),
    post(
      deviceId.map((device) => `/devices/${seg(device)}/detach`),
      spec({ pasid }),
    ),
    post(
      fc
        .tuple(deviceId, fc.constantFrom('bind', 'unbind'))
        .map(([device, verb]) => `/devices/${seg(device)}/${verb}`),
      spec({ process: processId }, ['process']),
    ),
    post(
      deviceId.map((device) => `/devices/${seg(device)}/handlers`),
      handlerSpec,
    ),
    bare(
      'DELETE',
      fc
        .tuple(deviceId, fc.oneof(fc.constantFrom('BIND', 'MAP', 'all'), id))
        .map(([device, slot]) => `/devices/${seg(device)}/handlers/${seg(slot)}`),
    ),
    post(
      deviceId.map((device) => `/devices/${seg(device)}/atc/invalidate`),
      spec({ pasid, iova: address, size }),
    ),
    post(fc.constant('/processes'), spec({ id, fiveLevel: fc.boolean() })),
    bare('GET', fc.constant('/processes')),
    bare(
      'GET',
      processId.map((process) => `/processes/${seg(process)}`),
    ),
    post(
      processId.map((process) => `/processes/${seg(process)}/mmap`),
      spec({ size, address, prot }, ['size', 'prot']),
    ),
    post(
      fc
        .tuple(processId, fc.constantFrom('munmap', 'populate', 'reclaim'))
        .map(([process, verb]) => `/processes/${seg(process)}/${verb}`),
      spec({ address, size }, ['address', 'size']),
    ),
    post(
      processId.map((process) => `/processes/${seg(process)}/mprotect`),
      spec({ address, size, prot }, ['address', 'size', 'prot']),
    ),
    bare(
      'POST',
      processId.map((process) => `/processes/${seg(process)}/exit`),
    ),
    post(
      fc.constant('/domains'),
      spec(
        {
          id,
          iommu: iommuId,
          type: fc.constantFrom('blocked', 'identity', 'dma', 'nested'),
          parent: domainId,
          nestParent: fc.boolean(),
          stage: fc.constantFrom(1, 2),
        },
        ['iommu', 'type'],
      ),
    ),
    bare('GET', fc.constant('/domains')),
    bare(
      'GET',
      domainId.map((domain) => `/domains/${seg(domain)}`),
    ),
    bare(
      'DELETE',
      domainId.map((domain) => `/domains/${seg(domain)}`),
    ),
    post(
      domainId.map((domain) => `/domains/${seg(domain)}/mappings`),
      spec({ iova: address, size, phys: address, prot, pageSize: fc.constantFrom('4K', '2M', '1G') }, [
        'iova',
        'size',
        'prot',
      ]),
    ),
    post(
      domainId.map((domain) => `/domains/${seg(domain)}/unmap`),
      spec({ iova: address, size }, ['iova', 'size']),
    ),
    bare(
      'GET',
      fc
        .tuple(
          id,
          fc.constantFrom('translate', 'walk'),
          fc.oneof(address.map(String), fc.string({ maxLength: 8 })),
        )
        .map(([domain, verb, iova]) => `/domains/${seg(domain)}/${verb}?iova=${encodeURIComponent(iova)}`),
    ),
    post(
      domainId.map((domain) => `/domains/${seg(domain)}/handler`),
      handlerSpec,
    ),
  ];

  const activityRequests: fc.Arbitrary<FuzzRequest>[] = [
    post(
      fc.constant('/dma'),
      spec(
        {
          device: deviceId,
          pasid,
          address,
          length: fc.oneof(fc.integer({ min: 1, max: 1 << 14 }), integer),
          access: fc.constantFrom('read', 'write', 'exec'),
          privileged: fc.boolean(),
          data: fc.oneof(
            fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('base64')),
            fc.string({ maxLength: 12 }),
          ),
          returnData: fc.boolean(),
        },
        ['device', 'address', 'length', 'access'],
      ),
    ),
    post(
      fc.constant('/workloads'),
      spec(
        {
          workload: spec({ streams: fc.array(streamSpec, { maxLength: 2 }) }, ['streams']),
          wait: fc.boolean(),
        },
        ['workload'],
      ),
    ),
    bare('GET', fc.constant('/faults/pending')),
    post(
      fc.oneof(integer.map(String), id).map((cookie) => `/faults/${seg(cookie)}/response`),
      spec({ code: fc.constantFrom('SUCCESS', 'INVALID', 'FAILURE') }, ['code']),
    ),
    bare(
      'GET',
      fc.tuple(fc.constantFrom('/events', '/faults'), query).map(([route, q]) => `${route}${q}`),
    ),
    bare('GET', fc.constant('/metrics')),
  ];

  const allRequests = [...labRequests, ...topologyRequests, ...activityRequests];

  /** Any request, its body sometimes replaced by raw non-JSON text (sent as JSON or as another type). */
  const anyRequest: fc.Arbitrary<FuzzRequest> = fc
    .tuple(
      fc.oneof(...allRequests),
      fc.option(
        fc.record({
          raw: fc.oneof(
            fc.string({ maxLength: 30 }),
            fc.constantFrom('{', '{"a":', 'null', '[]', '"x"', '{"__proto__":{"polluted":1}}', '{"a":1}{}'),
          ),
          type: fc.constantFrom(
            'application/json',
            'application/json; charset=utf-8',
            'text/plain',
            'application/xml',
          ),
        }),
        { freq: 8 },
      ),
    )
    .map(([request, raw]) => (raw && request.method !== 'GET' ? { ...request, body: raw } : request));
  return { labRequests, topologyRequests, activityRequests, anyRequest };
}

// ——— the properties ———

async function send(lab: string, request: FuzzRequest): Promise<Response<Body>> {
  const path = request.path.startsWith(API) ? request.path : `${API}/labs/${lab}${request.path}`;
  if (request.body === undefined) return call(server.url, request.method, path);
  if ('json' in request.body)
    return call(server.url, request.method, path, JSON.stringify(request.body.json) ?? 'null');
  return call(server.url, request.method, path, request.body.raw, { 'content-type': request.body.type });
}

/** Everything a refusal must leave alone. */
async function world(lab: string) {
  const [labs, detail, metrics] = await Promise.all([
    call(server.url, 'GET', `${API}/labs`),
    call(server.url, 'GET', `${API}/labs/${lab}`),
    call(server.url, 'GET', `${API}/labs/${lab}/metrics`),
  ]);
  expect(detail.status).toBe(200);
  return { labs: labs.body, detail: detail.body, metrics: metrics.body };
}

type Requests = ReturnType<typeof requestsFor>;

/**
 * Runs random requests against a lab built from `preset`, with ids drawn from its topology (and the names
 * the lab gives things created without one). After a success the lab is paused (a fuzzed "run" must not
 * leave time moving under the next comparison) and labs the fuzzer created are deleted.
 */
async function fuzzLab(
  preset: string,
  pick: (requests: Requests) => fc.Arbitrary<FuzzRequest>,
  numRuns: number,
) {
  const created = await call(server.url, 'POST', `${API}/labs`, { preset });
  const lab: string = created.body.id;
  const { system } = created.body;
  const idsOf = (kind: string) => system[kind].map((thing: Body) => thing.id as string);
  // The lab's own ids, and the names it gives things created without one.
  const labIds: LabIds = {
    iommus: [...idsOf('iommus'), 'iommu0'],
    devices: [...idsOf('devices'), 'dev0'],
    processes: [...idsOf('processes'), 'proc0'],
    domains: [...idsOf('domains'), 'dom0', 'dom1'],
  };
  let before = await world(lab);
  const seen = { ok: 0, refused: 0 };
  await fc.assert(
    fc.asyncProperty(pick(requestsFor(labIds)), async (request) => {
      const response = await send(lab, request);
      const label = `${request.method} ${request.path} ${JSON.stringify(request.body)} → ${response.status} ${JSON.stringify(response.body)}`;
      expect(response.status, label).toBeLessThan(500);
      if (response.status >= 400) {
        seen.refused++;
        expect(response.body, label).toMatchObject({
          statusCode: response.status,
          code: expect.any(String),
          message: expect.any(String),
        });
        expect(await world(lab), label).toEqual(before);
        return;
      }
      seen.ok++;
      expect(response.status, label).toBeGreaterThanOrEqual(200);
      if (request.path === `${API}/labs` && request.method === 'POST' && response.status === 201)
        await call(server.url, 'DELETE', `${API}/labs/${response.body.id}`);
      await call(server.url, 'POST', `${API}/labs/${lab}/clock`, { action: 'pause' });
      before = await world(lab);
    }),
    { numRuns },
  );
  // The fuzzer reached both sides: some requests were accepted, some refused.
  expect(seen.ok).toBeGreaterThan(0);
  expect(seen.refused).toBeGreaterThan(0);
  await call(server.url, 'DELETE', `${API}/labs/${lab}`);
}

describe('fuzzing every route (never 5xx; a refusal has a code and a message and changes nothing)', () => {
  it('lab and clock routes, random bodies and ids', async () => {
    await fuzzLab('sva-pri-vtd', (r) => fc.oneof(...r.labRequests), 120);
  });

  it('topology routes on an SVA lab (seed-5.13, PRI device, bound process)', async () => {
    await fuzzLab('sva-pri-vtd', (r) => fc.oneof(...r.topologyRequests), 250);
  });

  it('topology routes on a nested lab (proposal, guest and MAP handlers)', async () => {
    await fuzzLab('nested-guest-sva', (r) => fc.oneof(...r.topologyRequests), 150);
  });

  it('DMA, workloads, fault responses and history on an SMMUv3 stall lab (mainline)', async () => {
    await fuzzLab('smmu-stall-sva', (r) => fc.oneof(...r.activityRequests), 150);
  });

  it('any route, with raw non-JSON bodies mixed in', async () => {
    await fuzzLab('passthrough-map', (r) => r.anyRequest, 200);
  });
});

describe('request limits', () => {
  it('a body over the server’s limit is 413 ETOOLARGE, and nothing is created', async () => {
    const small = await startServer({ bodyLimit: 1024 });
    try {
      const list = () => call(small.url, 'GET', `${API}/labs`);
      const before = (await list()).body;
      const big = await call(small.url, 'POST', `${API}/labs`, {
        name: 'x',
        config: { pad: 'a'.repeat(2000) },
      });
      expect(big.status).toBe(413);
      expect(big.body).toMatchObject({ statusCode: 413, code: 'ETOOLARGE', message: expect.any(String) });
      expect((await list()).body).toEqual(before);
      // Under the limit the same route works.
      expect((await call(small.url, 'POST', `${API}/labs`, { name: 'a'.repeat(80) })).status).toBe(201);
    } finally {
      await small.close();
    }
  });

  it('bodies are JSON: another content type (text/plain, XML, a form) is 415 EMEDIATYPE; JSON with a charset is fine', async () => {
    const before = (await call(server.url, 'GET', `${API}/labs`)).body;
    for (const type of [
      'text/plain',
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data',
    ]) {
      const refused = await call(server.url, 'POST', `${API}/labs`, '{}', { 'content-type': type });
      expect(refused.status, type).toBe(415);
      expect(refused.body, type).toMatchObject({ code: 'EMEDIATYPE', message: expect.any(String) });
    }
    expect((await call(server.url, 'GET', `${API}/labs`)).body).toEqual(before);
    const ok = await call(server.url, 'POST', `${API}/labs`, '{}', {
      'content-type': 'application/json; charset=utf-8',
    });
    expect(ok.status).toBe(201);
    await call(server.url, 'DELETE', `${API}/labs/${ok.body.id}`);
  });

  it('a body that is not JSON, or JSON with a __proto__ key, is a 400 with a code, not a 5xx', async () => {
    for (const raw of [
      '{"name":',
      '{"__proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
    ]) {
      const refused = await call(server.url, 'POST', `${API}/labs`, raw, {
        'content-type': 'application/json',
      });
      expect(refused.status, raw).toBe(400);
      expect(refused.body.code, raw).toEqual(expect.any(String));
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  });
});

describe('the access token (plugins/auth.ts)', () => {
  let guarded: Running;
  beforeAll(async () => {
    guarded = await startServer({ token: 'sekret' });
  });
  afterAll(() => guarded.close());

  const bearer = { authorization: 'Bearer sekret' };

  it('every route refuses a request without the token: 401 EAUTH, and nothing happens', async () => {
    const refused = await call(guarded.url, 'POST', `${API}/labs`, {});
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({
      statusCode: 401,
      code: 'EAUTH',
      reason: 'token',
      message: expect.any(String),
    });
    expect((await call(guarded.url, 'GET', `${API}/labs`, undefined, bearer)).body).toEqual([]);
    for (const path of [
      `${API}/labs`,
      `${API}/presets`,
      `${API}/openapi.json`,
      `${API}/labs/lab1/metrics`,
      `${API}/nothing`,
    ])
      expect((await call(guarded.url, 'GET', path)).status, path).toBe(401);
  });

  it('a wrong token, another scheme, or a token of another length (in bytes) is 401, never a 5xx', async () => {
    for (const authorization of [
      'Bearer sekret2',
      'Bearer sekre',
      'Basic sekret',
      'Bearer ',
      'Bearer sëkret',
    ]) {
      const refused = await call(guarded.url, 'GET', `${API}/labs`, undefined, { authorization });
      expect(refused.status, authorization).toBe(401);
      expect(refused.body.code).toBe('EAUTH');
    }
  });

  it('with Authorization: Bearer <token> the API works; ?token= is for websocket upgrades only', async () => {
    const created = await call(guarded.url, 'POST', `${API}/labs`, {}, bearer);
    expect(created.status).toBe(201);
    expect((await call(guarded.url, 'GET', `${API}/labs/${created.body.id}`, undefined, bearer)).status).toBe(
      200,
    );
    expect((await call(guarded.url, 'GET', `${API}/labs?token=sekret`)).status).toBe(401);
    expect((await call(guarded.url, 'GET', `${API}/labs?token=wrong`)).status).toBe(401);
  });

  it('/healthz is behind the token too (auth.ts guards every request, health included)', async () => {
    expect((await call(guarded.url, 'GET', '/healthz')).status).toBe(401);
    const health = await call(guarded.url, 'GET', '/healthz', undefined, bearer);
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
  });

  it('a server without a token needs none', async () => {
    expect((await call(server.url, 'GET', `${API}/labs`)).status).toBe(200);
    expect((await call(server.url, 'GET', '/healthz')).status).toBe(200);
  });
});
