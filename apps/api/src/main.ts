/**
 * `npm start`: the server on 127.0.0.1 (HOST, PORT to change). Listening anywhere but loopback needs
 * IOMMU_LAB_TOKEN, which every request must then carry. IOMMU_LAB_DB moves the database (IOMMU_LAB_DB_MAX_MB
 * limits its size); REDIS_URL adds the BullMQ job engine. A database it cannot use, or a bad setting: one
 * sentence and exit code 2. Stops gracefully on SIGINT / SIGTERM.
 */
import { DatabaseOpenError, databaseFileFromEnv } from '@iommu-lab/db';
import { isLoopback } from './plugins/auth';
import { isOrigin, originsFromEnv } from './plugins/origin';
import { buildServer } from './server';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 4100);
const token = process.env.IOMMU_LAB_TOKEN || undefined;

if (!(await isLoopback(host)) && token === undefined) {
  console.error(
    `Refusing to listen on ${host} without an access token: set IOMMU_LAB_TOKEN (or HOST=127.0.0.1).`,
  );
  process.exit(2);
}
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT ${process.env.PORT} is not a port number.`);
  process.exit(2);
}

const maxMb = process.env.IOMMU_LAB_DB_MAX_MB;
if (maxMb !== undefined && !(Number(maxMb) > 0)) {
  console.error(`IOMMU_LAB_DB_MAX_MB ${maxMb} is not a size in MiB.`);
  process.exit(2);
}

const origins = originsFromEnv(process.env.IOMMU_LAB_ORIGINS);
const notOrigin = origins.find((origin) => !isOrigin(origin));
if (notOrigin !== undefined) {
  console.error(
    `IOMMU_LAB_ORIGINS: "${notOrigin}" is not an origin (scheme://host[:port], comma-separated).`,
  );
  process.exit(2);
}

// A database the server cannot use is the operator's to fix: one sentence naming the file and the cause.
const app = await buildServer({
  databaseFile: databaseFileFromEnv(),
  ...(maxMb === undefined ? {} : { databaseMaxBytes: Number(maxMb) * 1024 * 1024 }),
  ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
  queueWorker: process.env.IOMMU_LAB_QUEUE_WORKER !== 'off',
  allowedOrigins: origins,
  ...(token ? { token } : {}),
  logger: { level: process.env.LOG_LEVEL ?? 'info' },
}).catch((error: unknown) => {
  if (!(error instanceof DatabaseOpenError)) throw error;
  console.error(error.message);
  process.exit(2);
});

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    // A connection that never closes must not keep the process alive forever.
    setTimeout(() => process.exit(1), 10_000).unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

// A port in use (another server, a second `npm start`) or not allowed: one sentence, not a stack trace.
const address = await app.listen({ host, port }).catch(async (error: NodeJS.ErrnoException) => {
  const why =
    error.code === 'EADDRINUSE'
      ? 'another program is listening there (a second npm start?); set PORT to use another port'
      : error.code === 'EACCES'
        ? 'this user may not listen on that port; set PORT above 1023'
        : error.message;
  console.error(`Cannot listen on ${host}:${port}: ${why}.`);
  await app.close();
  process.exit(2);
});
console.log(
  `iommu-lab is listening on ${address} (API ${address}/api/v1, docs ${address}/api/v1/docs; data in ${app.db.file})`,
);
