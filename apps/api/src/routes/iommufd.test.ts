/**
 * The iommufd routes and binary channels over a real server, as a VMM drives them: first the IOPF cases of
 * Linux's selftest (tools/testing/selftests/iommu/iommufd.c), each citing the case it mirrors, with the
 * selftest's IOMMU_TEST_OP_TRIGGER_IOPF / _TRIGGER_VEVENT replaced by a device's real DMA; then what that
 * selftest never checks (its response hook is empty): INVALID, a bad cookie, the automatic INVALID of a
 * detach, a read buffer smaller than a group, groups of several records, RESPONSE_NEEDS_PASID.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type Running, call, startServer } from '../testing/harness';

const NEST_PARENT = 1 << 0;
const FAULT_ID_VALID = 1 << 2;
const ALLOC_PASID = 1 << 3;
const VIOMMU_TYPE_ARM_SMMUV3 = 1;
const VEVENTQ_TYPE_ARM_SMMUV3 = 1;
const PGFAULT = 40;
const UINT32_MAX = 2 ** 32 - 1;
/** include/linux/iommu.h (v6.8 on), copied into iommu_hwpt_pgfault.flags. */
const PASID_VALID = 1 << 0;
const LAST_PAGE = 1 << 1;
const NEEDS_PASID = 1 << 2;

let server: Running;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const api = (method: string, path: string, body?: unknown) =>
  call(server.url, method, `/api/v1${path}`, body);

/** A lab with one IOMMU and a device; the lab stays paused, so a DMA runs until only user space can go on. */
async function lab(family: 'vtd' | 'smmuv3', device: Record<string, unknown>) {
  const created = await api('POST', '/labs', {});
  const id = created.body.id as string;
  expect(
    (await api('POST', `/labs/${id}/iommus`, { id: 'iommu0', family, profile: 'mainline' })).status,
  ).toBe(201);
  expect((await api('POST', `/labs/${id}/devices`, { id: 'dev0', iommu: 'iommu0', ...device })).status).toBe(
    201,
  );
  const ok = async (path: string, body: unknown = {}) => {
    const answer = await api('POST', `/labs/${id}/iommufd/${path}`, body);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body as Ids;
  };
  const refused = async (path: string, body: unknown, code: string, reason?: string) => {
    const before = await api('GET', `/labs/${id}/iommufd/objects`);
    const answer = await api('POST', `/labs/${id}/iommufd/${path}`, body);
    expect(answer.body).toMatchObject({ code, ...(reason ? { reason } : {}) });
    expect((await api('GET', `/labs/${id}/iommufd/objects`)).body).toEqual(before.body);
  };
  const destroy = (objectId: number) => api('DELETE', `/labs/${id}/iommufd/objects/${objectId}`);
  const dma = (address: string, length: number, pasid?: number) =>
    api('POST', `/labs/${id}/dma`, {
      device: 'dev0',
      address,
      length,
      access: 'write',
      ...(pasid === undefined ? {} : { pasid }),
    });
  return { id, ok, refused, destroy, dma };
}

type Frame = { text: Record<string, unknown> } | { bytes: Buffer };

/** A fault object's or vEVENTQ's file over its websocket: every frame, in order. */
class Channel {
  private readonly frames: Frame[] = [];
  private waiter: (() => void) | null = null;
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      this.frames.push(
        isBinary ? { bytes: data } : { text: JSON.parse(String(data)) as Record<string, unknown> },
      );
      this.waiter?.();
    });
  }
  static async open(lab: string, kind: 'faults' | 'veventqs', id: number): Promise<Channel> {
    const socket = new WebSocket(
      `${server.url.replace('http', 'ws')}/api/v1/labs/${lab}/iommufd/${kind}/${id}/channel`,
    );
    const channel = new Channel(socket);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    expect(await channel.next()).toMatchObject({ text: { type: 'hello', object: id } });
    return channel;
  }
  async next(): Promise<Frame> {
    for (let waited = 0; this.frames.length === 0 && waited < 50; waited++)
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 100);
      });
    const frame = this.frames.shift();
    if (frame === undefined) throw new Error('no frame from the channel');
    return frame;
  }
  /** The next frame that is not a `readable` notice. */
  async answer(): Promise<Frame> {
    for (;;) {
      const frame = await this.next();
      if (!('text' in frame) || frame.text.type !== 'readable') return frame;
    }
  }
  async read(count: number): Promise<Buffer> {
    this.socket.send(JSON.stringify({ op: 'read', count }));
    const frame = await this.answer();
    if (!('bytes' in frame)) throw new Error(`read answered ${JSON.stringify(frame.text)}`);
    return frame.bytes;
  }
  /** A read's answer as it comes: a binary frame, or the error text. */
  async readOrError(count: number): Promise<Frame> {
    this.socket.send(JSON.stringify({ op: 'read', count }));
    return this.answer();
  }
  async readRefused(count: number): Promise<Record<string, unknown>> {
    this.socket.send(JSON.stringify({ op: 'read', count }));
    return ((await this.answer()) as { text: Record<string, unknown> }).text;
  }
  async write(...responses: [cookie: number, code: number][]): Promise<Record<string, unknown>> {
    const bytes = Buffer.alloc(responses.length * 8);
    responses.forEach(([cookie, code], i) => {
      bytes.writeUInt32LE(cookie, i * 8);
      bytes.writeUInt32LE(code, i * 8 + 4);
    });
    this.socket.send(bytes, { binary: true });
    return ((await this.answer()) as { text: Record<string, unknown> }).text;
  }
  close(): void {
    this.socket.close();
  }
}

/** struct iommu_hwpt_pgfault records of a read. */
function pgfaults(bytes: Buffer) {
  const records = [];
  for (let at = 0; at < bytes.length; at += PGFAULT)
    records.push({
      flags: bytes.readUInt32LE(at),
      devId: bytes.readUInt32LE(at + 4),
      pasid: bytes.readUInt32LE(at + 8),
      grpid: bytes.readUInt32LE(at + 12),
      perm: bytes.readUInt32LE(at + 16),
      addr: bytes.readBigUInt64LE(at + 24),
      length: bytes.readUInt32LE(at + 32),
      cookie: bytes.readUInt32LE(at + 36),
    });
  return records;
}

/** struct iommufd_vevent_header (+ struct iommu_vevent_arm_smmuv3) entries of a read. */
function vevents(bytes: Buffer) {
  const entries = [];
  for (let at = 0; at < bytes.length;) {
    const flags = bytes.readUInt32LE(at);
    const sequence = bytes.readUInt32LE(at + 4);
    at += 8;
    if (flags & 1) entries.push({ lost: true, sequence, vsid: null });
    else {
      entries.push({ lost: false, sequence, vsid: bytes.readUInt32LE(at + 4) });
      at += 32;
    }
  }
  return entries;
}

/** The ids an allocation answers (each call gives some of them). */
type Ids = Record<
  'devId' | 'ioasId' | 'faultId' | 'hwptId' | 'viommuId' | 'vdeviceId' | 'veventqId' | 'ptId',
  number
> & {
  domain: string;
};

const PRI_DEVICE = { ats: true, pri: { capacity: 32 }, pasidBits: 20 };

describe('peer cases: the IOPF tests of iommufd.c', () => {
  it('alloc_hwpt_nested (IOPF part): bad fault id ENOENT, unknown flag EOPNOTSUPP, then a fault read and answered', async () => {
    const { id, ok, refused, destroy, dma } = await lab('vtd', PRI_DEVICE);
    const { devId } = await ok('devices', { device: 'dev0' });
    const { ioasId } = await ok('ioas');
    await ok(`ioas/${ioasId}/map`, { iova: '0x0', size: 0x100000, phys: '0x1000000', prot: 'rw' });
    const parent = await ok('hwpts', { devId, ptId: ioasId, flags: NEST_PARENT });
    const { faultId } = await ok('faults');
    // hw_pagetable.c: a fault object on a nest parent is refused (stage 2 is pinned).
    await refused(
      'hwpts',
      { devId, ptId: ioasId, flags: NEST_PARENT | FAULT_ID_VALID, faultId },
      'EOPNOTSUPP',
    );
    await refused(
      'hwpts',
      { devId, ptId: parent.hwptId, flags: FAULT_ID_VALID, faultId: UINT32_MAX },
      'ENOENT',
    );
    await refused(
      'hwpts',
      { devId, ptId: parent.hwptId, flags: FAULT_ID_VALID + 2 ** 31, faultId },
      'EOPNOTSUPP',
    );
    const iopf = await ok('hwpts', { devId, ptId: parent.hwptId, flags: FAULT_ID_VALID, faultId });
    await ok('attach', { devId, ptId: parent.hwptId });
    await ok('replace', { devId, ptId: iopf.hwptId });
    expect((await destroy(iopf.hwptId)).body).toMatchObject({ code: 'EBUSY' });
    // test_cmd_trigger_iopf: read one struct iommu_hwpt_pgfault, answer SUCCESS with its cookie.
    const channel = await Channel.open(id, 'faults', faultId);
    expect((await dma('0x7f0000000000', 8)).status).toBe(202);
    const [record] = pgfaults(await channel.read(PGFAULT));
    expect(record).toMatchObject({ devId, addr: 0x7f0000000000n, cookie: 1, flags: LAST_PAGE });
    expect(await channel.write([record!.cookie, 0])).toEqual({ type: 'written', bytes: 8 });
    channel.close();
  });

  it('viommu_alloc_nested_iopf: a nested HWPT on a vIOMMU takes a fault object; attach needs the vDEVICE (ENOENT)', async () => {
    const { id, ok, refused, destroy, dma } = await lab('smmuv3', {
      kind: 'platform',
      stall: true,
      pasidBits: 20,
    });
    const { devId } = await ok('devices', { device: 'dev0' });
    const { ioasId } = await ok('ioas');
    await ok(`ioas/${ioasId}/map`, { iova: '0x0', size: 0x100000, phys: '0x1000000', prot: 'rw' });
    const parent = await ok('hwpts', { devId, ptId: ioasId, flags: NEST_PARENT });
    const { viommuId } = await ok('viommus', { devId, hwptId: parent.hwptId, type: VIOMMU_TYPE_ARM_SMMUV3 });
    const { faultId } = await ok('faults');
    await refused('hwpts', { devId, ptId: viommuId, flags: FAULT_ID_VALID, faultId: UINT32_MAX }, 'ENOENT');
    await refused('hwpts', { devId, ptId: viommuId, flags: FAULT_ID_VALID + 2 ** 31, faultId }, 'EOPNOTSUPP');
    const iopf = await ok('hwpts', { devId, ptId: viommuId, flags: FAULT_ID_VALID, faultId });
    await ok('attach', { devId, ptId: parent.hwptId });
    // "Must allocate vdevice before attaching to a nested hwpt"
    await refused('replace', { devId, ptId: iopf.hwptId }, 'ENOENT', 'no-vdevice');
    await ok('vdevices', { viommuId, devId, virtId: 0x99 });
    await ok('replace', { devId, ptId: iopf.hwptId });
    expect((await destroy(iopf.hwptId)).body).toMatchObject({ code: 'EBUSY' });
    expect((await destroy(viommuId)).body).toMatchObject({ code: 'EBUSY' });
    const channel = await Channel.open(id, 'faults', faultId);
    expect((await dma('0x7f0000000000', 8)).status).toBe(202);
    const [record] = pgfaults(await channel.read(PGFAULT));
    expect(record).toMatchObject({ devId, addr: 0x7f0000000000n, cookie: 1 });
    expect(await channel.write([record!.cookie, 0])).toEqual({ type: 'written', bytes: 8 });
    await ok('replace', { devId, ptId: parent.hwptId });
    expect((await destroy(iopf.hwptId)).status).toBe(204);
    channel.close();
  });

  it('vdevice_alloc (vEVENTQ part): depth 2, EEXIST for a second queue, events with the vSID, overflow and its end', async () => {
    const { id, ok, refused, destroy, dma } = await lab('smmuv3', { pasidBits: 20 });
    const { devId } = await ok('devices', { device: 'dev0' });
    const { ioasId } = await ok('ioas');
    await ok(`ioas/${ioasId}/map`, { iova: '0x0', size: 0x100000, phys: '0x1000000', prot: 'rw' });
    const parent = await ok('hwpts', { devId, ptId: ioasId, flags: NEST_PARENT });
    const { viommuId } = await ok('viommus', { devId, hwptId: parent.hwptId, type: VIOMMU_TYPE_ARM_SMMUV3 });
    const nested = await ok('hwpts', { devId, ptId: viommuId });
    await ok('attach', { devId, ptId: ioasId });
    const { veventqId } = await ok('veventqs', { viommuId, type: VEVENTQ_TYPE_ARM_SMMUV3, depth: 2 });
    await refused('veventqs', { viommuId, type: VEVENTQ_TYPE_ARM_SMMUV3, depth: 2 }, 'EEXIST');
    const channel = await Channel.open(id, 'veventqs', veventqId);
    // Each DMA to an address the guest never mapped is one stage-1 F_TRANSLATION the host forwards.
    const trigger = async (n: number) => {
      for (let i = 0; i < n; i++) expect((await dma(`0x7f00000${i}0000`, 8)).body.state).toBe('faulted');
    };
    let vdev = await ok('vdevices', { viommuId, devId, virtId: 0x99 });
    await ok('replace', { devId, ptId: nested.hwptId });
    await trigger(1);
    const first = vevents(await channel.read(4096));
    expect(first).toEqual([{ lost: false, sequence: 0, vsid: 0x99 }]);
    await refused('vdevices', { viommuId, devId, virtId: 0x99 }, 'EEXIST');
    await ok('replace', { devId, ptId: ioasId });
    expect((await destroy(vdev.vdeviceId)).status).toBe(204);
    vdev = await ok('vdevices', { viommuId, devId, virtId: 0x88 });
    await ok('replace', { devId, ptId: nested.hwptId });
    // "Trigger an overflow with three events": two fit, the third is a LOST_EVENTS header (EOVERFLOW there).
    await trigger(3);
    expect(vevents(await channel.read(4096))).toEqual([
      { lost: false, sequence: 1, vsid: 0x88 },
      { lost: false, sequence: 2, vsid: 0x88 },
      { lost: true, sequence: 3, vsid: null },
    ]);
    // "Overflow must be gone after the previous reads"
    await trigger(1);
    expect(vevents(await channel.read(4096))).toEqual([{ lost: false, sequence: 4, vsid: 0x88 }]);
    channel.close();
    await ok('replace', { devId, ptId: ioasId });
    expect((await destroy(vdev.vdeviceId)).status).toBe(204);
    expect((await destroy(veventqId)).status).toBe(204);
  });

  it('pasid_attach: a fault-capable HWPT at PASID 2048 takes its IOPF, with the PASID in the record', async () => {
    const { id, ok, refused, dma } = await lab('vtd', PRI_DEVICE);
    const { devId } = await ok('devices', { device: 'dev0' });
    const { ioasId } = await ok('ioas');
    const { faultId } = await ok('faults');
    const plain = await ok('hwpts', { devId, ptId: ioasId });
    const iopf = await ok('hwpts', { devId, ptId: ioasId, flags: FAULT_ID_VALID | ALLOC_PASID, faultId });
    await refused('attach', { devId, ptId: plain.hwptId, pasid: 2048 }, 'EINVAL', 'not-pasid-compat');
    await refused('replace', { devId, ptId: iopf.hwptId, pasid: 2048 }, 'EINVAL', 'not-attached');
    await ok('attach', { devId, ptId: iopf.hwptId, pasid: 2048 });
    const channel = await Channel.open(id, 'faults', faultId);
    expect((await dma('0x40000', 8, 2048)).status).toBe(202);
    const [record] = pgfaults(await channel.read(PGFAULT));
    expect(record).toMatchObject({ devId, pasid: 2048, addr: 0x40000n });
    expect(record!.flags & PASID_VALID).toBe(PASID_VALID);
    expect(await channel.write([record!.cookie, 0])).toEqual({ type: 'written', bytes: 8 });
    channel.close();
  });
});

describe('peer case: the fail-nth walk of iommufd_fail_nth.c, through REST and the channel', () => {
  /**
   * basic_fail_nth's shape: one sequence of ioctls a VMM makes, run again with the nth allocation of a kind
   * failing, for every n until a run meets no failure. A failed call answers ENOMEM (nothing of it kept);
   * the sequence stops there, as the selftest's body returns, and closing the iommufd (destroying what is
   * left, unbinding) must leave no object, no iommufd domain and no group waiting.
   */
  async function sequence(
    l: Awaited<ReturnType<typeof lab>>,
    channelFor: (faultId: number) => Promise<Channel>,
  ) {
    const step = async (path: string, body: unknown = {}) => {
      const answer = await api('POST', `/labs/${l.id}/iommufd/${path}`, body);
      if (answer.status !== 200) {
        expect(answer.body).toMatchObject({ code: 'ENOMEM', reason: 'fail-nth' });
        throw new Error('failed');
      }
      return answer.body as Ids;
    };
    const { devId } = await step('devices', { device: 'dev0' });
    const { ioasId } = await step('ioas');
    await step(`ioas/${ioasId}/map`, { iova: '0x0', size: 0x100000, phys: '0x1000000', prot: 'rw' });
    const parent = await step('hwpts', { devId, ptId: ioasId, flags: NEST_PARENT });
    const { faultId } = await step('faults');
    const nested = await step('hwpts', { devId, ptId: parent.hwptId, flags: FAULT_ID_VALID, faultId });
    await step('attach', { devId, ptId: ioasId });
    await step('replace', { devId, ptId: nested.hwptId });
    const channel = await channelFor(faultId);
    try {
      expect((await l.dma('0x7f0000000000', 8)).status).toBe(202);
      const frame = await channel.readOrError(PGFAULT);
      if (!('bytes' in frame)) {
        expect(frame.text).toMatchObject({ code: 'ENOMEM', reason: 'fail-nth' });
        throw new Error('failed');
      }
      const [record] = pgfaults(frame.bytes);
      expect(await channel.write([record!.cookie, 1])).toEqual({ type: 'written', bytes: 8 });
    } finally {
      channel.close();
    }
    await step('replace', { devId, ptId: ioasId });
    await step('detach', { devId });
  }

  /** What closing /dev/iommu does: every object destroyed (devices unbound first), newest first. */
  async function close(l: Awaited<ReturnType<typeof lab>>) {
    const objects = (await api('GET', `/labs/${l.id}/iommufd/objects`)).body as {
      id: number;
      type: string;
    }[];
    for (const object of objects.filter((o) => o.type === 'device')) await l.destroy(object.id);
    for (let left = objects.length; left > 0; left--) {
      const now = (await api('GET', `/labs/${l.id}/iommufd/objects`)).body as { id: number }[];
      for (const object of [...now].reverse()) await l.destroy(object.id);
    }
    expect((await api('GET', `/labs/${l.id}/iommufd/objects`)).body).toEqual([]);
    const domains = (await api('GET', `/labs/${l.id}/domains`)).body as { id: string }[];
    expect(domains.filter((d) => d.id.startsWith('iommufd-'))).toEqual([]);
    expect((await api('GET', `/labs/${l.id}/faults/pending`)).body).toEqual([]);
  }

  it.each(['domain', 'fault-queue-slot'])(
    'fails the nth %s allocation, for every n, and leaks nothing',
    async (kind) => {
      let failedRuns = 0;
      for (let n = 1; n <= 8; n++) {
        const l = await lab('vtd', PRI_DEVICE);
        expect((await api('PUT', `/labs/${l.id}/fail-nth`, { kind, n })).status).toBe(200);
        const ran = await sequence(l, (faultId) => Channel.open(l.id, 'faults', faultId)).then(
          () => 'done',
          (error: Error) => error.message,
        );
        await close(l);
        const counters = (await api('GET', `/labs/${l.id}/fail-nth`)).body as {
          kind: string;
          failed: number;
        }[];
        const failed = counters.find((c) => c.kind === kind)!.failed;
        await api('DELETE', `/labs/${l.id}`);
        // A run either met its failure (and stopped there) or got through with n past every allocation.
        expect([ran, failed]).toEqual(ran === 'done' ? ['done', 0] : ['failed', 1]);
        if (ran === 'done') break;
        failedRuns++;
      }
      // The sequence allocates four domains (the nest parent, the nested HWPT, and an automatic HWPT at each
      // of the two IOAS attaches, the first gone with its attachment at the replace) and one response slot:
      // that many runs failed before one got through.
      expect(failedRuns).toBe(kind === 'domain' ? 4 : 1);
    },
  );
});

describe('beyond the selftest: what its empty response hook never checks', () => {
  async function faulting(pasid?: number) {
    const l = await lab('vtd', PRI_DEVICE);
    const { devId } = await l.ok('devices', { device: 'dev0' });
    const { ioasId } = await l.ok('ioas');
    const { faultId } = await l.ok('faults');
    const hwpt = await l.ok('hwpts', { devId, ptId: ioasId, flags: FAULT_ID_VALID | ALLOC_PASID, faultId });
    await l.ok('attach', { devId, ptId: hwpt.hwptId, ...(pasid === undefined ? {} : { pasid }) });
    const channel = await Channel.open(l.id, 'faults', faultId);
    return { ...l, devId, ioasId, faultId, hwpt, channel };
  }

  it('a group of several records under one cookie; a buffer smaller than the group reads 0; sizes not whole records are ESPIPE', async () => {
    const { dma, channel } = await faulting();
    expect((await dma('0x40000', 3 * 4096)).status).toBe(202);
    expect((await channel.read(2 * PGFAULT)).length).toBe(0);
    expect(await channel.readRefused(PGFAULT + 1)).toMatchObject({ type: 'error', code: 'ESPIPE' });
    const records = pgfaults(await channel.read(4 * PGFAULT));
    expect(records.map((r) => [r.addr, r.cookie, r.flags & LAST_PAGE])).toEqual([
      [0x40000n, 1, 0],
      [0x41000n, 1, 0],
      [0x42000n, 1, LAST_PAGE],
    ]);
    expect(await channel.write([1, 0], [2, 0]).catch(String)).toEqual({ type: 'written', bytes: 8 });
    channel.socket.send(Buffer.alloc(12), { binary: true });
    expect((await channel.answer()) as unknown).toMatchObject({ text: { code: 'ESPIPE' } });
    channel.close();
  });

  it('INVALID fails the DMA; a bad cookie after a good one takes only the good one, alone it is EINVAL', async () => {
    const { id, dma, channel } = await faulting();
    expect((await dma('0x40000', 8)).status).toBe(202);
    expect((await dma('0x80000', 8)).status).toBe(202);
    const cookies = pgfaults(await channel.read(2 * PGFAULT)).map((r) => r.cookie);
    expect(cookies).toEqual([1, 2]);
    expect(await channel.write([1, 1], [9, 0], [2, 0])).toEqual({ type: 'written', bytes: 8 });
    expect(await channel.write([9, 0])).toMatchObject({
      type: 'error',
      code: 'EINVAL',
      reason: 'unknown-cookie',
    });
    expect(await channel.write([2, 7])).toMatchObject({
      type: 'error',
      code: 'EINVAL',
      reason: 'bad-response-code',
    });
    expect(await channel.write([2, 1])).toEqual({ type: 'written', bytes: 8 });
    await api('POST', `/labs/${id}/clock`, { action: 'step', steps: 1000 });
    const faults = (await api('GET', `/labs/${id}/events?kinds=fault.response`)).body.events as {
      code: string;
      cause: string;
    }[];
    expect(faults.map((f) => [f.code, f.cause])).toEqual([
      ['INVALID', 'handler'],
      ['INVALID', 'handler'],
    ]);
    channel.close();
  });

  it('detach answers INVALID to every group of that attach, read or not; the channel then reads nothing', async () => {
    const { id, ok, devId, dma, channel } = await faulting();
    expect((await dma('0x40000', 8)).status).toBe(202);
    expect(pgfaults(await channel.read(PGFAULT))).toHaveLength(1);
    expect((await dma('0x80000', 8)).status).toBe(202);
    await ok('detach', { devId });
    expect((await channel.read(100 * PGFAULT)).length).toBe(0);
    expect(await channel.write([1, 0])).toMatchObject({ code: 'EINVAL', reason: 'unknown-cookie' });
    const responses = (await api('GET', `/labs/${id}/events?kinds=fault.response`)).body.events as {
      code: string;
      cause: string;
    }[];
    expect(responses.map((r) => [r.code, r.cause])).toEqual([
      ['INVALID', 'detach'],
      ['INVALID', 'detach'],
    ]);
    channel.close();
  });

  it('RESPONSE_NEEDS_PASID: a request at a PASID of a function that needs it back says so', async () => {
    const { dma, channel } = await faulting(5);
    expect((await dma('0x40000', 8, 5)).status).toBe(202);
    const [record] = pgfaults(await channel.read(PGFAULT));
    expect(record!.flags & (PASID_VALID | NEEDS_PASID)).toBe(PASID_VALID | NEEDS_PASID);
    channel.close();
  });

  it('refuses bad channel input with a reason and keeps the channel; a missing object is a 404 before the upgrade', async () => {
    const { id, faultId, channel } = await faulting();
    channel.socket.send('not json');
    expect(await channel.answer()).toMatchObject({ text: { code: 'EVALIDATION' } });
    channel.socket.send(JSON.stringify({ op: 'seek', count: 1 }));
    expect(await channel.answer()).toMatchObject({ text: { code: 'EVALIDATION' } });
    expect((await channel.read(PGFAULT)).length).toBe(0);
    const missing = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(
        `${server.url.replace('http', 'ws')}/api/v1/labs/${id}/iommufd/faults/${faultId + 50}/channel`,
      );
      socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.on('open', () => reject(new Error('the upgrade of a missing object was accepted')));
    });
    expect(missing).toBe(404);
    channel.close();
  });

  it('pushes readable when the queue stops being empty', async () => {
    const { dma, channel } = await faulting();
    expect((await dma('0x40000', 8)).status).toBe(202);
    expect(await channel.next()).toEqual({ text: { type: 'readable' } });
    channel.close();
  });
});
