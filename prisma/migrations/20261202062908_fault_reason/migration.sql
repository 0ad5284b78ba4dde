-- AlterTable
ALTER TABLE "fault_records" ADD COLUMN "reason" TEXT;
