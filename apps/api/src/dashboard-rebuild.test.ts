import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, startServer } from './testing/harness';

// `npm run build -w @iommu-lab/web` (or a second `npm start`) while a server runs replaces dist with new
// hashed asset names: the running server must serve the folder as it is now, not the files it saw at start.
describe('a dashboard rebuilt while the server runs', () => {
  const webRoot = mkdtempSync(join(tmpdir(), 'iommu-lab-web-'));
  let server: Running;
  beforeAll(async () => {
    writeFileSync(join(webRoot, 'index.html'), '<!doctype html><script src="assets/old.js"></script>');
    mkdirSync(join(webRoot, 'assets'));
    writeFileSync(join(webRoot, 'assets', 'old.js'), 'console.log("old")');
    server = await startServer({ webRoot });
  });
  afterAll(() => server.close());

  it('is served as the folder holds it now: new page, new assets', async () => {
    rmSync(join(webRoot, 'assets'), { recursive: true });
    mkdirSync(join(webRoot, 'assets'));
    writeFileSync(join(webRoot, 'assets', 'new-1234.js'), 'console.log("new")');
    writeFileSync(join(webRoot, 'index.html'), '<!doctype html><script src="assets/new-1234.js"></script>');

    const page = await fetch(`${server.url}/`);
    expect(await page.text()).toContain('new-1234.js');
    const script = await fetch(`${server.url}/assets/new-1234.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('javascript');
    expect(await script.text()).toBe('console.log("new")');
  });

  it('a removed asset is not answered with the page as if it were a script', async () => {
    const gone = await fetch(`${server.url}/assets/old.js`);
    expect(gone.headers.get('content-type')).not.toContain('javascript');
  });
});
