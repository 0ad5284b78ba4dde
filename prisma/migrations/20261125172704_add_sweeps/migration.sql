-- CreateTable
CREATE TABLE "sweeps" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "experiment_id" TEXT NOT NULL,
    "parameters" JSONB NOT NULL,
    "engine" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "sweeps_experiment_id_fkey" FOREIGN KEY ("experiment_id") REFERENCES "experiments" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

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
    "simulated_ns" REAL NOT NULL DEFAULT 0,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" DATETIME,
    "finished_at" DATETIME,
    "sweep_id" TEXT,
    CONSTRAINT "runs_experiment_id_fkey" FOREIGN KEY ("experiment_id") REFERENCES "experiments" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "runs_sweep_id_fkey" FOREIGN KEY ("sweep_id") REFERENCES "sweeps" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_runs" ("config", "created_at", "error", "experiment_id", "fault_records", "finished_at", "histograms", "id", "label", "metrics", "progress", "seed", "simulated_ns", "started_at", "status", "total_transactions", "transactions") SELECT "config", "created_at", "error", "experiment_id", "fault_records", "finished_at", "histograms", "id", "label", "metrics", "progress", "seed", "simulated_ns", "started_at", "status", "total_transactions", "transactions" FROM "runs";
DROP TABLE "runs";
ALTER TABLE "new_runs" RENAME TO "runs";
CREATE INDEX "runs_experiment_id_idx" ON "runs"("experiment_id");
CREATE INDEX "runs_sweep_id_idx" ON "runs"("sweep_id");
CREATE INDEX "runs_status_idx" ON "runs"("status");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "sweeps_experiment_id_idx" ON "sweeps"("experiment_id");
