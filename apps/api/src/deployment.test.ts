/**
 * docker-compose.yml and the Dockerfile cannot be run on CI machines without a Docker engine; this checks
 * what can be checked without one: the compose file parses, and everything it and the Dockerfile name
 * exists in the repository.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface Service {
  build?: { context: string; dockerfile: string };
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: string[];
  container_name?: string;
  healthcheck?: { disable?: boolean };
}

interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

describe('deployment files', () => {
  const compose = parse(read('docker-compose.yml')) as Compose;
  const api = compose.services.api!;

  it('the compose file parses and builds the API from a Dockerfile that exists', () => {
    expect(existsSync(join(root, api.build!.context, api.build!.dockerfile))).toBe(true);
  });

  it('the API listens beyond loopback in the container, so compose demands a token', () => {
    const env = api.environment!;
    expect(env.HOST).toBe('0.0.0.0');
    expect(env.IOMMU_LAB_TOKEN).toMatch(/^\$\{IOMMU_LAB_TOKEN:\?/);
    // Published on the host's loopback only.
    expect(api.ports).toEqual([`127.0.0.1:${env.PORT}:${env.PORT}`]);
  });

  it('named volumes are declared, and the data volume is where the Dockerfile keeps data', () => {
    for (const volume of api.volumes!) {
      const [name, target] = volume.split(':') as [string, string];
      expect(compose.volumes).toHaveProperty(name);
      expect(read('Dockerfile')).toContain(`VOLUME ["${target}"]`);
    }
    for (const service of Object.values(compose.services))
      for (const volume of service.volumes ?? [])
        expect(compose.volumes).toHaveProperty(volume.split(':')[0]!);
  });

  it('Redis, the queue, asks for the token as its password and is published on loopback only', () => {
    const redis = compose.services.redis!;
    expect(redis.command).toEqual(expect.arrayContaining(['redis-server', '--requirepass']));
    expect(redis.command![redis.command!.indexOf('--requirepass') + 1]).toMatch(/^\$\{IOMMU_LAB_TOKEN:\?/);
    expect(redis.ports!.every((port) => port.startsWith('127.0.0.1:'))).toBe(true);
    const url = /^redis:\/\/:\$\{IOMMU_LAB_TOKEN(:\?[^}]*)?\}@redis:6379$/;
    expect(api.environment!.REDIS_URL).toMatch(url);
    expect(api.depends_on).toContain('redis');
  });

  it('the worker service scales (docker compose up --scale worker=N): the API image, only REDIS_URL, no data', () => {
    const worker = compose.services.worker!;
    const apiPackage = JSON.parse(read('apps/api/package.json')) as {
      name: string;
      scripts: Record<string, string>;
    };
    expect(worker.image).toBe(api.image);
    expect(worker.command).toEqual(['npm', 'run', 'worker', '--workspace', apiPackage.name]);
    expect(apiPackage.scripts.worker).toBe('tsx src/worker.ts');
    expect(existsSync(join(root, 'apps/api/src/worker.ts'))).toBe(true);
    // What --scale needs: no fixed name, no host port; and nothing but Redis: no data volume, no database.
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    expect(worker.volumes).toBeUndefined();
    expect(Object.keys(worker.environment!)).toEqual(['REDIS_URL']);
    expect(worker.environment!.REDIS_URL).toMatch(/@redis:6379$/);
    expect(worker.depends_on).toEqual(expect.arrayContaining(['redis']));
    expect(worker.healthcheck).toEqual({ disable: true });
  });

  it('every path the Dockerfile copies exists, and every workspace is copied', () => {
    const dockerfile = read('Dockerfile');
    const sources = [...dockerfile.matchAll(/^COPY\s+(.+)\s+\S+$/gm)].flatMap((match) =>
      match[1]!.split(/\s+/),
    );
    expect(sources.length).toBeGreaterThan(4);
    for (const source of sources) expect(existsSync(join(root, source)), source).toBe(true);
    const { workspaces: patterns } = JSON.parse(read('package.json')) as { workspaces: string[] };
    const workspaces = patterns
      .flatMap((pattern) =>
        pattern.endsWith('/*')
          ? readdirSync(join(root, pattern.slice(0, -2))).map((name) => `${pattern.slice(0, -2)}/${name}`)
          : [pattern],
      )
      .map((dir) => `${dir}/package.json`)
      .filter((manifest) => existsSync(join(root, manifest)));
    expect(workspaces.length).toBeGreaterThanOrEqual(8);
    for (const manifest of workspaces) expect(dockerfile, manifest).toContain(manifest);
  });

  it('the container builds the dashboard, then starts the API on the data volume', () => {
    const dockerfile = read('Dockerfile');
    const web = JSON.parse(read('apps/web/package.json')) as {
      name: string;
      scripts: Record<string, string>;
    };
    const api = JSON.parse(read('apps/api/package.json')) as {
      name: string;
      scripts: Record<string, string>;
    };
    expect(dockerfile).toContain(`RUN npm run build --workspace ${web.name}`);
    expect(web.scripts.build).toBeDefined();
    expect(dockerfile).toContain(`CMD ["npm", "run", "start", "--workspace", "${api.name}"]`);
    expect(api.scripts.start).toBeDefined();
    expect(dockerfile).toMatch(/IOMMU_LAB_DB=\/app\/data\//);
  });
});
