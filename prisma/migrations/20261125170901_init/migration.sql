-- CreateTable
CREATE TABLE "experiments" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "tags" JSONB NOT NULL,
    "config_version" INTEGER NOT NULL,
    "config" JSONB NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "runs" (
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
    CONSTRAINT "runs_experiment_id_fkey" FOREIGN KEY ("experiment_id") REFERENCES "experiments" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "fault_records" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "run_id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "time_ns" REAL NOT NULL,
    "device" TEXT NOT NULL,
    "pasid" INTEGER,
    "address" TEXT NOT NULL,
    "access" TEXT NOT NULL,
    "category" TEXT,
    "stage" INTEGER,
    "kind" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "latency_ns" REAL,
    CONSTRAINT "fault_records_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "experiments_created_at_idx" ON "experiments"("created_at");

-- CreateIndex
CREATE INDEX "runs_experiment_id_idx" ON "runs"("experiment_id");

-- CreateIndex
CREATE INDEX "runs_status_idx" ON "runs"("status");

-- CreateIndex
CREATE INDEX "fault_records_run_id_seq_idx" ON "fault_records"("run_id", "seq");
