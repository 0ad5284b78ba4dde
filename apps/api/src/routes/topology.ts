/**
 * The things inside a lab, shaped after the domain: IOMMUs, devices (features, attachment, SVA bonds,
 * fault handlers), processes and their VMAs, domains and their mappings. Each call is the emulator's
 * call of the same name; its refusals come back as 4xx with the kernel's code.
 */
import {
  AddressQuery,
  AttachBody,
  BindBody,
  BindResult,
  CountResult,
  DetachBody,
  DeviceParams,
  DeviceSpecSchema,
  Document,
  DomainParams,
  DomainSpecSchema,
  ErrorSchema,
  FeatureParams,
  HandlerSlotParams,
  HandlerSpecSchema,
  InvalidateAtcBody,
  InvalidateIotlbBody,
  InvalidateResult,
  IommuParams,
  IommuSpecSchema,
  LabParams,
  MappingResult,
  MappingSpecSchema,
  ProcessParams,
  ProcessSpecSchema,
  ProtectBody,
  RangeBody,
  TranslateResult,
  UnmapBody,
  VmaResult,
  VmaSpecSchema,
} from '@iommu-lab/wire';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { deviceView, domainView, iommuView, processView } from './views';

const errors = { 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema };
const List = Type.Array(Document);

export const topologyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const system = (lab: string) => app.labs.get(lab).system;

  // ——— IOMMUs ———
  app.post(
    '/labs/:lab/iommus',
    {
      schema: {
        tags: ['iommus'],
        summary: 'Add an IOMMU (family, kernel profile, capabilities)',
        params: LabParams,
        body: IommuSpecSchema,
        response: { 201: Document, ...errors },
      },
    },
    async (request, reply) => {
      const s = system(request.params.lab);
      const iommu = s.addIommu(request.body);
      return reply.status(201).send(iommuView(s, iommu.id));
    },
  );
  app.get(
    '/labs/:lab/iommus',
    {
      schema: {
        tags: ['iommus'],
        summary: 'List IOMMUs',
        params: LabParams,
        response: { 200: List, ...errors },
      },
    },
    async (request) => {
      const s = system(request.params.lab);
      return [...s.iommus.keys()].map((id) => iommuView(s, id));
    },
  );
  app.get(
    '/labs/:lab/iommus/:iommu',
    {
      schema: {
        tags: ['iommus'],
        summary: 'An IOMMU: capabilities, IOTLB, queues',
        params: IommuParams,
        response: { 200: Document, ...errors },
      },
    },
    async (request) => iommuView(system(request.params.lab), request.params.iommu),
  );
  app.post(
    '/labs/:lab/iommus/:iommu/invalidate',
    {
      schema: {
        tags: ['iommus'],
        summary: 'Invalidate IOTLB entries: all, a domain, a domain + PASID, or a range',
        params: IommuParams,
        body: InvalidateIotlbBody,
        response: { 200: InvalidateResult, ...errors },
      },
    },
    async (request) => ({
      entries: system(request.params.lab).invalidateIotlb(request.params.iommu, request.body),
    }),
  );

  // ——— devices ———
  app.post(
    '/labs/:lab/devices',
    {
      schema: {
        tags: ['devices'],
        summary: 'Add a device (PCIe with ATS/PRI/PASID, platform with stall, self-faulting)',
        params: LabParams,
        body: DeviceSpecSchema,
        response: { 201: Document, ...errors },
      },
    },
    async (request, reply) => {
      const s = system(request.params.lab);
      const device = s.addDevice(request.body);
      return reply.status(201).send(deviceView(s, device.id));
    },
  );
  app.get(
    '/labs/:lab/devices',
    {
      schema: {
        tags: ['devices'],
        summary: 'List devices',
        params: LabParams,
        response: { 200: List, ...errors },
      },
    },
    async (request) => system(request.params.lab).describe().devices,
  );
  app.get(
    '/labs/:lab/devices/:device',
    {
      schema: {
        tags: ['devices'],
        summary: 'A device: capabilities, features, PRI state, attachments, bonds, handlers',
        params: DeviceParams,
        response: { 200: Document, ...errors },
      },
    },
    async (request) => deviceView(system(request.params.lab), request.params.device),
  );
  app.post(
    '/labs/:lab/devices/:device/reset',
    {
      schema: {
        tags: ['devices'],
        summary: 'Function-level reset: in-flight DMA aborted, ATC emptied, PRI errors cleared',
        params: DeviceParams,
        response: { 200: Document, ...errors },
      },
    },
    async (request) => {
      const s = system(request.params.lab);
      s.resetDevice(request.params.device);
      return deviceView(s, request.params.device);
    },
  );
  app.put(
    '/labs/:lab/devices/:device/features/:feature',
    {
      schema: {
        tags: ['devices'],
        summary: 'Enable a feature (seed-5.13, proposal): IOPF before SVA',
        params: FeatureParams,
        response: { 200: Document, ...errors },
      },
    },
    async (request) => {
      const s = system(request.params.lab);
      s.enableFeature(request.params.device, request.params.feature);
      return deviceView(s, request.params.device);
    },
  );
  app.delete(
    '/labs/:lab/devices/:device/features/:feature',
    {
      schema: {
        tags: ['devices'],
        summary: 'Disable a feature: SVA before IOPF',
        params: FeatureParams,
        response: { 200: Document, ...errors },
      },
    },
    async (request) => {
      const s = system(request.params.lab);
      s.disableFeature(request.params.device, request.params.feature);
      return deviceView(s, request.params.device);
    },
  );
  app.post(
    '/labs/:lab/devices/:device/attach',
    {
      schema: {
        tags: ['devices'],
        summary: 'Attach a domain at the requester ID or a PASID',
        params: DeviceParams,
        body: AttachBody,
        response: { 200: Document, ...errors },
      },
    },
    async (request) => {
      const s = system(request.params.lab);
      const { domain, ...spec } = request.body;
      s.attach(request.params.device, domain, spec);
      return deviceView(s, request.params.device);
    },
  );
  app.post(
    '/labs/:lab/devices/:device/detach',
    {
      schema: {
        tags: ['devices'],
        summary: 'Detach the domain at the requester ID or a PASID',
        params: DeviceParams,
        body: DetachBody,
        response: { 200: Document, ...errors },
      },
    },
    async (request) => {
      const s = system(request.params.lab);
      s.detach(request.params.device, request.body.pasid);
      return deviceView(s, request.params.device);
    },
  );
  app.post(
    '/labs/:lab/devices/:device/bind',
    {
      schema: {
        tags: ['sva'],
        summary: 'SVA bind a process: its PASID and SVA domain',
        params: DeviceParams,
        body: BindBody,
        response: { 200: BindResult, ...errors },
      },
    },
    async (request) => system(request.params.lab).svaBind(request.params.device, request.body.process),
  );
  app.post(
    '/labs/:lab/devices/:device/unbind',
    {
      schema: {
        tags: ['sva'],
        summary: 'SVA unbind a process',
        params: DeviceParams,
        body: BindBody,
        response: { 200: Document, ...errors },
      },
    },
    async (request) => {
      const s = system(request.params.lab);
      s.svaUnbind(request.params.device, request.body.process);
      return deviceView(s, request.params.device);
    },
  );
  app.post(
    '/labs/:lab/devices/:device/handlers',
    {
      schema: {
        tags: ['faults'],
        summary: 'Register a fault handler (seed-5.13: the device handler; proposal: for categories)',
        params: DeviceParams,
        body: HandlerSpecSchema,
        response: { 201: Document, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(system(request.params.lab).registerFaultHandler(request.params.device, request.body)),
  );
  app.delete(
    '/labs/:lab/devices/:device/handlers/:slot',
    {
      schema: {
        tags: ['faults'],
        summary: 'Unregister a fault handler (slot BIND, MAP, or all for seed-5.13)',
        params: HandlerSlotParams,
        response: { 200: Document, ...errors },
      },
    },
    async (request) => {
      const s = system(request.params.lab);
      s.unregisterFaultHandler(
        request.params.device,
        request.params.slot === 'all' ? '*' : request.params.slot,
      );
      return deviceView(s, request.params.device);
    },
  );
  app.post(
    '/labs/:lab/devices/:device/atc/invalidate',
    {
      schema: {
        tags: ['devices'],
        summary: 'Invalidate the device ATC (without PASID: every PASID)',
        params: DeviceParams,
        body: InvalidateAtcBody,
        response: { 200: InvalidateResult, ...errors },
      },
    },
    async (request) => ({
      entries: system(request.params.lab).invalidateAtc(request.params.device, request.body),
    }),
  );

  // ——— processes ———
  app.post(
    '/labs/:lab/processes',
    {
      schema: {
        tags: ['processes'],
        summary: 'Create a process (an mm)',
        params: LabParams,
        body: ProcessSpecSchema,
        response: { 201: Document, ...errors },
      },
    },
    async (request, reply) => {
      const s = system(request.params.lab);
      const process = s.createProcess(request.body);
      return reply.status(201).send(processView(s, process.id));
    },
  );
  app.get(
    '/labs/:lab/processes',
    {
      schema: {
        tags: ['processes'],
        summary: 'List processes',
        params: LabParams,
        response: { 200: List, ...errors },
      },
    },
    async (request) => system(request.params.lab).describe().processes,
  );
  app.get(
    '/labs/:lab/processes/:process',
    {
      schema: {
        tags: ['processes'],
        summary: 'A process: VMAs, residency, PASID',
        params: ProcessParams,
        response: { 200: Document, ...errors },
      },
    },
    async (request) => processView(system(request.params.lab), request.params.process),
  );
  app.post(
    '/labs/:lab/processes/:process/mmap',
    {
      schema: {
        tags: ['processes'],
        summary: 'mmap a VMA',
        params: ProcessParams,
        body: VmaSpecSchema,
        response: { 201: VmaResult, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(201).send(system(request.params.lab).mmap(request.params.process, request.body)),
  );
  app.post(
    '/labs/:lab/processes/:process/munmap',
    {
      schema: {
        tags: ['processes'],
        summary: 'munmap a range (notifies bound IOMMUs)',
        params: ProcessParams,
        body: RangeBody,
        response: { 200: Document, ...errors },
      },
    },
    async (request) => {
      const s = system(request.params.lab);
      s.munmap(request.params.process, request.body.address, request.body.size);
      return processView(s, request.params.process);
    },
  );
  app.post(
    '/labs/:lab/processes/:process/mprotect',
    {
      schema: {
        tags: ['processes'],
        summary: 'mprotect a range (ENOMEM over a hole)',
        params: ProcessParams,
        body: ProtectBody,
        response: { 200: Document, ...errors },
      },
    },
    async (request) => {
      const s = system(request.params.lab);
      s.mprotect(request.params.process, request.body.address, request.body.size, request.body.prot);
      return processView(s, request.params.process);
    },
  );
  app.post(
    '/labs/:lab/processes/:process/populate',
    {
      schema: {
        tags: ['processes'],
        summary: 'Fault a range in (MAP_POPULATE)',
        params: ProcessParams,
        body: RangeBody,
        response: { 200: CountResult, ...errors },
      },
    },
    async (request) => ({
      pages: system(request.params.lab).populate(
        request.params.process,
        request.body.address,
        request.body.size,
      ),
    }),
  );
  app.post(
    '/labs/:lab/processes/:process/reclaim',
    {
      schema: {
        tags: ['processes'],
        summary: 'Reclaim resident pages so the next access faults (major)',
        params: ProcessParams,
        body: RangeBody,
        response: { 200: CountResult, ...errors },
      },
    },
    async (request) => ({
      pages: system(request.params.lab).reclaim(
        request.params.process,
        request.body.address,
        request.body.size,
      ),
    }),
  );
  app.post(
    '/labs/:lab/processes/:process/exit',
    {
      schema: {
        tags: ['processes'],
        summary: 'Exit the process: its mm is released, its PASID freed once unbound',
        params: ProcessParams,
        response: { 200: Document, ...errors },
      },
    },
    async (request) => {
      const s = system(request.params.lab);
      s.exitProcess(request.params.process);
      return processView(s, request.params.process);
    },
  );

  // ——— domains and mappings ———
  app.post(
    '/labs/:lab/domains',
    {
      schema: {
        tags: ['domains'],
        summary: 'Create a domain: blocked, identity, dma, nested',
        params: LabParams,
        body: DomainSpecSchema,
        response: { 201: Document, ...errors },
      },
    },
    async (request, reply) => {
      const s = system(request.params.lab);
      const domain = s.createDomain(request.body);
      return reply.status(201).send(domainView(s, domain.id));
    },
  );
  app.get(
    '/labs/:lab/domains',
    {
      schema: {
        tags: ['domains'],
        summary: 'List domains',
        params: LabParams,
        response: { 200: List, ...errors },
      },
    },
    async (request) => system(request.params.lab).describe().domains,
  );
  app.get(
    '/labs/:lab/domains/:domain',
    {
      schema: {
        tags: ['domains'],
        summary: 'A domain',
        params: DomainParams,
        response: { 200: Document, ...errors },
      },
    },
    async (request) => domainView(system(request.params.lab), request.params.domain),
  );
  app.delete(
    '/labs/:lab/domains/:domain',
    {
      schema: {
        tags: ['domains'],
        summary: 'Destroy a domain (not while attached)',
        params: DomainParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      system(request.params.lab).destroyDomain(request.params.domain);
      return reply.status(204).send(null);
    },
  );
  app.post(
    '/labs/:lab/domains/:domain/mappings',
    {
      schema: {
        tags: ['domains'],
        summary: 'Map a range (a nested domain: its guest stage 1)',
        params: DomainParams,
        body: MappingSpecSchema,
        response: { 201: MappingResult, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(201).send(system(request.params.lab).map(request.params.domain, request.body)),
  );
  app.post(
    '/labs/:lab/domains/:domain/unmap',
    {
      schema: {
        tags: ['domains'],
        summary: 'Unmap a range, invalidating IOTLB then ATCs',
        params: DomainParams,
        body: UnmapBody,
        response: { 200: Document, ...errors },
      },
    },
    async (request) => {
      const s = system(request.params.lab);
      s.unmap(request.params.domain, request.body.iova, request.body.size);
      return domainView(s, request.params.domain);
    },
  );
  app.get(
    '/labs/:lab/domains/:domain/translate',
    {
      schema: {
        tags: ['domains'],
        summary: 'iova → phys (iommu_iova_to_phys)',
        params: DomainParams,
        querystring: AddressQuery,
        response: { 200: TranslateResult, ...errors },
      },
    },
    async (request) => system(request.params.lab).iovaToPhys(request.params.domain, request.query.iova),
  );
  app.get(
    '/labs/:lab/domains/:domain/walk',
    {
      schema: {
        tags: ['domains'],
        summary: 'The page walk for an address, level by level (both stages when nested)',
        params: DomainParams,
        querystring: AddressQuery,
        response: { 200: Document, ...errors },
      },
    },
    async (request) => system(request.params.lab).walk(request.params.domain, request.query.iova),
  );
  app.post(
    '/labs/:lab/domains/:domain/handler',
    {
      schema: {
        tags: ['faults'],
        summary: "The domain's own fault handler (mainline iommufd queue, proposal guest queue)",
        params: DomainParams,
        body: HandlerSpecSchema,
        response: { 201: Document, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(system(request.params.lab).setDomainFaultHandler(request.params.domain, request.body)),
  );
};
