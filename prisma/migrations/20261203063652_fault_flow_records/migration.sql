-- AlterTable
ALTER TABLE "fault_records" ADD COLUMN "records" TEXT;
