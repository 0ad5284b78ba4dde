/** `npm start` with a setting it cannot use: one sentence naming it, exit code 2, no stack trace. */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from './testing/run-main';

const database = () => ({ IOMMU_LAB_DB: join(mkdtempSync(join(tmpdir(), 'iommu-lab-main-')), 'lab.db') });

describe('npm start with a bad setting', () => {
  it('IOMMU_LAB_ORIGINS with something that is not an origin', async () => {
    const { code, stderr } = await runMain({
      ...database(),
      IOMMU_LAB_ORIGINS: 'http://127.0.0.1:5173,localhost',
    });
    expect(code).toBe(2);
    expect(stderr).toBe(
      'IOMMU_LAB_ORIGINS: "localhost" is not an origin (scheme://host[:port], comma-separated).\n',
    );
  });

  it('a port another program listens on', async () => {
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const { port } = other.address() as { port: number };
    try {
      const { code, stderr } = await runMain({ ...database(), PORT: String(port) });
      expect(code).toBe(2);
      expect(stderr).toBe(
        `Cannot listen on 127.0.0.1:${port}: another program is listening there (a second npm start?); set PORT to use another port.\n`,
      );
    } finally {
      other.close();
    }
  });
});
