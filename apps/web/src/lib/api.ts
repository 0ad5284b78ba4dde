/**
 * The one typed client the dashboard talks to the API through: every URL is built here, every body and
 * answer is a wire type. Paths are relative (`/api/v1/…`), so the same build works behind `vite dev`'s
 * proxy and when the API serves it at `/`.
 */
import type {
  ApiError,
  Bound,
  Clock,
  ClockAction,
  Comparison,
  CreateLab,
  DeviceSpec,
  DeviceView,
  DmaOutcome,
  DmaRequestBody,
  DomainSpec,
  Experiment,
  ExperimentFile,
  Feature,
  HandlerSpec,
  IommuDetail,
  IommuSpec,
  LabDetailView,
  LabSummaryView,
  MappingSpec,
  PendingFault,
  Preset,
  ResponseCode,
  RunView,
  SaveLab,
  StartRun,
  Translation,
  VmaSpec,
  WalkView,
  WorkloadOutcome,
  WorkloadSpec,
} from './types';

export const API_BASE = '/api/v1';

/** A refusal from the API (4xx/5xx), carrying its stable code, sentence and narrower reason. */
export class ApiRequestError extends Error {
  readonly status: number;
  readonly code: string;
  readonly reason: string | undefined;
  readonly path: string | undefined;

  constructor(status: number, body: Partial<ApiError> | null, fallback: string) {
    super(body?.message ?? fallback);
    this.name = 'ApiRequestError';
    this.status = status;
    this.code = body?.code ?? `HTTP${status}`;
    this.reason = body?.reason;
    this.path = body?.path;
  }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${API_BASE}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    throw new ApiRequestError(
      response.status,
      parsed as Partial<ApiError> | null,
      `${method} ${path}: ${text}`,
    );
  }
  return parsed as T;
}

const enc = encodeURIComponent;
const lab = (id: string) => `/labs/${enc(id)}`;

/** The websocket URL of a path under /api/v1, on the page's own host. */
export function socketUrl(path: string): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}${API_BASE}${path}`;
}

export const api = {
  presets: () => request<Preset[]>('GET', '/presets'),
  labs: () => request<LabSummaryView[]>('GET', '/labs'),
  lab: (id: string) => request<LabDetailView>('GET', lab(id)),
  createLab: (body: CreateLab) => request<LabDetailView>('POST', '/labs', body),
  deleteLab: (id: string) => request<unknown>('DELETE', lab(id)),
  resetLab: (id: string) => request<LabDetailView>('POST', `${lab(id)}/reset`),

  clock: (id: string) => request<Clock>('GET', `${lab(id)}/clock`),
  setClock: (id: string, action: ClockAction) => request<Clock>('POST', `${lab(id)}/clock`, action),

  addIommu: (id: string, spec: IommuSpec) => request<unknown>('POST', `${lab(id)}/iommus`, spec),
  iommu: (id: string, iommu: string) => request<IommuDetail>('GET', `${lab(id)}/iommus/${enc(iommu)}`),
  addDevice: (id: string, spec: DeviceSpec) => request<DeviceView>('POST', `${lab(id)}/devices`, spec),
  device: (id: string, device: string) => request<DeviceView>('GET', `${lab(id)}/devices/${enc(device)}`),
  enableFeature: (id: string, device: string, feature: Feature) =>
    request<unknown>('PUT', `${lab(id)}/devices/${enc(device)}/features/${feature}`),
  disableFeature: (id: string, device: string, feature: Feature) =>
    request<unknown>('DELETE', `${lab(id)}/devices/${enc(device)}/features/${feature}`),
  attach: (id: string, device: string, body: { domain: string; pasid?: number }) =>
    request<unknown>('POST', `${lab(id)}/devices/${enc(device)}/attach`, body),
  bind: (id: string, device: string, process: string) =>
    request<Bound>('POST', `${lab(id)}/devices/${enc(device)}/bind`, { process }),
  addHandler: (id: string, device: string, spec: HandlerSpec) =>
    request<unknown>('POST', `${lab(id)}/devices/${enc(device)}/handlers`, spec),
  removeHandler: (id: string, device: string, slot: 'BIND' | 'MAP' | 'all') =>
    request<unknown>('DELETE', `${lab(id)}/devices/${enc(device)}/handlers/${slot}`),

  addProcess: (id: string, process: string) =>
    request<unknown>('POST', `${lab(id)}/processes`, { id: process }),
  mmap: (id: string, process: string, vma: VmaSpec) =>
    request<unknown>('POST', `${lab(id)}/processes/${enc(process)}/mmap`, vma),

  addDomain: (id: string, spec: DomainSpec) => request<unknown>('POST', `${lab(id)}/domains`, spec),
  map: (id: string, domain: string, spec: MappingSpec) =>
    request<unknown>('POST', `${lab(id)}/domains/${enc(domain)}/mappings`, spec),
  walk: (id: string, domain: string, iova: string) =>
    request<WalkView>('GET', `${lab(id)}/domains/${enc(domain)}/walk?iova=${enc(iova)}`),
  translate: (id: string, domain: string, iova: string) =>
    request<Translation>('GET', `${lab(id)}/domains/${enc(domain)}/translate?iova=${enc(iova)}`),

  dma: (id: string, body: DmaRequestBody) => request<DmaOutcome>('POST', `${lab(id)}/dma`, body),
  /** `waitMs` bounds the wait on a running lab; 0 answers at once (with the workload's id to follow). */
  workload: (id: string, workload: WorkloadSpec, wait: boolean, waitMs?: number) =>
    request<WorkloadOutcome>('POST', `${lab(id)}/workloads`, {
      workload,
      wait,
      ...(waitMs === undefined ? {} : { waitMs }),
    }),
  workloadProgress: (id: string, workload: string) =>
    request<WorkloadOutcome>('GET', `${lab(id)}/workloads/${enc(workload)}`),
  pendingFaults: (id: string) => request<PendingFault[]>('GET', `${lab(id)}/faults/pending`),
  respond: (id: string, cookie: number, code: ResponseCode) =>
    request<unknown>('POST', `${lab(id)}/faults/${cookie}/response`, { code }),
  metrics: (id: string) => request<Record<string, unknown>>('GET', `${lab(id)}/metrics`),

  saveLab: (id: string, body: SaveLab) => request<Experiment>('POST', `${lab(id)}/experiment`, body),
  experiments: () => request<Experiment[]>('GET', '/experiments'),
  experiment: (experiment: string) => request<Experiment>('GET', `/experiments/${enc(experiment)}`),
  deleteExperiment: (experiment: string) => request<unknown>('DELETE', `/experiments/${enc(experiment)}`),
  importExperiment: (file: ExperimentFile) => request<Experiment>('POST', '/experiments/import', file),
  exportUrl: (experiment: string) => `${API_BASE}/experiments/${enc(experiment)}/export`,
  startRun: (experiment: string, body: StartRun) =>
    request<RunView>('POST', `/experiments/${enc(experiment)}/runs`, body),
  runs: (experiment: string) => request<RunView[]>('GET', `/experiments/${enc(experiment)}/runs`),
  run: (run: string) => request<RunView>('GET', `/runs/${enc(run)}`),
  faultLogUrl: (run: string, format: 'csv' | 'jsonl') =>
    `${API_BASE}/runs/${enc(run)}/faults?format=${format}`,
  compare: (runs: string[]) => request<Comparison>('GET', `/compare?runs=${runs.map(enc).join(',')}`),

  labStreamUrl: (id: string) => socketUrl(`${lab(id)}/stream`),
  runStreamUrl: (run: string) => socketUrl(`/runs/${enc(run)}/stream`),
};

/** The message of any error, with the API's code in front when it has one. */
export function describeError(error: unknown): { code: string; message: string; reason?: string } {
  if (error instanceof ApiRequestError) {
    return { code: error.code, message: error.message, ...(error.reason ? { reason: error.reason } : {}) };
  }
  return { code: 'ERROR', message: error instanceof Error ? error.message : String(error) };
}
