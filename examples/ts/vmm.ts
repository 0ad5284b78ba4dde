/**
 * A VMM's I/O page fault loop on the lab's iommufd, as QEMU or crosvm would run it on /dev/iommu:
 * bind the device, give it a fault object and a HWPT, then read struct iommu_hwpt_pgfault records from the
 * fault object's file, make each page resident, and answer each group with struct iommu_hwpt_page_response.
 *   npx tsx examples/ts/vmm.ts nested   the guest owns stage 1: a fault is a guest page table miss, fixed
 *                                       by mapping the page in the guest's stage 1 (what a vIOMMU would
 *                                       forward to the guest and the guest's driver would do)
 *   npx tsx examples/ts/vmm.ts paging   the host owns the only stage: a fault is fixed by IOMMU_IOAS_MAP
 * (IOMMU_LAB_URL to use another server). It prints what it read and answered, one line per group.
 */
import { createClient } from '@iommu-lab/client';

const mode = process.argv[2];
if (mode !== 'nested' && mode !== 'paging') {
  console.error('usage: vmm.ts nested|paging');
  process.exit(2);
}
const api = createClient({ baseUrl: process.env.IOMMU_LAB_URL ?? 'http://127.0.0.1:4100' });

/** include/uapi/linux/iommufd.h */
const IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0;
const IOMMU_HWPT_FAULT_ID_VALID = 1 << 2;
const IOMMUFD_PAGE_RESP_SUCCESS = 0;
const PGFAULT_BYTES = 40; // sizeof(struct iommu_hwpt_pgfault)
const IOMMU_PGFAULT_FLAGS_LAST_PAGE = 1 << 1;
const PAGE = 0x1000;

/** struct iommu_hwpt_pgfault, little-endian: flags, dev_id, pasid, grpid, perm, __reserved, addr, length, cookie. */
function decodePgfault(view: DataView, at: number) {
  return {
    flags: view.getUint32(at, true),
    devId: view.getUint32(at + 4, true),
    pasid: view.getUint32(at + 8, true),
    grpid: view.getUint32(at + 12, true),
    perm: view.getUint32(at + 16, true),
    addr: view.getBigUint64(at + 24, true),
    length: view.getUint32(at + 32, true),
    cookie: view.getUint32(at + 36, true),
  };
}

// A host with one VT-d IOMMU under today's kernel and a PCIe function with ATS and PRI.
const lab = await api.labs.create({ name: `vmm-${mode}` });
await api.iommus.create(lab.id, { id: 'iommu0', family: 'vtd', profile: 'mainline' });
await api.devices.create(lab.id, {
  id: 'vf0',
  iommu: 'iommu0',
  ats: true,
  pri: { capacity: 32 },
  pasidBits: 20,
});

// The VMM's setup ioctls.
const { devId } = await api.iommufd.bind(lab.id, 'vf0');
const { ioasId } = await api.iommufd.ioasAlloc(lab.id);
const { faultId } = await api.iommufd.faultQueueAlloc(lab.id);
let faulting: { hwptId: number; domain: string };
if (mode === 'nested') {
  // Guest RAM (guest physical 0..1 MiB at host 0x1000000) is the pinned stage 2; the guest's table is stage 1.
  await api.iommufd.ioasMap(lab.id, ioasId, { iova: '0x0', size: 0x100000, phys: '0x1000000', prot: 'rw' });
  const parent = await api.iommufd.hwptAlloc(lab.id, {
    devId,
    ptId: ioasId,
    flags: IOMMU_HWPT_ALLOC_NEST_PARENT,
  });
  faulting = await api.iommufd.hwptAlloc(lab.id, {
    devId,
    ptId: parent.hwptId,
    flags: IOMMU_HWPT_FAULT_ID_VALID,
    faultId,
  });
} else {
  faulting = await api.iommufd.hwptAlloc(lab.id, {
    devId,
    ptId: ioasId,
    flags: IOMMU_HWPT_FAULT_ID_VALID,
    faultId,
  });
}
await api.iommufd.attach(lab.id, { devId, ptId: faulting.hwptId });

const fault = api.iommufd.faultChannel(lab.id, faultId);
await fault.hello;

/** The page-fault loop: read whole groups, make every page resident, answer each group once. */
let answered = 0;
async function serveFaults(groups: number): Promise<void> {
  let nextGuestPage = 0x10; // guest physical frames handed out for new guest mappings
  while (answered < groups) {
    await fault.readable();
    const bytes = await fault.read(16 * PGFAULT_BYTES);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = 0; at < bytes.length; at += PGFAULT_BYTES) {
      const record = decodePgfault(view, at);
      const iova = `0x${record.addr.toString(16)}`;
      if (mode === 'nested')
        await api.domains.map(lab.id, faulting.domain, {
          iova,
          size: PAGE,
          phys: `0x${(nextGuestPage++ * PAGE).toString(16)}`,
          prot: 'rw',
        });
      else
        await api.iommufd.ioasMap(lab.id, ioasId, {
          iova,
          size: PAGE,
          phys: `0x${(0x2000000 + Number(record.addr)).toString(16)}`,
          prot: 'rw',
        });
      // Answer once per group, after its last request (the group shares one cookie).
      if ((record.flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE) === 0) continue;
      const response = new Uint8Array(8);
      new DataView(response.buffer).setUint32(0, record.cookie, true);
      new DataView(response.buffer).setUint32(4, IOMMUFD_PAGE_RESP_SUCCESS, true);
      const written = await fault.write(response);
      console.log(
        `group ${record.grpid} dev_id ${record.devId} cookie ${record.cookie} ends at ${iova}: mapped, SUCCESS (${written} bytes)`,
      );
      answered++;
    }
  }
}

// The device writes two buffers the guest has not touched: a 3-page one and a 1-page one.
await api.labs.clock(lab.id, { action: 'run', speed: 'max' });
const base = mode === 'nested' ? 0x7f0000000000 : 0x40000;
const dmas = [
  api.dma(lab.id, { device: 'vf0', address: `0x${base.toString(16)}`, length: 3 * PAGE, access: 'write' }),
  api.dma(lab.id, {
    device: 'vf0',
    address: `0x${(base + 0x100000).toString(16)}`,
    length: 8,
    access: 'write',
  }),
];
await serveFaults(2);
const results = await Promise.all(dmas);
fault.close();
console.log(
  `${mode}: ${results.filter((r) => r.state === 'completed').length}/${results.length} DMAs completed, ${answered} groups answered`,
);
await api.labs.delete(lab.id);
