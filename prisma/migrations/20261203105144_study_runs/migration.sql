-- CreateTable
CREATE TABLE "study_runs" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "spec" JSONB NOT NULL,
    "engine" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_sweeps" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "experiment_id" TEXT NOT NULL,
    "parameters" JSONB NOT NULL,
    "engine" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "study_run_id" TEXT,
    CONSTRAINT "sweeps_experiment_id_fkey" FOREIGN KEY ("experiment_id") REFERENCES "experiments" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "sweeps_study_run_id_fkey" FOREIGN KEY ("study_run_id") REFERENCES "study_runs" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_sweeps" ("created_at", "engine", "experiment_id", "id", "parameters") SELECT "created_at", "engine", "experiment_id", "id", "parameters" FROM "sweeps";
DROP TABLE "sweeps";
ALTER TABLE "new_sweeps" RENAME TO "sweeps";
CREATE INDEX "sweeps_experiment_id_idx" ON "sweeps"("experiment_id");
CREATE INDEX "sweeps_study_run_id_idx" ON "sweeps"("study_run_id");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
