/** Running a study through a real server in a test: a built-in to change, the run to its end, its data. */
import { parse } from 'csv-parse/sync';
import { expect } from 'vitest';
import { type Running, call } from './harness';
import { until } from './queue';

const API = '/api/v1';

/** A built-in study as GET /studies gives it, to shrink or change before posting it. */
export async function builtinStudy(server: Running, name: string) {
  return (await call(server.url, 'GET', `${API}/studies`)).body.find(
    (s: { name: string }) => s.name === name,
  );
}

/** Posts the study run (202 expected) and waits until it is no longer running; the view as it started and as it ended. */
export async function runStudy(server: Running, body: object) {
  const started = await call(server.url, 'POST', `${API}/studies/runs`, { engine: 'local', ...body });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  const done = await until(
    'the study',
    async () => (await call(server.url, 'GET', `${API}/studies/runs/${started.body.id}`)).body,
    (view) => view.status !== 'running',
    120_000,
  );
  return { started: started.body, done };
}

/** The report's CSV, as text and as rows by column title. */
export async function studyData(server: Running, done: { report: { csv: string } }) {
  const csv = await (await fetch(`${server.url}${done.report.csv}`)).text();
  return { csv, rows: parse(csv, { columns: true }) as Record<string, string>[] };
}
