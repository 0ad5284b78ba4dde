/** @iommu-lab/db: the lab's SQLite database through Prisma, and the batched fault log beside it. */
export {
  DEFAULT_DATABASE_FILE,
  type Database,
  type DatabaseOpenCode,
  DatabaseOpenError,
  databaseFileFromEnv,
  openDatabase,
} from './database';
export {
  type NewRun,
  type RunAttempt,
  RunStateError,
  type RunStatus,
  type RunStop,
  RunStore,
  StaleAttemptError,
} from './run-store';
export { type StorageCode, type StorageFailure, storageFailure } from './storage-error';
export {
  FAULT_COLUMNS,
  HOP_COLUMNS,
  faultRowOf,
  type FaultFilter,
  FaultLog,
  type FaultRecordView,
  type FaultRow,
  type RunProgress,
} from './fault-log';
export { MIGRATIONS_DIR, SCHEMA_PATH, applyMigrations, pendingSchemaChange } from './schema-engine';
export type { Experiment, Run, Study } from './generated/prisma/client';
