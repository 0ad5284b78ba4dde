/**
 * One dashboard in Debian's Chromium for an end-to-end suite: a real API on a temporary SQLite file serving
 * the build made once by build-once.ts (same origin, as `npm start` serves it), a headless Chromium driven
 * through playwright-core, and the helpers every suite uses (switch view, take a 1440×900 screenshot into
 * test-output/, the page's uncaught errors).
 *
 *     const browserPackage = requireDebianPackage('the timeline, end to end', CHROMIUM);
 *     describe.skipIf(!browserPackage.present)('…', () => {
 *       const dash = useDashboard();
 *       it('…', async () => { await dash.view('timeline'); … });
 *     });
 */
import { afterAll, beforeAll, inject } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { type IommuLabClient, createClient } from '@iommu-lab/client';
import type { ServerOptions } from '../../api/src/server';
import { startServer, type Running } from '../../api/src/testing/harness';
import { CHROMIUM } from '../../api/src/testing/debian-package';
import { OUTPUT } from './build-once';

export { CHROMIUM, requireDebianPackage } from '../../api/src/testing/debian-package';

export const STEP_MS = 60_000;

export interface Dashboard {
  api: Running;
  /** The typed client (Node's) on the same server, to set up and check what the page shows. */
  client: IommuLabClient;
  browser: Browser;
  page: Page;
  /** The dashboard's URL ("http://127.0.0.1:port/"). */
  base: string;
  /** Uncaught errors of every page opened through `newPage`. */
  pageErrors: string[];
  /** Clicks the view's nav link and waits for the view. */
  view(name: string, page?: Page): Promise<void>;
  /** A full-page screenshot from the top, test-output/<name>.png. */
  shot(name: string, page?: Page): Promise<void>;
  /** Another tab of the same browser (for multi-tab behaviour). */
  newPage(): Promise<Page>;
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface DashboardOptions {
  /**
   * More options for the API server, asked for when it starts (after the suite's own earlier beforeAll, so
   * that they can name what it started, e.g. a redis-server's URL).
   */
  server?: () => Partial<ServerOptions>;
}

/** Starts the API and the browser before the suite's tests and stops them after. */
export function useDashboard(options: DashboardOptions = {}): Dashboard {
  const dash = { pageErrors: [] as string[] } as Dashboard;
  beforeAll(async () => {
    const webRoot = inject('webRoot');
    if (!webRoot) throw new Error('build-once.ts did not build the dashboard (is it the globalSetup?)');
    dash.api = await startServer({ ...options.server?.(), webRoot });
    dash.base = `${dash.api.url}/`;
    dash.client = createClient({ baseUrl: dash.api.url });
    dash.browser = await chromium.launch({ executablePath: CHROMIUM.binary, args: CHROMIUM_ARGS });
    dash.newPage = async () => {
      const page = await dash.browser.newPage({ viewport: { width: 1440, height: 900 } });
      page.setDefaultTimeout(15_000);
      page.on('pageerror', (error) => dash.pageErrors.push(error.message));
      return page;
    };
    dash.page = await dash.newPage();
    dash.view = async (name, page = dash.page) => {
      await page.getByTestId(`nav-${name}`).click();
      await page.getByTestId(`view-${name}`).waitFor();
    };
    dash.shot = async (name, page = dash.page) => {
      // From the top, so that the sticky header sits where it belongs in a full-page picture.
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: `${OUTPUT}${name}.png`, fullPage: true });
    };
  }, 180_000);
  afterAll(async () => {
    await dash.browser?.close();
    await dash.api?.close();
  });
  return dash;
}
