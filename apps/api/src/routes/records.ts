/**
 * Byte-exact records: the layouts of the descriptors, PCIe messages and kernel structs that events and
 * flows carry (each as its layout id, hex bytes and field values). Served once, so a client draws a
 * record's bits without every event repeating where its fields sit.
 */
import { describeLayouts } from '@iommu-lab/emulator';
import { RecordLayoutsAnswer } from '@iommu-lab/wire';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

export const recordRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // The same for every request: built once.
  const answer = { layouts: describeLayouts() };
  app.get(
    '/records/layouts',
    {
      schema: {
        tags: ['records'],
        summary:
          'Layouts of the byte-exact records events and flows carry (VT-d, SMMUv3, PCIe, Linux, iommufd)',
        response: { 200: RecordLayoutsAnswer },
      },
    },
    async () => answer,
  );
};
