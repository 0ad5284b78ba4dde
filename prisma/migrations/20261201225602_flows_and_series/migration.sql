-- AlterTable
ALTER TABLE "runs" ADD COLUMN "series" JSONB;

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_fault_records" (
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
    "flow" INTEGER NOT NULL DEFAULT 0,
    "transaction_id" INTEGER,
    "group_id" INTEGER,
    "handler" TEXT,
    "cause" TEXT,
    "outcome" TEXT NOT NULL DEFAULT '',
    "end_ns" REAL NOT NULL DEFAULT 0,
    "causes" TEXT NOT NULL DEFAULT '',
    "replaces" INTEGER,
    "replaced_because" TEXT,
    "credit_wait_ns" REAL,
    "to_iommu_ns" REAL,
    "queue_wait_ns" REAL,
    "group_wait_ns" REAL,
    "dispatch_ns" REAL,
    "handler_ns" REAL,
    "client_wait_ns" REAL,
    "timeout_ns" REAL,
    "response_write_ns" REAL,
    "to_device_ns" REAL,
    "overflow_response_ns" REAL,
    "resume_ns" REAL,
    "device_driver_ns" REAL,
    "mm_fault_ns" REAL,
    "retranslate_ns" REAL,
    "handler_mm_fault_ns" REAL,
    "handler_map_ns" REAL,
    "handler_eviction_ns" REAL,
    "handler_guest_ns" REAL,
    CONSTRAINT "fault_records_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_fault_records" ("access", "address", "category", "code", "device", "id", "kind", "latency_ns", "pasid", "run_id", "seq", "stage", "time_ns") SELECT "access", "address", "category", "code", "device", "id", "kind", "latency_ns", "pasid", "run_id", "seq", "stage", "time_ns" FROM "fault_records";
DROP TABLE "fault_records";
ALTER TABLE "new_fault_records" RENAME TO "fault_records";
CREATE INDEX "fault_records_run_id_seq_idx" ON "fault_records"("run_id", "seq");
CREATE INDEX "fault_records_run_id_flow_idx" ON "fault_records"("run_id", "flow");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
