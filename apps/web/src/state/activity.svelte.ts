/**
 * What the DMA panel last did, kept outside the components: a transaction on a running lab can take a
 * while (the API waits for it to end), and its answer must survive a change of view. The workload form's
 * state is workload.svelte.ts.
 */
import { api, describeError } from '../lib/client';
import type { DmaBody as DmaRequestBody, DmaResult as DmaOutcome } from '@iommu-lab/client';
import { labStore } from './lab.svelte';

type Failure = { code: string; message: string; reason?: string };

export class ActivityStore {
  dmaBusy = $state(false);
  dma = $state<DmaOutcome | null>(null);
  dmaError = $state<Failure | null>(null);
  dmaRequest = $state<DmaRequestBody | null>(null);
  /** The lab the last transaction was fired on: its outcome and error are not shown for another lab. */
  dmaLab = $state<string | null>(null);

  async fireDma(body: DmaRequestBody): Promise<void> {
    this.dmaBusy = true;
    this.dmaError = null;
    this.dma = null;
    this.dmaRequest = body;
    this.dmaLab = labStore.id;
    try {
      this.dma = await labStore.act((lab) => api.dma(lab, body));
    } catch (error) {
      this.dmaError = describeError(error);
    } finally {
      this.dmaBusy = false;
    }
  }
}

export const activityStore = new ActivityStore();
