/**
 * The live lab the dashboard looks at: which lab, its latest snapshot (topology), its clock, and the
 * presets and labs to choose from. Views read it; mutations go through `act`, which refreshes the
 * snapshot afterwards; stream events refresh it too, at most once a second.
 */
import { api, describeError } from '../lib/api';
import type { Clock, ClockAction, LabDetailView, LabSummaryView, Preset, SystemView } from '../lib/types';

const STORAGE_KEY = 'iommu-lab.lab';
const REFRESH_MS = 1000;

export class LabStore {
  presets = $state<Preset[]>([]);
  labs = $state<LabSummaryView[]>([]);
  detail = $state<LabDetailView | null>(null);
  clock = $state<Clock | null>(null);
  loadError = $state<string | null>(null);
  /** Bumped after every successful mutation: views that fetch their own data (inspector) refetch. */
  changes = $state(0);

  readonly id = $derived(this.detail?.id ?? null);
  readonly system = $derived((this.detail?.system as SystemView | undefined) ?? null);

  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private lastRefresh = 0;

  async init(): Promise<void> {
    try {
      [this.presets, this.labs] = await Promise.all([api.presets(), api.labs()]);
      const saved = localStorage.getItem(STORAGE_KEY);
      if (saved && this.labs.some((lab) => lab.id === saved)) await this.select(saved);
      this.loadError = null;
    } catch (error) {
      this.loadError = describeError(error).message;
    }
  }

  async loadLabs(): Promise<void> {
    this.labs = await api.labs();
  }

  async select(id: string | null): Promise<void> {
    if (id === null) {
      this.detail = null;
      this.clock = null;
      localStorage.removeItem(STORAGE_KEY);
      return;
    }
    this.detail = await api.lab(id);
    this.clock = this.detail.clock;
    localStorage.setItem(STORAGE_KEY, id);
  }

  async create(body: Parameters<typeof api.createLab>[0]): Promise<void> {
    const created = await api.createLab(body);
    await this.loadLabs();
    this.detail = created;
    this.clock = created.clock;
    localStorage.setItem(STORAGE_KEY, created.id);
  }

  async remove(): Promise<void> {
    if (!this.id) return;
    await api.deleteLab(this.id);
    await this.select(null);
    await this.loadLabs();
  }

  /** Fetches the snapshot now. */
  async refresh(): Promise<void> {
    const id = this.id;
    if (!id) return;
    this.lastRefresh = Date.now();
    try {
      const detail = await api.lab(id);
      if (this.id === id) {
        this.detail = detail;
        this.clock = detail.clock;
      }
    } catch (error) {
      // A lab deleted elsewhere (or a restarted server): forget it rather than show a stale picture.
      if (describeError(error).code === 'ENOENT' || (error as { status?: number }).status === 404) {
        await this.select(null);
        await this.loadLabs();
      }
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
    this.clock = await api.setClock(id, action);
  }

  async pollClock(): Promise<void> {
    const id = this.id;
    if (!id) return;
    try {
      this.clock = await api.clock(id);
    } catch {
      // The next refresh says whether the lab is gone.
    }
  }
}

export const labStore = new LabStore();
