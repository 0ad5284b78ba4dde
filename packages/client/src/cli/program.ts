/**
 * The `iommu-lab` CLI on the client (commander). Exit codes: 0 ok, 1 the API refused (or a run failed),
 * 2 usage error, 3 the server cannot be reached. Errors go to stderr as `error: <code>: <message>`.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { once } from 'node:events';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { type IommuLabClient, createClient } from '../client';
import { ApiError, ConnectionError } from '../errors';
import { type AwaitingFault, type FaultAnswer, subscriptionRefused } from '../stream';
import type {
  ExperimentView,
  ResponseCode,
  RunView,
  SavedStudyView,
  StreamFilter,
  SweepParameter,
  StudyRunView,
  StudySpec,
  SweepView,
  WorkersView,
  WireEvent,
} from '../types';
import {
  barChart,
  compareTable,
  configDiffTable,
  hopsTable,
  eventLine,
  flowReport,
  flowsTable,
  metricsTable,
  number,
  pointer,
  summarize,
  table,
  MAIN_METRICS,
} from './format';
import { RunBars } from './progress';
import { studyOutcomes } from '../study-outcomes';

export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3 } as const;
export const DEFAULT_URL = 'http://127.0.0.1:4100';

/** A mistake in the command line or its files: exit 2. */
export class UsageError extends Error {
  readonly code = 'EUSAGE';
}

/** Something the API accepted but that ended badly (a failed run or sweep): exit 1. */
export class CommandFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Progress bars are drawn only on a terminal. */
  interactive: boolean;
}

const processIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  get interactive() {
    return Boolean(process.stderr.isTTY);
  },
};

interface GlobalOptions {
  url: string;
  token?: string;
  json?: boolean;
}

interface Context {
  client: IommuLabClient;
  json: boolean;
  io: Io;
  bars: boolean;
}

// ——— argument parsers ———

const integer =
  (what: string, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  (text: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || value < min || value > max)
      throw new InvalidArgumentError(`${what} must be an integer from ${min} to ${max}.`);
    return value;
  };

const collect = <T>(parse: (text: string) => T) => {
  return (text: string, previous: T[] | undefined): T[] => [...(previous ?? []), parse(text)];
};

const oneOf =
  (what: string, choices: readonly string[]) =>
  (text: string): string => {
    if (!choices.includes(text))
      throw new InvalidArgumentError(`${what} must be one of ${choices.join(', ')}.`);
    return text;
  };

const pasid = (text: string): number | null =>
  text === 'none' ? null : integer('a PASID (or "none")', 0, 2 ** 20 - 1)(text);

/** `--param /path=v1,v2,…`: each value JSON if it parses (numbers, booleans, null, quoted), else a string. */
export function parseParam(text: string): SweepParameter {
  const at = text.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`"${text}" is not path=value,value,…`);
  const path = text.slice(0, at).trim();
  if (!path.startsWith('/'))
    throw new InvalidArgumentError(
      `"${path}" is not a JSON pointer into the config (e.g. /system/devices/0/pri/capacity).`,
    );
  const values = text
    .slice(at + 1)
    .split(',')
    .map((value) => value.trim())
    .filter((value) => value !== '')
    .map((value) => {
      try {
        return JSON.parse(value) as unknown;
      } catch {
        return value;
      }
    });
  if (values.length === 0) throw new InvalidArgumentError(`${path} has no values.`);
  return { path, values };
}

// ——— commands ———

/** A JSON object from a file; one that cannot be read, is not JSON or is not an object is a usage error. */
async function readJsonObject(file: string, what: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not JSON: ${(error as Error).message}`);
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document))
    throw new UsageError(`${file} is not ${what}: a JSON object was expected.`);
  return document as Record<string, unknown>;
}

/** The experiment a file describes: imported (an exported file) or created (a body, or a bare config). */
async function experimentFromFile(ctx: Context, file: string): Promise<ExperimentView> {
  const body = await readJsonObject(file, 'an experiment');
  if ('format' in body) return ctx.client.experiments.import(body);
  if (!('config' in body) && 'system' in body && 'workload' in body)
    return ctx.client.experiments.create({
      name: basename(file).replace(/\.json$/i, ''),
      config: body as never,
    });
  return ctx.client.experiments.create(body as never);
}

/** Waits for runs, with a progress bar each; returns them as stored. */
async function follow(ctx: Context, runs: RunView[]): Promise<RunView[]> {
  const bars = new RunBars(ctx.bars);
  try {
    return await Promise.all(
      runs.map((run) =>
        ctx.client.runs.waitFor(run, {
          onProgress: (message) => {
            const state = message.type === 'run' ? message.run : message;
            bars.update(run.id, { ...state, label: run.label });
          },
        }),
      ),
    );
  } finally {
    bars.stop();
  }
}

function failures(runs: RunView[]): CommandFailure | null {
  const failed = runs.filter((run) => run.status !== 'done');
  if (failed.length === 0) return null;
  return new CommandFailure(
    'ERUN',
    failed.map((run) => `run ${run.id} ${run.status}${run.error ? `: ${run.error}` : ''}`).join('; '),
  );
}

async function runCommand(
  ctx: Context,
  file: string,
  options: { seed?: number; runs: number; label?: string },
): Promise<void> {
  const experiment = await experimentFromFile(ctx, file);
  const seed = pointer(experiment.config, '/seed');
  const configSeed = typeof seed === 'number' ? seed : 0;
  const seeds =
    options.runs === 1
      ? [options.seed]
      : Array.from({ length: options.runs }, (_, i) => (options.seed ?? configSeed) + i);
  if (!ctx.json) ctx.io.err(`experiment ${experiment.id} "${experiment.name}": ${seeds.length} run(s)`);
  const started: RunView[] = [];
  for (const seed of seeds)
    started.push(
      await ctx.client.runs.start(experiment.id, {
        ...(seed === undefined ? {} : { seed }),
        ...(options.label ? { label: seeds.length > 1 ? `${options.label} ${seed}` : options.label } : {}),
      }),
    );
  const runs = await follow(ctx, started);
  if (ctx.json)
    ctx.io.out(
      JSON.stringify(
        {
          experiment: { id: experiment.id, name: experiment.name },
          runs: runs.map((run) => ({
            id: run.id,
            label: run.label,
            seed: run.seed,
            status: run.status,
            error: run.error,
            transactions: run.transactions,
            faultRecords: run.faultRecords,
            simulatedNs: run.simulatedNs,
            summary: summarize(run),
            metrics: run.metrics,
          })),
        },
        null,
        2,
      ),
    );
  else {
    // A run that did not finish says why beside its status (a livelock's figures, a full disk, …).
    for (const run of runs)
      ctx.io.out(`run ${run.id}  ${run.label}  ${run.status}${run.error ? `: ${run.error}` : ''}`);
    ctx.io.out('');
    ctx.io.out(metricsTable(runs));
  }
  const failure = failures(runs);
  if (failure) throw failure;
}

async function compareCommand(ctx: Context, ids: string[], options: { all?: boolean }): Promise<void> {
  if (ids.length < 2) throw new UsageError('compare needs two or more run ids.');
  const result = await ctx.client.compare(ids);
  if (ctx.json) {
    ctx.io.out(JSON.stringify(result, null, 2));
    return;
  }
  ctx.io.out(compareTable(result, options.all));
  ctx.io.out('');
  ctx.io.out('where the fault time went (simulated µs per flow, share of all fault time):');
  ctx.io.out(hopsTable(result));
  ctx.io.out('');
  ctx.io.out(configDiffTable(result));
}

interface FilterOptions {
  device?: string[];
  pasid?: (number | null)[];
  kind?: string[];
  category?: string[];
  stage?: string[];
}

function filterOf(options: FilterOptions): StreamFilter {
  const filter: StreamFilter = {};
  if (options.device?.length) filter.devices = options.device;
  if (options.pasid?.length) filter.pasids = options.pasid;
  if (options.kind?.length) filter.kinds = options.kind as StreamFilter['kinds'];
  if (options.category?.length) filter.categories = options.category as StreamFilter['categories'];
  if (options.stage?.length) filter.stages = options.stage.map(Number) as StreamFilter['stages'];
  return filter;
}

/** Closes `stop` on the first SIGINT / SIGTERM; returns the unsubscribe. */
function onInterrupt(stop: () => void): () => void {
  const handler = () => stop();
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

const describeFilter = (filter: StreamFilter) =>
  Object.keys(filter).length === 0 ? 'every event' : JSON.stringify(filter);

async function tailCommand(ctx: Context, lab: string, options: FilterOptions): Promise<void> {
  const filter = filterOf(options);
  const stream = ctx.client.stream(lab, Object.keys(filter).length ? filter : undefined);
  const stop = onInterrupt(() => stream.close());
  let refusal: ApiError | null = null;
  try {
    await stream.ready;
    ctx.io.err(`tailing ${lab}: ${describeFilter(filter)} (Ctrl-C to stop)`);
    for await (const message of stream) {
      if (message.type === 'events') {
        if (message.dropped > 0) ctx.io.err(`… ${message.dropped} events dropped (too slow)`);
        for (const event of message.events)
          ctx.io.out(ctx.json ? JSON.stringify(event) : eventLine(event as WireEvent));
      } else if (message.type === 'dropped') ctx.io.err(`… ${message.count} events dropped (too slow)`);
      else if (message.type === 'reset') ctx.io.err(`lab ${lab} was reset`);
      else if (message.type === 'closing') ctx.io.err(`the server closed the stream: ${message.reason}`);
      else if (message.type === 'error') {
        refusal = subscriptionRefused(message);
        stream.close();
      }
    }
  } finally {
    stop();
    stream.close();
  }
  if (refusal) throw refusal;
}

function answerLine(answer: FaultAnswer): string {
  const event = answer.event as AwaitingFault & {
    device?: string;
    pasid?: number | null;
    category?: string | null;
    stage?: number;
    faults?: { address: string; perm: string }[];
  };
  const faults = (event.faults ?? []).map((fault) => `${fault.address}(${fault.perm})`).join(',');
  const where = `${event.device ?? '?'} pasid=${event.pasid ?? '-'} ${event.category ?? '-'} stage=${event.stage ?? '-'}`;
  const outcome = answer.ok ? `→ ${answer.code}` : `→ ${answer.code ?? 'no answer'}: ${answer.error}`;
  return `cookie ${answer.cookie}  ${where}  ${faults}  ${outcome}`;
}

async function handleCommand(
  ctx: Context,
  lab: string,
  options: FilterOptions & { respond: ResponseCode },
): Promise<void> {
  const filter = filterOf(options);
  const handler = ctx.client.faultHandler(lab, () => options.respond, filter);
  const stop = onInterrupt(() => handler.close());
  try {
    await handler.ready;
    ctx.io.err(
      `handling ${lab}'s pending faults (${describeFilter(filter)}) with ${options.respond} (Ctrl-C to stop)`,
    );
    for await (const answer of handler) {
      if (ctx.json) {
        const { event, ...fields } = answer;
        ctx.io.out(JSON.stringify({ ...fields, event }));
      } else (answer.ok ? ctx.io.out : ctx.io.err)(answerLine(answer));
    }
    await handler.done;
  } finally {
    stop();
    handler.close();
  }
}

async function faultsCommand(
  ctx: Context,
  run: string,
  options: {
    format: 'csv' | 'jsonl';
    out?: string;
    device?: string;
    category?: string;
    kind?: string;
    code?: string;
  },
): Promise<void> {
  const query = {
    ...(options.device ? { device: options.device } : {}),
    ...(options.category ? { category: options.category as 'BIND' | 'MAP' } : {}),
    ...(options.kind ? { kind: options.kind as 'page-request' } : {}),
    ...(options.code ? { code: options.code } : {}),
  };
  const body = await ctx.client.runs.downloadStream(run, options.format, query);
  const source = Readable.fromWeb(body as WebReadableStream<Uint8Array>);
  if (!options.out) {
    for await (const chunk of source) if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
    return;
  }
  let lines = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      for (const byte of chunk) if (byte === 10) lines++;
      done(null, chunk);
    },
  });
  await pipeline(source, counter, createWriteStream(options.out));
  const records = Math.max(0, lines - (options.format === 'csv' ? 1 : 0));
  if (ctx.json) ctx.io.out(JSON.stringify({ run, format: options.format, out: options.out, records }));
  else ctx.io.err(`wrote ${records} fault records to ${options.out}`);
}

async function traceCommand(
  ctx: Context,
  run: string,
  options: { out?: string; maxEvents?: number },
): Promise<void> {
  const trace = await ctx.client.runs.trace(
    run,
    options.maxEvents === undefined ? {} : { maxEvents: options.maxEvents },
  );
  const text = JSON.stringify(trace);
  if (!options.out) {
    ctx.io.out(text);
    return;
  }
  await writeFile(options.out, text);
  const events = trace.traceEvents.length;
  if (ctx.json) ctx.io.out(JSON.stringify({ run, out: options.out, events }));
  else {
    const truncated = trace.metadata?.truncated ? ' (truncated: raise --max-events for more)' : '';
    ctx.io.err(
      `wrote ${events} trace events to ${options.out}${truncated}; open it in https://ui.perfetto.dev`,
    );
  }
}

/** One row per run: the swept values, then the main metrics. */
export function sweepTable(sweep: SweepView): string {
  const parameters = sweep.parameters.map((parameter) => parameter.path);
  const onQueue = sweep.engine === 'bullmq';
  const header = [
    'run',
    ...parameters.map((path) => path.split('/').filter(Boolean).slice(-2).join('/')),
    'status',
    ...(onQueue ? ['worker'] : []),
    ...MAIN_METRICS.map((metric) => metric.label.replace('transactions ', '').replace(' (ns)', '')),
    'fault records',
  ];
  const rows = sweep.runs.map((run) => {
    const summary = summarize(run);
    return [
      run.label,
      ...parameters.map((path) => {
        const value = pointer(run.config, path);
        return typeof value === 'string' ? value : JSON.stringify(value ?? null);
      }),
      run.status,
      ...(onQueue
        ? [run.attempts.length > 1 ? `${run.worker} (attempt ${run.attempts.length})` : (run.worker ?? '-')]
        : []),
      ...MAIN_METRICS.map((metric) => number(summary[metric.key])),
      number(summary.faultRecords),
    ];
  });
  return table(header, rows);
}

/** The queue workers: machine, cores, what each runs now; `lost` ones marked. */
export function workersTable(view: WorkersView, now = Date.now()): string {
  if (!view.queue) return 'No job queue: the server has no REDIS_URL, so there are no queue workers.';
  const rows = view.workers.map((worker) => [
    worker.id,
    worker.state,
    worker.inServer ? 'server' : worker.host,
    number(worker.cores),
    number(worker.concurrency),
    worker.version.emulator,
    `${number(Math.max(0, Math.round((now - Date.parse(worker.lastSeenAt)) / 1000)))} s ago`,
    worker.runs.map((run) => `${run.label || run.run} ${Math.round(run.progress * 100)}%`).join(', ') || '-',
  ]);
  const queue = `queue: ${view.queue.state}${view.queue.error ? ` (${view.queue.error})` : ''}`;
  if (rows.length === 0)
    return `${queue}\nNo queue workers: start one with npm run worker -w @iommu-lab/api.`;
  return `${queue}\n${table(['worker', 'state', 'machine', 'cores', 'runs at once', 'emulator', 'last heartbeat', 'running'], rows)}`;
}

/** A study's runs at full size: every experiment once per combination of the swept values. */
const fullSizeRuns = (study: StudySpec) =>
  study.experiments.length *
  study.parameters.reduce((product, parameter) => product * parameter.values.length, 1);

/** The built-in studies: name, title, runs at full size. */
async function studyListCommand(ctx: Context): Promise<void> {
  const studies = await ctx.client.studies.list();
  if (ctx.json) return ctx.io.out(JSON.stringify(studies, null, 2));
  ctx.io.out(
    table(
      ['study', 'runs', 'title'],
      studies.map((study) => [study.name, number(fullSizeRuns(study)), study.title]),
    ),
  );
}

/** The saved studies, newest first: id, name, revision, runs at full size, title. */
async function studySavedCommand(ctx: Context): Promise<void> {
  const saved = await ctx.client.studies.saved.list();
  if (ctx.json) return ctx.io.out(JSON.stringify(saved, null, 2));
  if (saved.length === 0)
    return ctx.io.out('No saved studies: save one with iommu-lab study save <name | file.json>.');
  ctx.io.out(
    table(
      ['id', 'study', 'revision', 'runs', 'title'],
      saved.map((study) => [
        study.id,
        study.name,
        number(study.revision),
        number(fullSizeRuns(study.spec)),
        study.title,
      ]),
    ),
  );
}

/** What a study run ran, as the study column says it. */
const ranStudy = (run: StudyRunView) =>
  run.study === null
    ? run.name
    : 'builtin' in run.study
      ? `${run.name} (built-in)`
      : `${run.name} (saved, revision ${run.study.revision})`;

/** The study runs, newest first: id, study, status (with progress while it runs), runs answered, engine, created. */
async function studyRunsCommand(ctx: Context, options: { name?: string; limit?: number }): Promise<void> {
  const runs = await ctx.client.studies.runs(options);
  if (ctx.json) return ctx.io.out(JSON.stringify(runs, null, 2));
  if (runs.length === 0) return ctx.io.out(`No study runs${options.name ? ` of ${options.name}` : ''} yet.`);
  ctx.io.out(
    table(
      ['id', 'study', 'status', 'answered', 'engine', 'created'],
      runs.map((run) => [
        run.id,
        ranStudy(run),
        run.status === 'running' ? `running ${Math.floor(run.progress * 100)} %` : run.status,
        `${number(run.done)}/${number(run.runs)}`,
        run.engine,
        run.createdAt.replace(/\.\d+Z$/, 'Z'),
      ]),
    ),
  );
}

/**
 * A study the command line names: a study file (.json), a built-in by name, or else a saved study's id.
 */
async function namedStudy(
  ctx: Context,
  study: string,
): Promise<{ spec: StudySpec } | { builtin: StudySpec } | { saved: string }> {
  if (/\.json$/i.test(study)) return { spec: (await readJsonObject(study, 'a study')) as StudySpec };
  const builtin = (await ctx.client.studies.list()).find((spec) => spec.name === study);
  return builtin ? { builtin } : { saved: study };
}

/** Saves a built-in (a copy to edit), a study file or a copy of a saved study; prints the new id. */
async function studySaveCommand(ctx: Context, study: string): Promise<void> {
  const named = await namedStudy(ctx, study);
  const spec =
    'spec' in named
      ? named.spec
      : 'builtin' in named
        ? named.builtin
        : (await ctx.client.studies.saved.get(named.saved)).spec;
  savedStudyOut(ctx, 'saved', await ctx.client.studies.saved.save(spec));
}

async function studyImportCommand(ctx: Context, file: string): Promise<void> {
  const document = await readJsonObject(file, 'a study file');
  savedStudyOut(ctx, 'imported', await ctx.client.studies.saved.import(document));
}

/** A saved study's id on stdout (for scripts: ID=$(iommu-lab study save …)), what happened on stderr. */
function savedStudyOut(ctx: Context, what: string, saved: SavedStudyView): void {
  if (ctx.json) return ctx.io.out(JSON.stringify(saved, null, 2));
  ctx.io.err(`${what} study ${saved.name} as ${saved.id}, revision ${saved.revision}`);
  ctx.io.out(saved.id);
}

async function studyExportCommand(ctx: Context, id: string, options: { out?: string }): Promise<void> {
  const file = await ctx.client.studies.saved.export(id);
  const text = JSON.stringify(file, null, 2);
  if (!options.out) return ctx.io.out(text);
  await writeFile(options.out, `${text}\n`);
  if (ctx.json) ctx.io.out(JSON.stringify({ study: id, revision: file.revision, out: options.out }));
  else ctx.io.err(`wrote study ${file.study.name}, revision ${file.revision}, to ${options.out}`);
}

/**
 * Runs a study (a built-in by name, a study file or a saved study's id), a bar per run, then writes its
 * report to `out`.
 */
async function studyRunCommand(
  ctx: Context,
  study: string,
  options: { set: SweepParameter[]; engine?: 'local' | 'bullmq'; out: string },
): Promise<void> {
  const named = await namedStudy(ctx, study);
  const startedAt = performance.now();
  const started = await ctx.client.studies.run({
    study: 'spec' in named ? named.spec : 'builtin' in named ? named.builtin.name : named,
    ...(options.set.length > 0
      ? { set: Object.fromEntries(options.set.map((p) => [p.path, p.values])) }
      : {}),
    ...(options.engine ? { engine: options.engine } : {}),
  });
  if (!ctx.json)
    ctx.io.err(
      `study ${started.name} (${started.id}): ${started.runs} run(s) on the ${started.engine} engine`,
    );
  const bars = new RunBars(ctx.bars);
  let view: StudyRunView;
  try {
    view = await ctx.client.studies.waitFor(started.id, {
      onUpdate: async () => {
        if (!ctx.bars) return;
        for (const { sweep } of started.sweeps)
          for (const run of (await ctx.client.sweeps.get(sweep)).runs) bars.update(run.id, run);
      },
    });
  } finally {
    bars.stop();
  }
  const seconds = (performance.now() - startedAt) / 1000;
  await mkdir(options.out, { recursive: true });
  const written: string[] = [];
  const write = async (name: string, content: string | Uint8Array) => {
    await writeFile(join(options.out, name), content);
    written.push(`${name} (${number(Math.ceil(Buffer.byteLength(content) / 1024))} KiB)`);
  };
  await write('report.html', await ctx.client.studies.report(view.id));
  await write('data.csv', await ctx.client.studies.csv(view.id));
  for (const [i] of view.report.charts.entries()) {
    await write(`chart-${i}.svg`, await ctx.client.studies.chart(view.id, i));
    await write(`chart-${i}.png`, await ctx.client.studies.png(view.id, i));
  }
  if (ctx.json) ctx.io.out(JSON.stringify({ study: view, seconds, files: written }, null, 2));
  else
    ctx.io.out(
      `study ${view.name} ${view.status}: ${view.done} of ${view.runs} runs answered (${studyOutcomes(view)}) in ${number(Math.round(seconds))} s (wall); wrote ${written.join(', ')} to ${options.out}`,
    );
  if (view.status !== 'done')
    throw new CommandFailure(
      'ESTUDY',
      `study ${view.id} ${view.status}: ${view.done} of ${view.runs} runs answered (${studyOutcomes(view)})`,
    );
}

async function workersCommand(ctx: Context): Promise<void> {
  const view = await ctx.client.workers();
  ctx.io.out(ctx.json ? JSON.stringify(view, null, 2) : workersTable(view));
}

async function sweepCommand(
  ctx: Context,
  experiment: string,
  options: { param: SweepParameter[]; engine?: 'local' | 'bullmq'; seed?: number; chart: string },
): Promise<void> {
  const started = await ctx.client.sweeps.start(experiment, {
    parameters: options.param,
    ...(options.engine ? { engine: options.engine } : {}),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  });
  if (!ctx.json)
    ctx.io.err(`sweep ${started.id}: ${started.runs.length} run(s) on the ${started.engine} engine`);
  const bars = new RunBars(ctx.bars);
  const show = (sweep: SweepView) => {
    for (const run of sweep.runs) bars.update(run.id, run);
  };
  let sweep: SweepView;
  try {
    show(started);
    sweep = await ctx.client.sweeps.waitFor(started.id, { onUpdate: show });
  } finally {
    bars.stop();
  }
  const done = sweep.runs.filter((run) => run.status === 'done');
  const compared = done.length >= 2 ? await ctx.client.compare(done.map((run) => run.id)) : null;
  if (ctx.json) ctx.io.out(JSON.stringify({ sweep, compare: compared }, null, 2));
  else {
    ctx.io.out(sweepTable(sweep));
    ctx.io.out('');
    ctx.io.out(
      barChart(
        options.chart,
        sweep.runs.map((run) => {
          const value = pointer(run.metrics, options.chart);
          return { label: run.label, value: typeof value === 'number' ? value : null };
        }),
      ),
    );
    if (sweep.workers.length > 0 && sweep.engine === 'bullmq') {
      ctx.io.out('');
      ctx.io.out(
        barChart(
          'runs done per worker',
          sweep.workers.map((worker) => ({ label: worker.worker, value: worker.done })),
        ),
      );
    }
    if (compared) {
      ctx.io.out('');
      ctx.io.out(compareTable(compared));
      ctx.io.out('');
      ctx.io.out(configDiffTable(compared));
    }
  }
  if (sweep.status === 'failed' || done.length < sweep.runs.length)
    throw new CommandFailure(
      'ESWEEP',
      `sweep ${sweep.id} ${sweep.status}: ${done.length} of ${sweep.runs.length} runs done` +
        (failures(sweep.runs) ? ` (${failures(sweep.runs)!.message})` : ''),
    );
}

/** One flow: where its time went (the raw record, events and all, with --json). */
async function flowCommand(ctx: Context, lab: string, id: number): Promise<void> {
  const story = await ctx.client.flow(lab, id);
  ctx.io.out(ctx.json ? JSON.stringify(story, null, 2) : flowReport(story));
}

/** The lab's ended flows (all of them, page by page), or its slowest. */
async function flowsCommand(
  ctx: Context,
  lab: string,
  options: { device?: string; slowest?: number },
): Promise<void> {
  const filter = options.device ? { device: options.device } : {};
  let flows;
  if (options.slowest !== undefined)
    flows = (await ctx.client.flows(lab, { ...filter, slowest: options.slowest })).flows;
  else {
    flows = [];
    for (let after = -1; ;) {
      const page = await ctx.client.flows(lab, { ...filter, after, limit: 1000 });
      if (page.flows.length === 0) break;
      flows.push(...page.flows);
      after = page.next;
    }
  }
  if (ctx.json) for (const flow of flows) ctx.io.out(JSON.stringify(flow));
  else
    ctx.io.out(
      flows.length === 0
        ? `lab ${lab} has no ended flows${options.device ? ` of ${options.device}` : ''}`
        : flowsTable(flows),
    );
}

// ——— the program ———

export function buildProgram(run: (action: (ctx: Context) => Promise<void>) => Promise<void>) {
  const program = new Command('iommu-lab')
    .description('Run, compare, follow and handle iommu-lab experiments and labs from the command line.')
    .addOption(new Option('--url <url>', 'the lab server').env('IOMMU_LAB_URL').default(DEFAULT_URL))
    .addOption(new Option('--token <token>', 'the server access token').env('IOMMU_LAB_TOKEN'))
    .option('--json', 'machine-readable output (JSON; JSON lines for streams), no progress bars')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
      outputError: () => {},
    })
    .showSuggestionAfterError(true);

  program
    .command('run')
    .description('Import or create an experiment from a file, run it, and print its main metrics')
    .argument('<experiment-file>', 'an exported experiment file, or an experiment body {name, config}')
    .option(
      '--seed <n>',
      'run with this seed (with --runs: the first of consecutive seeds)',
      integer('--seed', 0, 2 ** 31 - 1),
    )
    .option('--runs <n>', 'how many runs (consecutive seeds)', integer('--runs', 1, 100), 1)
    .option('--label <label>', "the runs' label")
    .action((file: string, options: { seed?: number; runs: number; label?: string }) =>
      run((ctx) => runCommand(ctx, file, options)),
    );

  program
    .command('compare')
    .description(
      'Compare runs: the headline figures with deltas and ratios to the first run, where the fault time went, and the config diff',
    )
    .argument('<run-ids...>', 'two or more run ids')
    .option('--all', 'every metric (by path, never a series), not only the headline figures')
    .action((ids: string[], options: { all?: boolean }) => run((ctx) => compareCommand(ctx, ids, options)));

  const filterOptions = (command: Command, kinds: boolean) => {
    command
      .option('--device <id>', 'only this device (repeatable)', collect(String))
      .option('--pasid <n>', 'only this PASID, or "none" (repeatable)', collect(pasid));
    if (kinds) command.option('--kind <kinds...>', 'only these event kinds');
    command
      .option(
        '--category <category>',
        'only this fault category, BIND or MAP (repeatable)',
        collect(oneOf('--category', ['BIND', 'MAP'])),
      )
      .option(
        '--stage <stage>',
        'only this translation stage, 1 or 2 (repeatable)',
        collect(oneOf('--stage', ['1', '2'])),
      );
    return command;
  };

  filterOptions(
    program
      .command('tail')
      .description(
        "Print a lab's events as they happen, one line each (JSON lines with --json); Ctrl-C stops",
      )
      .argument('<lab>', 'the lab id'),
    true,
  ).action((lab: string, options: FilterOptions) => run((ctx) => tailCommand(ctx, lab, options)));

  filterOptions(
    program
      .command('handle')
      .description("Act as a lab's outside fault handler, answering every pending group; Ctrl-C stops")
      .argument('<lab>', 'the lab id')
      .addOption(
        new Option('--respond <code>', 'the answer to every group')
          .choices(['SUCCESS', 'INVALID', 'FAILURE'])
          .makeOptionMandatory(),
      ),
    false,
  ).action((lab: string, options: FilterOptions & { respond: ResponseCode }) =>
    run((ctx) => handleCommand(ctx, lab, options)),
  );

  program
    .command('flow')
    .description(
      "Where did this fault's time go: a lab's flow, its hops (start, latency, share), handler costs, causes and effects (--json: the raw record and its events)",
    )
    .argument('<lab>', 'the lab id')
    .argument('<flow>', "the flow id (GET /labs/:lab/flows, a DMA result's flows)", integer('<flow>', 1))
    .action((lab: string, id: number) => run((ctx) => flowCommand(ctx, lab, id)));

  program
    .command('flows')
    .description("A lab's ended fault flows, one row each (JSON lines with --json)")
    .argument('<lab>', 'the lab id')
    .option('--device <id>', 'only this device')
    .option('--slowest <n>', 'only the n slowest, slowest first', integer('--slowest', 1, 1000))
    .action((lab: string, options: { device?: string; slowest?: number }) =>
      run((ctx) => flowsCommand(ctx, lab, options)),
    );

  program
    .command('faults')
    .description("Download a run's fault log as CSV or JSON lines")
    .argument('<run-id>', 'the run id')
    .addOption(
      new Option('--format <format>', 'csv or jsonl').choices(['csv', 'jsonl']).makeOptionMandatory(),
    )
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--device <id>', 'only this device')
    .addOption(new Option('--category <category>', 'only this category').choices(['BIND', 'MAP']))
    .addOption(
      new Option('--kind <kind>', 'only this kind').choices([
        'page-request',
        'stall',
        'unrecoverable',
        'device-handled',
      ]),
    )
    .option('--code <code>', 'only records answered with this code (SUCCESS, INVALID, …)')
    .action((id: string, options: Parameters<typeof faultsCommand>[2]) =>
      run((ctx) => faultsCommand(ctx, id, options)),
    );

  program
    .command('trace')
    .description("A run's events as Chrome trace-event JSON, for Perfetto (ui.perfetto.dev)")
    .argument('<run-id>', 'the run id')
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--max-events <n>', 'cap the trace at this many events', integer('--max-events', 100, 2_000_000))
    .action((id: string, options: { out?: string; maxEvents?: number }) =>
      run((ctx) => traceCommand(ctx, id, options)),
    );

  const study = program
    .command('study')
    .description('Studies: a question over experiments, answered by a report');
  study
    .command('list')
    .description('The built-in studies')
    .action(() => run((ctx) => studyListCommand(ctx)));
  study
    .command('saved')
    .description('The saved studies, newest first, with their revisions')
    .action(() => run((ctx) => studySavedCommand(ctx)));
  study
    .command('save')
    .description('Save a study to run again and edit in revisions; prints its id')
    .argument(
      '<study>',
      'a built-in study name (saves a copy), a study file (.json), or a saved study id (a copy)',
    )
    .action((name: string) => run((ctx) => studySaveCommand(ctx, name)));
  study
    .command('export')
    .description('A saved study as a file to import elsewhere')
    .argument('<id>', 'the saved study id (study saved)')
    .option('--out <file>', 'write to this file instead of stdout')
    .action((id: string, options: { out?: string }) => run((ctx) => studyExportCommand(ctx, id, options)));
  study
    .command('import')
    .description('Import an exported study file as a new saved study; prints its id')
    .argument('<file>', 'a file from study export (.study.iommu-lab.json)')
    .action((file: string) => run((ctx) => studyImportCommand(ctx, file)));
  study
    .command('runs')
    .description('The study runs, newest first: status, runs answered, engine, and what each ran')
    .option('--name <study>', 'only the runs of this study name')
    .option('--limit <n>', 'at most this many', integer('--limit', 1, 200))
    .action((options: { name?: string; limit?: number }) => run((ctx) => studyRunsCommand(ctx, options)));
  study
    .command('run')
    .description(
      'Run a study, a progress bar per run, then write its report (HTML, CSV, SVG charts) to --out',
    )
    .argument(
      '<study>',
      'a built-in study name (study list), a study file (.json), or a saved study id (study saved)',
    )
    .option(
      '--set <path=v1,v2,...>',
      "values to sweep instead of the study's, for one of its parameters (repeatable)",
      collect(parseParam),
      [],
    )
    .addOption(
      new Option('--engine <engine>', "where the runs execute (default: the server's choice)").choices([
        'local',
        'bullmq',
      ]),
    )
    .option('--out <dir>', 'the folder the report is written to', 'report')
    .action((name: string, options: { set: SweepParameter[]; engine?: 'local' | 'bullmq'; out: string }) =>
      run((ctx) => studyRunCommand(ctx, name, options)),
    );

  program
    .command('workers')
    .description("The queue workers on the server's Redis: machine, cores, versions, what each runs now")
    .action(() => run((ctx) => workersCommand(ctx)));

  program
    .command('sweep')
    .description("Run an experiment over every combination of parameters' values, then compare the runs")
    .argument('<experiment-id>', 'the experiment id')
    .requiredOption(
      '--param <path=v1,v2,...>',
      'a JSON pointer into the config and its values (repeatable), e.g. /system/devices/0/pri/capacity=8,16,32',
      collect(parseParam),
    )
    .addOption(
      new Option('--engine <engine>', "where the runs execute (default: the server's choice)").choices([
        'local',
        'bullmq',
      ]),
    )
    .option('--seed <n>', "every run's seed (default: the experiment's)", integer('--seed', 0, 2 ** 31 - 1))
    .option(
      '--chart <metric>',
      'the metric charted across the runs (a JSON pointer)',
      '/system/dmaLatencyNs/p99',
    )
    .action(
      (
        id: string,
        options: { param: SweepParameter[]; engine?: 'local' | 'bullmq'; seed?: number; chart: string },
      ) => run((ctx) => sweepCommand(ctx, id, options)),
    );

  return program;
}

/** Parses and runs a command line (argv as in process.argv); resolves with the exit code. */
export async function runCli(argv: string[], io: Io = processIo): Promise<number> {
  let exit: number = EXIT.ok;
  const report = (code: string, message: string, status: number) => {
    io.err(`error: ${code}: ${message}`);
    exit = status;
  };
  const program = buildProgram(async (action) => {
    const globals = program.opts<GlobalOptions>();
    try {
      const url = new URL(globals.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      throw new UsageError(`--url ${JSON.stringify(globals.url)} is not an http(s) URL.`);
    }
    const ctx: Context = {
      client: createClient({ baseUrl: globals.url, ...(globals.token ? { token: globals.token } : {}) }),
      json: Boolean(globals.json),
      io,
      bars: !globals.json && io.interactive,
    };
    await action(ctx);
  });
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return EXIT.ok;
      report('EUSAGE', `${error.message.replace(/^error: /, '')} (see iommu-lab --help)`, EXIT.usage);
    } else if (error instanceof UsageError) report(error.code, error.message, EXIT.usage);
    else if (error instanceof ApiError) {
      const extra = [error.reason && `reason: ${error.reason}`, error.path && `path: ${error.path}`]
        .filter(Boolean)
        .join(', ');
      report(error.code, `${error.message}${extra ? ` (${extra})` : ''}`, EXIT.refused);
    } else if (error instanceof ConnectionError) report(error.code, error.message, EXIT.unreachable);
    else if (error instanceof CommandFailure) report(error.code, error.message, EXIT.refused);
    else report('EFAIL', error instanceof Error ? error.message : String(error), EXIT.refused);
  }
  return exit;
}
