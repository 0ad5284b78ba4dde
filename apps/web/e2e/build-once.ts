/**
 * Vitest global setup for the end-to-end suites: builds the dashboard once into a temporary folder (never
 * apps/web/dist, which a running `npm start` serves) and clears test-output/, so that every e2e file serves
 * the same build and keeps its own screenshots.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { build } from 'vite';
import { CHROMIUM, checkDebianPackage } from '../../api/src/testing/debian-package';

const root = fileURLToPath(new URL('..', import.meta.url));
export const OUTPUT = fileURLToPath(new URL('../test-output/', import.meta.url));

declare module 'vitest' {
  export interface ProvidedContext {
    /** The built dashboard, or '' when no e2e suite will run. */
    webRoot: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  rmSync(OUTPUT, { recursive: true, force: true });
  mkdirSync(OUTPUT, { recursive: true });
  // Only the e2e suites need the build; without Chromium they skip, so do not spend the time.
  if (!checkDebianPackage(CHROMIUM).present) {
    project.provide('webRoot', '');
    return () => {};
  }
  const webRoot = mkdtempSync(join(tmpdir(), 'iommu-lab-web-'));
  await build({ root, logLevel: 'warn', build: { outDir: webRoot, emptyOutDir: true } });
  project.provide('webRoot', webRoot);
  return () => rmSync(webRoot, { recursive: true, force: true });
}
