/**
 * The live lab the dashboard looks at: which lab, its latest snapshot (topology), its clock, and the
 * presets and labs to choose from. Views read it; mutations go through `act`, which refreshes the
 * snapshot afterwards; stream events refresh it too, at most once a second. A lab deleted elsewhere (another
 * tab) is dropped with a note saying so, from the stream's `lab.deleted` or a refresh's 404.
 */
import type {
  Clock,
  ClockAction,
  CreateLabBody,
  LabDetail,
  LabSummary,
  Preset,
  SystemView,
} from '@iommu-lab/client';
import { api, describeError } from '../lib/client';
import { streamStore } from './stream.svelte';

const STORAGE_KEY = 'iommu-lab.lab';
const REFRESH_MS = 1000;

export class LabStore {
  presets = $state<Preset[]>([]);
  labs = $state<LabSummary[]>([]);
  detail = $state<LabDetail | null>(null);
  clock = $state<Clock | null>(null);
  loadError = $state<string | null>(null);
  /** Bumped after every successful mutation: views that fetch their own data (inspector) refetch. */
  changes = $state(0);
  /** The lab this tab showed when it was deleted elsewhere; cleared once another lab is shown. */
  deletedElsewhere = $state<string | null>(null);

  readonly id = $derived(this.detail?.id ?? null);
  readonly system = $derived((this.detail?.system as SystemView | undefined) ?? null);
  /** Bumped whenever the shown lab changes (another lab, none, or a new one): panels key on it to reset. */
  epoch = $state(0);

  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private lastRefresh = 0;

  async init(): Promise<void> {
    streamStore.onLabDeleted((lab) => void this.forgetDeleted(lab));
    try {
      [this.presets, this.labs] = await Promise.all([api.presets(), api.labs.list()]);
      const saved = localStorage.getItem(STORAGE_KEY);
      if (saved && this.labs.some((lab) => lab.id === saved)) await this.select(saved);
      this.loadError = null;
    } catch (error) {
      this.loadError = describeError(error).message;
    }
  }

  async loadLabs(): Promise<void> {
    this.labs = await api.labs.list();
  }

  /** Sets the shown lab; every change of lab starts panels afresh (no outcome or error from another lab). */
  private show(detail: LabDetail | null): void {
    if ((detail?.id ?? null) !== this.id) this.epoch += 1;
    this.detail = detail;
    this.clock = detail?.clock ?? null;
    if (detail) {
      this.deletedElsewhere = null;
      localStorage.setItem(STORAGE_KEY, detail.id);
    } else localStorage.removeItem(STORAGE_KEY);
  }

  /** The shown lab was deleted by someone else: drop it, say so, and list what is left. */
  private async forgetDeleted(lab: string): Promise<void> {
    if (this.id !== lab) return;
    this.show(null);
    this.deletedElsewhere = lab;
    await this.loadLabs().catch(() => undefined);
  }

  async select(id: string | null): Promise<void> {
    this.show(id === null ? null : await api.labs.get(id));
  }

  async create(body: CreateLabBody): Promise<void> {
    const created = await api.labs.create(body);
    await this.loadLabs();
    this.show(created);
  }

  async remove(): Promise<void> {
    if (!this.id) return;
    await api.labs.delete(this.id);
    this.show(null);
    await this.loadLabs();
  }

  /** Fetches the snapshot now. */
  async refresh(): Promise<void> {
    const id = this.id;
    if (!id) return;
    this.lastRefresh = Date.now();
    try {
      const detail = await api.labs.get(id);
      if (this.id === id) {
        this.detail = detail;
        this.clock = detail.clock;
      }
    } catch (error) {
      // A lab deleted elsewhere (or a restarted server): forget it rather than show a stale picture.
      if (describeError(error).code === 'ENOENT') await this.forgetDeleted(id);
    }
  }

  /** Asks for a refresh soon: at most one a second however many events arrive. */
  refreshSoon(): void {
    if (this.refreshTimer !== null) return;
    const wait = Math.max(0, REFRESH_MS - (Date.now() - this.lastRefresh));
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.refresh();
    }, wait);
  }

  /**
   * Runs a mutation against the current lab, then refreshes the snapshot. Throws the API's refusal for
   * the caller to show next to the control that caused it.
   */
  async act<T>(mutation: (lab: string) => Promise<T>): Promise<T> {
    const id = this.id;
    if (!id) throw new Error('Create or pick a lab first.');
    const result = await mutation(id);
    this.changes += 1;
    await this.refresh();
    return result;
  }

  async setClock(action: ClockAction): Promise<void> {
    const id = this.id;
    if (!id) return;
    this.clock = await api.labs.clock(id, action);
  }

  async pollClock(): Promise<void> {
    const id = this.id;
    if (!id) return;
    try {
      this.clock = await api.labs.clock(id);
    } catch {
      // The next refresh says whether the lab is gone.
    }
  }
}

export const labStore = new LabStore();
