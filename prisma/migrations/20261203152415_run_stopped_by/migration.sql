-- AlterTable
ALTER TABLE "runs" ADD COLUMN "stopped_by" TEXT;

-- Runs ended before this column told their cause only in their reason's words: a livelock's begins
-- "livelock:", an emulator refusal's with its code ("ECONFIG: …"). A failure of the database also begins
-- with a code, but says "the database cannot be written": it stays a failure of the machine.
UPDATE "runs" SET "stopped_by" = 'livelock' WHERE "status" = 'failed' AND "error" LIKE 'livelock:%';
UPDATE "runs" SET "stopped_by" = 'refusal'
  WHERE "status" = 'failed' AND "stopped_by" IS NULL AND "error" GLOB 'E[A-Z]*: *'
    AND "error" NOT LIKE '%the database cannot be written%';
