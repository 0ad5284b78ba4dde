-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_runs" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "experiment_id" TEXT NOT NULL,
    "label" TEXT NOT NULL DEFAULT '',
    "seed" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "progress" REAL NOT NULL DEFAULT 0,
    "transactions" INTEGER NOT NULL DEFAULT 0,
    "total_transactions" INTEGER NOT NULL DEFAULT 0,
    "fault_records" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "config" JSONB NOT NULL,
    "metrics" JSONB,
    "histograms" JSONB,
    "series" JSONB,
    "simulated_ns" REAL NOT NULL DEFAULT 0,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" DATETIME,
    "finished_at" DATETIME,
    "sweep_id" TEXT,
    "engine" TEXT NOT NULL DEFAULT 'local',
    "worker" TEXT,
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "attempts" JSONB,
    CONSTRAINT "runs_experiment_id_fkey" FOREIGN KEY ("experiment_id") REFERENCES "experiments" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "runs_sweep_id_fkey" FOREIGN KEY ("sweep_id") REFERENCES "sweeps" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_runs" ("config", "created_at", "error", "experiment_id", "fault_records", "finished_at", "histograms", "id", "label", "metrics", "progress", "seed", "series", "simulated_ns", "started_at", "status", "sweep_id", "total_transactions", "transactions") SELECT "config", "created_at", "error", "experiment_id", "fault_records", "finished_at", "histograms", "id", "label", "metrics", "progress", "seed", "series", "simulated_ns", "started_at", "status", "sweep_id", "total_transactions", "transactions" FROM "runs";
DROP TABLE "runs";
ALTER TABLE "new_runs" RENAME TO "runs";
CREATE INDEX "runs_experiment_id_idx" ON "runs"("experiment_id");
CREATE INDEX "runs_sweep_id_idx" ON "runs"("sweep_id");
CREATE INDEX "runs_status_idx" ON "runs"("status");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- Runs of a sweep were queued on the sweep's engine.
UPDATE "runs" SET "engine" = (SELECT "engine" FROM "sweeps" WHERE "sweeps"."id" = "runs"."sweep_id") WHERE "sweep_id" IS NOT NULL;
