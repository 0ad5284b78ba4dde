/**
 * Bytes allocated by a piece of work, from V8's sampling heap profiler (node:inspector), counting the
 * objects the young and old collections freed too, so short-lived garbage is seen. It samples (one sample
 * per SAMPLING_BYTES on average): an estimate, good to a few percent over a large run, with no Node flag.
 */
import { Session } from 'node:inspector/promises';

const SAMPLING_BYTES = 256;

interface SamplingNode {
  selfSize: number;
  children: SamplingNode[];
}

export async function bytesAllocated(work: () => void): Promise<number> {
  const session = new Session();
  session.connect();
  try {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: SAMPLING_BYTES,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    work();
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as {
      profile: { head: SamplingNode };
    };
    let total = 0;
    const visit = (node: SamplingNode): void => {
      total += node.selfSize;
      for (const child of node.children) visit(child);
    };
    visit(profile.head);
    return total;
  } finally {
    session.disconnect();
  }
}
