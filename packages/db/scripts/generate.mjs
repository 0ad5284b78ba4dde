// Generates the Prisma client into src/generated/prisma from /prisma/schema.prisma.
// `prisma generate` never runs the native schema engine, but the CLI insists on downloading it first; where
// Prisma's binaries host is unreachable, pointing PRISMA_SCHEMA_ENGINE_BINARY at any file skips that step.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const schema = fileURLToPath(new URL('../../../prisma/schema.prisma', import.meta.url));
const cli = require.resolve('prisma/build/index.js');
const result = spawnSync(process.execPath, [cli, 'generate', '--schema', schema], {
  stdio: 'inherit',
  env: {
    PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
    ...process.env,
  },
});
process.exit(result.status ?? 1);
