/**
 * The typed client of the iommu-lab API: REST on fetch, websockets on `ws`, types from the wire schemas.
 * Methods are grouped by resource; every refusal is thrown as an ApiError, and a server that cannot be
 * reached as a ConnectionError.
 */
import type { RecordLayouts, SeriesAnswerView } from '@iommu-lab/wire';
import { ApiError, ConnectionError } from './errors';
import { IommufdChannel } from './iommufd-channel';
import { type SocketTarget, JsonSocket } from './socket';
import { EventStream, type EventStreamOptions, FaultHandler, type FaultPolicy, LabStream } from './stream';
import type {
  AttachBody,
  AttachPtBody,
  DetachPtBody,
  HwptAllocBody,
  IoasMapBody,
  IommufdObjectView,
  VdeviceAllocBody,
  VeventqAllocBody,
  ViommuAllocBody,
  BindResult,
  Clock,
  ClockAction,
  CompareResult,
  CountResult,
  CreateLabBody,
  DetachBody,
  DeviceSpec,
  DeviceView,
  Document,
  DmaBody,
  DmaResult,
  DomainSpec,
  EventPage,
  ExperimentBody,
  ExperimentFile,
  ExperimentPatch,
  ExperimentView,
  FaultPage,
  FaultQuery,
  Feature,
  FlowDetail,
  FlowPage,
  FlowQuery,
  HandlerSlot,
  HandlerSpec,
  Health,
  HistoryQuery,
  InvalidateAtcBody,
  InvalidateIotlbBody,
  InvalidateResult,
  IommuDetail,
  IommuSpec,
  LabDetail,
  LabSummary,
  MappingResult,
  MappingSpec,
  PendingFault,
  Preset,
  ProcessSpec,
  ProtectBody,
  RangeBody,
  ResponseCode,
  RunMessage,
  RunStatus,
  RunView,
  SaveLabBody,
  SavedLabExperiment,
  StartRunBody,
  StartSweepBody,
  StreamFilter,
  SweepView,
  SavedStudyView,
  StudyFile,
  StudyRunBody,
  StudyRunListQuery,
  StudyRunView,
  StudySpec,
  Trace,
  WorkersView,
  TranslateResult,
  UnmapBody,
  VmaResult,
  VmaSpec,
  WalkView,
  WorkloadBody,
  WorkloadResult,
} from './types';

export const API_PREFIX = '/api/v1';

export interface ClientOptions {
  /** The server, e.g. "http://127.0.0.1:4100" (a trailing "/api/v1" is accepted too). */
  baseUrl: string;
  /** The server's IOMMU_LAB_TOKEN, sent as `Authorization: Bearer …` on every request and websocket. */
  token?: string;
  /** Another fetch (tests, proxies). */
  fetch?: typeof fetch;
}

export type Query = Record<string, string | number | boolean | readonly (string | number)[] | undefined>;

interface RequestOptions {
  body?: unknown;
  query?: Query;
  /** The route is from the server's root, not under /api/v1. */
  root?: boolean;
}

/** Statuses a run ends in. */
export const FINISHED_RUN_STATUSES: readonly RunStatus[] = ['done', 'failed', 'interrupted'];

export interface WaitOptions {
  /** Called with each message of the run's websocket. */
  onProgress?: (message: RunMessage) => void;
  /** Give up (throwing) after this long; default: never. */
  timeoutMs?: number;
  /** Polling interval when the websocket is gone before the run ended. Default 250 ms. */
  pollMs?: number;
}

export interface SweepWaitOptions<View = SweepView> {
  onUpdate?: (view: View) => void;
  timeoutMs?: number;
  /** Default 500 ms. */
  pollMs?: number;
}

export type DownloadFormat = 'csv' | 'jsonl';

const path = (...parts: (string | number)[]) => parts.map((part) => encodeURIComponent(part)).join('/');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function queryString(query: Query | undefined): string {
  if (!query) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    search.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export class IommuLabClient {
  /** The server's origin and path, without "/api/v1" and without a trailing slash. */
  readonly baseUrl: string;
  private readonly token: string | undefined;
  private readonly fetcher: typeof fetch;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
    this.token = options.token || undefined;
    this.fetcher = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  // ——— plumbing ———

  private headers(json: boolean): Record<string, string> {
    return {
      ...(json ? { 'content-type': 'application/json' } : {}),
      ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
    };
  }

  /** One request; resolves with the raw Response when it is a 2xx, throws ApiError / ConnectionError. */
  async raw(method: string, route: string, options: RequestOptions = {}): Promise<Response> {
    const prefix = options.root ? '' : API_PREFIX;
    const url = `${this.baseUrl}${prefix}${route}${queryString(options.query)}`;
    const hasBody = options.body !== undefined;
    let response: Response;
    try {
      response = await this.fetcher(url, {
        method,
        headers: this.headers(hasBody),
        ...(hasBody ? { body: JSON.stringify(options.body) } : {}),
      });
    } catch (error) {
      throw new ConnectionError(this.baseUrl, error);
    }
    if (response.ok) return response;
    const text = await response.text().catch(() => '');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
      if (body === null || typeof body !== 'object') throw new Error('not an object');
    } catch {
      body = { message: text.trim() || response.statusText || `HTTP ${response.status}` };
    }
    throw new ApiError(response.status, body, `${method} ${prefix}${route}`);
  }

  /** One JSON request (undefined for a 204). */
  async request<T>(method: string, route: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.raw(method, route, options);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private get<T>(route: string, query?: Query) {
    return this.request<T>('GET', route, { ...(query ? { query } : {}) });
  }
  private post<T>(route: string, body?: unknown) {
    return this.request<T>('POST', route, { body });
  }

  /** The URL of a route under /api/v1 (for links and downloads, e.g. a run's fault log). */
  url(route: string, query?: Query): string {
    return `${this.baseUrl}${API_PREFIX}${route}${queryString(query)}`;
  }

  /** The ws:// (wss://) URL of a websocket route under /api/v1, for a caller that runs its own socket. */
  socketUrl(route: string): string {
    return `${this.baseUrl.replace(/^http/, 'ws')}${API_PREFIX}${route}`;
  }

  private socketTarget(route: string): SocketTarget {
    return {
      url: this.socketUrl(route),
      headers: this.headers(false),
      request: `GET ${API_PREFIX}${route}`,
      baseUrl: this.baseUrl,
    };
  }

  // ——— the server ———

  /** GET /healthz. */
  health(): Promise<Health> {
    return this.request<Health>('GET', '/healthz', { root: true });
  }

  /** GET /workers: the queue workers connected to the server's Redis (none without REDIS_URL), and their runs. */
  workers(): Promise<WorkersView> {
    return this.get('/workers');
  }

  /** The OpenAPI document the server generates from its route schemas. */
  openapi(): Promise<Document> {
    return this.get('/openapi.json');
  }

  /** Scenario presets (config + workload). */
  presets(): Promise<Preset[]> {
    return this.get('/presets');
  }

  /** Every byte-exact record's layout (the records events and flows carry name theirs by id). */
  recordLayouts(): Promise<RecordLayouts> {
    return this.get('/records/layouts');
  }

  // ——— labs ———

  readonly labs = {
    /** An empty lab, one from a system config, or one from a preset. */
    create: (body: CreateLabBody = {}): Promise<LabDetail> => this.post('/labs', body),
    list: (): Promise<LabSummary[]> => this.get('/labs'),
    get: (lab: string): Promise<LabDetail> => this.get(`/labs/${path(lab)}`),
    /** Rebuild the lab from what it was created from. */
    reset: (lab: string): Promise<LabDetail> => this.request('POST', `/labs/${path(lab)}/reset`),
    delete: (lab: string): Promise<void> => this.request('DELETE', `/labs/${path(lab)}`),
    /** The clock: without an action, its state; with one, run (at a speed), pause or step. */
    clock: (lab: string, action?: ClockAction): Promise<Clock> =>
      action ? this.post(`/labs/${path(lab)}/clock`, action) : this.get(`/labs/${path(lab)}/clock`),
  };

  // ——— topology ———

  readonly iommus = {
    create: (lab: string, spec: IommuSpec): Promise<IommuDetail> =>
      this.post(`/labs/${path(lab)}/iommus`, spec),
    list: (lab: string): Promise<IommuDetail[]> => this.get(`/labs/${path(lab)}/iommus`),
    get: (lab: string, iommu: string): Promise<IommuDetail> =>
      this.get(`/labs/${path(lab, 'iommus', iommu)}`),
    /** IOTLB invalidation: all, a domain, a domain + PASID, or a range. */
    invalidate: (lab: string, iommu: string, body: InvalidateIotlbBody = {}): Promise<InvalidateResult> =>
      this.post(`/labs/${path(lab, 'iommus', iommu)}/invalidate`, body),
  };

  readonly devices = {
    create: (lab: string, spec: DeviceSpec): Promise<DeviceView> =>
      this.post(`/labs/${path(lab)}/devices`, spec),
    list: (lab: string): Promise<DeviceView[]> => this.get(`/labs/${path(lab)}/devices`),
    get: (lab: string, device: string): Promise<DeviceView> =>
      this.get(`/labs/${path(lab, 'devices', device)}`),
    /** Function-level reset. */
    reset: (lab: string, device: string): Promise<DeviceView> =>
      this.request('POST', `/labs/${path(lab, 'devices', device)}/reset`),
    enableFeature: (lab: string, device: string, feature: Feature): Promise<DeviceView> =>
      this.request('PUT', `/labs/${path(lab, 'devices', device, 'features', feature)}`),
    disableFeature: (lab: string, device: string, feature: Feature): Promise<DeviceView> =>
      this.request('DELETE', `/labs/${path(lab, 'devices', device, 'features', feature)}`),
    attach: (lab: string, device: string, body: AttachBody): Promise<DeviceView> =>
      this.post(`/labs/${path(lab, 'devices', device)}/attach`, body),
    detach: (lab: string, device: string, body: DetachBody = {}): Promise<DeviceView> =>
      this.post(`/labs/${path(lab, 'devices', device)}/detach`, body),
    /** SVA bind: the PASID and the SVA domain. */
    bind: (lab: string, device: string, process: string): Promise<BindResult> =>
      this.post(`/labs/${path(lab, 'devices', device)}/bind`, { process }),
    unbind: (lab: string, device: string, process: string): Promise<DeviceView> =>
      this.post(`/labs/${path(lab, 'devices', device)}/unbind`, { process }),
    registerHandler: (lab: string, device: string, spec: HandlerSpec): Promise<DeviceView> =>
      this.post(`/labs/${path(lab, 'devices', device)}/handlers`, spec),
    unregisterHandler: (lab: string, device: string, slot: HandlerSlot): Promise<DeviceView> =>
      this.request('DELETE', `/labs/${path(lab, 'devices', device, 'handlers', slot)}`),
    invalidateAtc: (lab: string, device: string, body: InvalidateAtcBody = {}): Promise<InvalidateResult> =>
      this.post(`/labs/${path(lab, 'devices', device)}/atc/invalidate`, body),
  };

  readonly processes = {
    create: (lab: string, spec: ProcessSpec): Promise<Document> =>
      this.post(`/labs/${path(lab)}/processes`, spec),
    list: (lab: string): Promise<Document[]> => this.get(`/labs/${path(lab)}/processes`),
    get: (lab: string, process: string): Promise<Document> =>
      this.get(`/labs/${path(lab, 'processes', process)}`),
    mmap: (lab: string, process: string, vma: VmaSpec): Promise<VmaResult> =>
      this.post(`/labs/${path(lab, 'processes', process)}/mmap`, vma),
    munmap: (lab: string, process: string, range: RangeBody): Promise<Document> =>
      this.post(`/labs/${path(lab, 'processes', process)}/munmap`, range),
    mprotect: (lab: string, process: string, body: ProtectBody): Promise<Document> =>
      this.post(`/labs/${path(lab, 'processes', process)}/mprotect`, body),
    populate: (lab: string, process: string, range: RangeBody): Promise<CountResult> =>
      this.post(`/labs/${path(lab, 'processes', process)}/populate`, range),
    reclaim: (lab: string, process: string, range: RangeBody): Promise<CountResult> =>
      this.post(`/labs/${path(lab, 'processes', process)}/reclaim`, range),
    exit: (lab: string, process: string): Promise<Document> =>
      this.request('POST', `/labs/${path(lab, 'processes', process)}/exit`),
  };

  readonly domains = {
    create: (lab: string, spec: DomainSpec): Promise<Document> =>
      this.post(`/labs/${path(lab)}/domains`, spec),
    list: (lab: string): Promise<Document[]> => this.get(`/labs/${path(lab)}/domains`),
    get: (lab: string, domain: string): Promise<Document> =>
      this.get(`/labs/${path(lab, 'domains', domain)}`),
    delete: (lab: string, domain: string): Promise<void> =>
      this.request('DELETE', `/labs/${path(lab, 'domains', domain)}`),
    map: (lab: string, domain: string, spec: MappingSpec): Promise<MappingResult> =>
      this.post(`/labs/${path(lab, 'domains', domain)}/mappings`, spec),
    unmap: (lab: string, domain: string, body: UnmapBody): Promise<Document> =>
      this.post(`/labs/${path(lab, 'domains', domain)}/unmap`, body),
    translate: (lab: string, domain: string, iova: string): Promise<TranslateResult> =>
      this.get(`/labs/${path(lab, 'domains', domain)}/translate`, { iova }),
    /** The page walk for an address, level by level. */
    walk: (lab: string, domain: string, iova: string): Promise<WalkView> =>
      this.get(`/labs/${path(lab, 'domains', domain)}/walk`, { iova }),
    /** The domain's own fault handler. */
    setHandler: (lab: string, domain: string, spec: HandlerSpec): Promise<Document> =>
      this.post(`/labs/${path(lab, 'domains', domain)}/handler`, spec),
  };

  // ——— activity ———

  /** One DMA transaction: its outcome and the events it caused (state "running"/"waiting" on a 202). */
  dma(lab: string, body: DmaBody): Promise<DmaResult> {
    return this.post(`/labs/${path(lab)}/dma`, body);
  }

  /**
   * A workload; unless `wait: false` the answer comes when it ends: a paused lab runs it to the end first, a
   * running lab's clock is followed up to `waitMs` (then a 202 with the progress so far, and its `id`).
   */
  workload(lab: string, body: WorkloadBody): Promise<WorkloadResult> {
    return this.post(`/labs/${path(lab)}/workloads`, body);
  }

  /** A workload's progress now, by the `id` its start answered with. */
  workloadProgress(lab: string, workload: string): Promise<WorkloadResult> {
    return this.get(`/labs/${path(lab)}/workloads/${path(workload)}`);
  }

  /** The outside fault handler over REST. */
  readonly faults = {
    pending: (lab: string): Promise<PendingFault[]> => this.get(`/labs/${path(lab)}/faults/pending`),
    respond: (lab: string, cookie: number, code: ResponseCode): Promise<{ cookie: number; code: string }> =>
      this.post(`/labs/${path(lab, 'faults', cookie)}/response`, { code }),
  };

  /**
   * The lab's /dev/iommu, one call per ioctl (the uAPI's flag and type numbers), and the binary channels
   * that stand for a fault object's and a vEVENTQ's file descriptors.
   */
  readonly iommufd = {
    bind: (lab: string, device: string): Promise<{ devId: number }> =>
      this.post(`/labs/${path(lab)}/iommufd/devices`, { device }),
    ioasAlloc: (lab: string): Promise<{ ioasId: number }> => this.post(`/labs/${path(lab)}/iommufd/ioas`, {}),
    ioasMap: (lab: string, ioasId: number, body: IoasMapBody): Promise<void> =>
      this.post(`/labs/${path(lab, 'iommufd', 'ioas', ioasId)}/map`, body).then(() => undefined),
    faultQueueAlloc: (lab: string): Promise<{ faultId: number }> =>
      this.post(`/labs/${path(lab)}/iommufd/faults`, {}),
    hwptAlloc: (lab: string, body: HwptAllocBody): Promise<{ hwptId: number; domain: string }> =>
      this.post(`/labs/${path(lab)}/iommufd/hwpts`, body),
    attach: (lab: string, body: AttachPtBody): Promise<{ ptId: number }> =>
      this.post(`/labs/${path(lab)}/iommufd/attach`, body),
    replace: (lab: string, body: AttachPtBody): Promise<{ ptId: number }> =>
      this.post(`/labs/${path(lab)}/iommufd/replace`, body),
    detach: (lab: string, body: DetachPtBody): Promise<void> =>
      this.post(`/labs/${path(lab)}/iommufd/detach`, body).then(() => undefined),
    viommuAlloc: (lab: string, body: ViommuAllocBody): Promise<{ viommuId: number }> =>
      this.post(`/labs/${path(lab)}/iommufd/viommus`, body),
    vdeviceAlloc: (lab: string, body: VdeviceAllocBody): Promise<{ vdeviceId: number }> =>
      this.post(`/labs/${path(lab)}/iommufd/vdevices`, body),
    veventqAlloc: (lab: string, body: VeventqAllocBody): Promise<{ veventqId: number }> =>
      this.post(`/labs/${path(lab)}/iommufd/veventqs`, body),
    objects: (lab: string): Promise<IommufdObjectView[]> => this.get(`/labs/${path(lab)}/iommufd/objects`),
    /** IOMMU_DESTROY; a device object is unbound. */
    destroy: (lab: string, id: number): Promise<void> =>
      this.request('DELETE', `/labs/${path(lab, 'iommufd', 'objects', id)}`),
    /** The fault object's file: read() struct iommu_hwpt_pgfault records, write() responses. */
    faultChannel: (lab: string, faultId: number): IommufdChannel =>
      new IommufdChannel(
        this.socketTarget(`/labs/${path(lab, 'iommufd', 'faults', faultId)}/channel`),
        `fault object ${faultId}`,
      ),
    /** The vEVENTQ's file: read() headers and event records. */
    veventqChannel: (lab: string, veventqId: number): IommufdChannel =>
      new IommufdChannel(
        this.socketTarget(`/labs/${path(lab, 'iommufd', 'veventqs', veventqId)}/channel`),
        `vEVENTQ ${veventqId}`,
      ),
  };

  /** A lab's history, paged (`next` is the `after` of the next page) and filtered. */
  readonly history = {
    events: (lab: string, query: HistoryQuery = {}): Promise<EventPage> =>
      this.get(`/labs/${path(lab)}/events`, query),
    /** The fault path only, unless `kinds` says otherwise. */
    faults: (lab: string, query: HistoryQuery = {}): Promise<EventPage> =>
      this.get(`/labs/${path(lab)}/faults`, query),
  };

  /** The lab's ended fault flows, oldest first, paged (`next` is the `after` of the next page) and filtered; `slowest: N` for the N slowest. */
  flows(lab: string, query: FlowQuery = {}): Promise<FlowPage> {
    return this.get(`/labs/${path(lab)}/flows`, query);
  }

  /** One fault flow: its hops, its events in order, its causes and effects (404 ENOENT no-such-flow / flow-forgotten). */
  flow(lab: string, flow: number): Promise<FlowDetail> {
    return this.get(`/labs/${path(lab, 'flows', flow)}`);
  }

  /** Counters, latency histograms, queue occupancy. */
  metrics(lab: string): Promise<Document> {
    return this.get(`/labs/${path(lab)}/metrics`);
  }

  /** The lab's metrics binned in simulated time; `binNs` giving more than 10 000 bins is a 422 (too-many-bins). */
  labSeries(lab: string, binNs?: number): Promise<SeriesAnswerView> {
    return this.get(`/labs/${path(lab)}/series`, { binNs });
  }

  /** A finished run's metrics binned in simulated time (409 while it runs, 404 for a run stored without series). */
  runSeries(run: string, binNs?: number): Promise<SeriesAnswerView> {
    return this.get(`/runs/${path(run)}/series`, { binNs });
  }

  // ——— websockets ———

  /** The lab's websocket: every server message (hello, events, dropped, reset, closing, …) until it closes. */
  stream(lab: string, filter?: StreamFilter): LabStream {
    return new LabStream(this.socketTarget(`/labs/${path(lab)}/stream`), filter);
  }

  /** The lab's events one by one (those matching the filter) until the stream closes. */
  events(lab: string, filter: StreamFilter = {}, options: EventStreamOptions = {}): EventStream {
    return new EventStream(this.stream(lab, filter), filter, options);
  }

  /**
   * Acts as the outside fault handler of a lab: each `fault.awaiting-client` group (matching `filter`)
   * gets `policy(event)`'s answer. Close it to stop.
   */
  faultHandler(lab: string, policy: FaultPolicy, filter: Omit<StreamFilter, 'kinds'> = {}): FaultHandler {
    const subscription: StreamFilter = { ...filter, kinds: ['fault.awaiting-client'] };
    return new FaultHandler(this.stream(lab, subscription), policy, subscription);
  }

  /** A run's websocket: `{type:'run'}` then `{type:'progress', …}` until the run ends and it closes. */
  runProgress(run: string): JsonSocket<RunMessage> {
    return new JsonSocket<RunMessage>(this.socketTarget(`/runs/${path(run)}/stream`));
  }

  // ——— experiments, runs, comparison ———

  readonly experiments = {
    create: (body: ExperimentBody): Promise<ExperimentView> => this.post('/experiments', body),
    /** Newest first; optionally those with a tag. */
    list: (options: { tag?: string } = {}): Promise<ExperimentView[]> =>
      this.get('/experiments', { tag: options.tag }),
    get: (id: string): Promise<ExperimentView> => this.get(`/experiments/${path(id)}`),
    update: (id: string, patch: ExperimentPatch): Promise<ExperimentView> =>
      this.request('PATCH', `/experiments/${path(id)}`, { body: patch }),
    /**
     * One with runs only with `cascade` (then its runs and fault logs go too; without it, 409 EHASRUNS);
     * refused with EBUSY while a run is in progress.
     */
    delete: (id: string, options: { cascade?: boolean } = {}): Promise<void> =>
      this.request(
        'DELETE',
        `/experiments/${path(id)}`,
        options.cascade ? { query: { cascade: 'true' } } : {},
      ),
    /** The experiment as a file to import elsewhere. */
    export: (id: string): Promise<ExperimentFile> => this.get(`/experiments/${path(id)}/export`),
    /** Where the browser downloads the experiment's file. */
    exportUrl: (id: string): string => this.url(`/experiments/${path(id)}/export`),
    /** Import an exported file (format and version are checked: EFORMAT, EVERSION). */
    import: (file: ExperimentFile | Record<string, unknown>): Promise<ExperimentView> =>
      this.post('/experiments/import', file),
    /** Save a live lab's topology as an experiment (with a workload to run). */
    saveLab: (lab: string, body: SaveLabBody): Promise<SavedLabExperiment> =>
      this.post(`/labs/${path(lab)}/experiment`, body),
  };

  readonly runs = {
    /** Starts a run in the background (202, status queued). */
    start: (experiment: string, body: StartRunBody = {}): Promise<RunView> =>
      this.post(`/experiments/${path(experiment)}/runs`, body),
    get: (run: string): Promise<RunView> => this.get(`/runs/${path(run)}`),
    /** An experiment's runs, newest first. */
    list: (experiment: string): Promise<RunView[]> => this.get(`/experiments/${path(experiment)}/runs`),
    /** A page of the fault log (`next` is the `after` of the next page). */
    /** Where the browser downloads the run's whole fault log. */
    faultsUrl: (run: string, format: DownloadFormat): string =>
      this.url(`/runs/${path(run)}/faults`, { format }),
    faults: (run: string, query: FaultQuery = {}): Promise<FaultPage> =>
      this.get(`/runs/${path(run)}/faults`, { ...query, format: 'json' }),
    /** Every matching fault record as CSV or JSONL, as a byte stream. */
    downloadStream: async (
      run: string,
      format: DownloadFormat,
      query: Omit<FaultQuery, 'after' | 'limit'> = {},
    ): Promise<ReadableStream<Uint8Array>> => {
      const response = await this.raw('GET', `/runs/${path(run)}/faults`, { query: { ...query, format } });
      if (!response.body) throw new Error('the download has no body');
      return response.body;
    },
    /** Every matching fault record as CSV or JSONL text. */
    download: async (
      run: string,
      format: DownloadFormat,
      query: Omit<FaultQuery, 'after' | 'limit'> = {},
    ): Promise<string> =>
      (await this.raw('GET', `/runs/${path(run)}/faults`, { query: { ...query, format } })).text(),
    /** The run's events as Chrome trace-event JSON (open it in ui.perfetto.dev). */
    trace: (run: string, options: { maxEvents?: number } = {}): Promise<Trace> =>
      this.get(`/runs/${path(run)}/trace`, { maxEvents: options.maxEvents }),
    /** Follows the run's websocket until it ends, then returns the run as stored (metrics and all). */
    waitFor: (run: string | RunView, options: WaitOptions = {}): Promise<RunView> =>
      this.waitForRun(typeof run === 'string' ? run : run.id, options),
  };

  private async waitForRun(id: string, options: WaitOptions): Promise<RunView> {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    const progress = this.runProgress(id);
    const timer =
      deadline === Infinity
        ? undefined
        : setTimeout(() => progress.close(), Math.max(0, deadline - Date.now()));
    try {
      for await (const message of progress) options.onProgress?.(message);
    } finally {
      clearTimeout(timer);
      progress.close();
    }
    // The socket closes when the run ends; if it went away for another reason, poll.
    while (true) {
      const run = await this.runs.get(id);
      if (FINISHED_RUN_STATUSES.includes(run.status)) return run;
      if (Date.now() >= deadline)
        throw new Error(`run ${id} is still ${run.status} after ${options.timeoutMs} ms`);
      await sleep(options.pollMs ?? 250);
    }
  }

  /** Two or more runs side by side: metrics with deltas and ratios, histograms on shared bins, config diff. */
  compare(runIds: readonly string[]): Promise<CompareResult> {
    return this.get('/compare', { runs: runIds.join(',') });
  }

  readonly sweeps = {
    /** One run per combination of the parameters' values (202), labelled with its values. */
    start: (experiment: string, body: StartSweepBody): Promise<SweepView> =>
      this.post(`/experiments/${path(experiment)}/sweeps`, body),
    get: (id: string): Promise<SweepView> => this.get(`/sweeps/${path(id)}`),
    /** Polls the sweep until it is done or failed. */
    waitFor: async (sweep: string | SweepView, options: SweepWaitOptions = {}): Promise<SweepView> => {
      const id = typeof sweep === 'string' ? sweep : sweep.id;
      const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
      while (true) {
        const view = await this.sweeps.get(id);
        options.onUpdate?.(view);
        if (view.status !== 'running') return view;
        if (Date.now() >= deadline)
          throw new Error(`sweep ${id} is still running after ${options.timeoutMs} ms`);
        await sleep(options.pollMs ?? 500);
      }
    },
  };

  readonly studies = {
    /** The built-in studies, each as a whole study to run by name or change and post. */
    list: (): Promise<StudySpec[]> => this.get('/studies'),
    /** Runs a study (202): a built-in by name or a whole study, with `set` replacing swept values. */
    run: (body: StudyRunBody): Promise<StudyRunView> => this.post('/studies/runs', body),
    get: (id: string): Promise<StudyRunView> => this.get(`/studies/runs/${path(id)}`),
    /** Study runs, newest first: at most `limit` (50 unless said, up to 200), those of study `name` if given. */
    runs: (query: StudyRunListQuery = {}): Promise<StudyRunView[]> => this.get('/studies/runs', query),
    /** Saved studies: run one with `run({study: {saved: id}})`; each `update` is its next revision. */
    saved: {
      /** Newest first. */
      list: (): Promise<SavedStudyView[]> => this.get('/studies/saved'),
      get: (id: string): Promise<SavedStudyView> => this.get(`/studies/saved/${path(id)}`),
      /** Saves a whole study (a built-in from `list()` makes an editable copy), at revision 1. */
      save: (spec: StudySpec): Promise<SavedStudyView> => this.post('/studies/saved', spec),
      update: (id: string, spec: StudySpec): Promise<SavedStudyView> =>
        this.request('PUT', `/studies/saved/${path(id)}`, { body: spec }),
      /** Its study runs stay. */
      delete: (id: string): Promise<void> => this.request('DELETE', `/studies/saved/${path(id)}`),
      export: (id: string): Promise<StudyFile> => this.get(`/studies/saved/${path(id)}/export`),
      /** Where the browser downloads the saved study's file. */
      exportUrl: (id: string): string => this.url(`/studies/saved/${path(id)}/export`),
      /** Imports an exported file as a new saved study (format and version are checked: EFORMAT, EVERSION). */
      import: (file: StudyFile | Record<string, unknown>): Promise<SavedStudyView> =>
        this.post('/studies/saved/import', file),
    },
    /** Polls the study run until it is done or failed. */
    waitFor: async (id: string, options: SweepWaitOptions<StudyRunView> = {}): Promise<StudyRunView> => {
      const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
      while (true) {
        const view = await this.studies.get(id);
        options.onUpdate?.(view);
        if (view.status !== 'running') return view;
        if (Date.now() >= deadline)
          throw new Error(`study run ${id} is still running after ${options.timeoutMs} ms`);
        await sleep(options.pollMs ?? 500);
      }
    },
    /** The report as one self-contained HTML page. */
    report: async (id: string): Promise<string> =>
      (await this.raw('GET', `/studies/runs/${path(id)}/report`)).text(),
    csv: async (id: string): Promise<string> =>
      (await this.raw('GET', `/studies/runs/${path(id)}/data.csv`)).text(),
    /** A chart as PNG bytes. */
    png: async (id: string, index: number): Promise<Uint8Array> =>
      new Uint8Array(
        await (await this.raw('GET', `/studies/runs/${path(id)}/charts/${index}.png`)).arrayBuffer(),
      ),
    chart: async (id: string, index: number): Promise<string> =>
      (await this.raw('GET', `/studies/runs/${path(id)}/charts/${index}.svg`)).text(),
  };
}

/** A client of one iommu-lab server. */
export function createClient(options: ClientOptions): IommuLabClient {
  return new IommuLabClient(options);
}
