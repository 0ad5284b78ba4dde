-- CreateTable
CREATE TABLE "studies" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "spec" JSONB NOT NULL,
    "revision" INTEGER NOT NULL DEFAULT 1,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_study_runs" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "spec" JSONB NOT NULL,
    "engine" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "study_id" TEXT,
    "revision" INTEGER,
    "builtin" TEXT,
    CONSTRAINT "study_runs_study_id_fkey" FOREIGN KEY ("study_id") REFERENCES "studies" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_study_runs" ("created_at", "engine", "id", "name", "spec", "title") SELECT "created_at", "engine", "id", "name", "spec", "title" FROM "study_runs";
DROP TABLE "study_runs";
ALTER TABLE "new_study_runs" RENAME TO "study_runs";
CREATE INDEX "study_runs_created_at_idx" ON "study_runs"("created_at");
CREATE INDEX "study_runs_study_id_idx" ON "study_runs"("study_id");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "studies_created_at_idx" ON "studies"("created_at");
