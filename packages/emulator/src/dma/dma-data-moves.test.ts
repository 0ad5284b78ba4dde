import { describe, expect, it } from 'vitest';
import { capture, expectRefused, systemWith } from '../testing/fixtures';

function withDomain() {
  const s = systemWith('vtd', 'mainline', [{ id: 'dev0' }, { id: 'nic0', ats: true }]);
  s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
  s.map('d', { iova: '0x10000', size: 0x3000, phys: '0x80000', prot: 'rw' });
  // A second IOVA window onto the same frames, to read back through another translation.
  s.map('d', { iova: '0x40000', size: 0x3000, phys: '0x80000', prot: 'r' });
  s.attach('dev0', 'd');
  s.attach('nic0', 'd', { replace: true });
  return s;
}

describe('DMA moves data through translations', () => {
  it('a write stores bytes that a later read returns, across page boundaries and from an offset', () => {
    const s = withDomain();
    const data = Uint8Array.from({ length: 6000 }, (_, i) => i % 251);
    const write = s.dma({ device: 'dev0', address: '0x10f00', length: data.length, access: 'write', data });
    s.runUntilIdle();
    expect(write.state).toBe('completed');
    const read = s.dma({
      device: 'nic0',
      address: '0x40f00',
      length: data.length,
      access: 'read',
      returnData: true,
    });
    s.runUntilIdle();
    expect(read.readBack).toEqual(data);
    // The bytes really are in the frames the mapping names.
    expect(s.env.memory.snapshot(0x80)![0xf00]).toBe(0);
    expect(s.env.memory.snapshot(0x81)![0]).toBe(256 % 251);
  });

  it('splits a transaction at page boundaries: one dma.page event a page', () => {
    const s = withDomain();
    const pages = capture(s, 'dma.page');
    s.dma({ device: 'dev0', address: '0x10ffc', length: 8, access: 'read' });
    s.runUntilIdle();
    expect(pages.map((page) => page.address)).toEqual(['0x10000', '0x11000']);
    expect(pages.map((page) => page.frame)).toEqual(['0x80000', '0x81000']);
  });

  it('keeps no buffer for a read without returnData', () => {
    const s = withDomain();
    const read = s.dma({ device: 'dev0', address: '0x10000', length: 16, access: 'read' });
    s.runUntilIdle();
    expect(read.readBack).toBeNull();
  });

  it('stops at the first page that faults: earlier bytes are written, none beyond', () => {
    const s = withDomain();
    const data = new Uint8Array(0x3000 + 0x1000).fill(7);
    const tx = s.dma({ device: 'dev0', address: '0x10000', length: data.length, access: 'write', data });
    s.runUntilIdle();
    expect(tx.state).toBe('faulted');
    expect(tx.error).toBe('unrecoverable');
    expect(tx.bytesDone).toBe(0x3000);
    expect(tx.fault).toMatchObject({ address: '0x13000', fault: 'translation' });
    expect(s.env.memory.snapshot(0x82)![4095]).toBe(7);
  });

  it('a write to a read-only mapping faults with a permission fault and stores nothing', () => {
    const s = withDomain();
    const tx = s.dma({
      device: 'dev0',
      address: '0x40000',
      length: 4,
      access: 'write',
      data: new Uint8Array([1, 2, 3, 4]),
    });
    s.runUntilIdle();
    expect(tx.fault).toMatchObject({ fault: 'permission-write' });
    expect(s.env.memory.snapshot(0x80)).toBeUndefined();
  });

  it('resetDevice aborts transactions in flight and empties the ATC', () => {
    const s = withDomain();
    const aborted = capture(s, 'dma.aborted');
    const tx = s.dma({ device: 'nic0', address: '0x10000', length: 0x3000, access: 'read' });
    s.step();
    s.step();
    s.resetDevice('nic0');
    s.runUntilIdle();
    expect(tx.state).toBe('aborted');
    expect(tx.error).toBe('reset');
    expect(aborted).toEqual([expect.objectContaining({ transaction: tx.id, cause: 'reset' })]);
    expect(s.describe().devices[1]!.atc!.valid).toBe(0);
  });

  it('refuses bad DMA requests with a code and changes nothing', () => {
    const s = withDomain();
    expectRefused(
      s,
      () => s.dma({ device: 'dev0', address: '0x10000', length: 0, access: 'read' }),
      'EINVAL',
      'bad-length',
    );
    expectRefused(
      s,
      () => s.dma({ device: 'dev0', address: '0x10000', length: 4, access: 'fetch' as never }),
      'EINVAL',
      'bad-access',
    );
    expectRefused(
      s,
      () => s.dma({ device: 'dev0', address: '0x10000', length: 4, access: 'read', data: new Uint8Array(4) }),
      'EINVAL',
      'bad-data',
    );
    expectRefused(
      s,
      () =>
        s.dma({ device: 'dev0', address: '0x10000', length: 4, access: 'write', data: new Uint8Array(3) }),
      'EINVAL',
      'bad-data',
    );
    expectRefused(
      s,
      () => s.dma({ device: 'ghost', address: '0x10000', length: 4, access: 'read' }),
      'ENOENT',
      'no-such-device',
    );
    expectRefused(
      s,
      () => s.dma({ device: 'dev0', address: 'not-hex', length: 4, access: 'read' }),
      'EINVAL',
      'bad-address',
    );
    expectRefused(
      s,
      () => s.dma({ device: 'dev0', pasid: -1, address: '0x0', length: 4, access: 'read' }),
      'EINVAL',
      'bad-pasid',
    );
  });
});
