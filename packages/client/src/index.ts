/** @iommu-lab/client: a typed client of the iommu-lab API (REST + websockets). */
export {
  API_PREFIX,
  FINISHED_RUN_STATUSES,
  IommuLabClient,
  createClient,
  queryString,
  type ClientOptions,
  type DownloadFormat,
  type Query,
  type SweepWaitOptions,
  type WaitOptions,
} from './client';
export { ApiError, ConnectionError, ProtocolError, isApiError } from './errors';
export { EventTupleDecoder } from './event-tuples';
export {
  HEADLINE_FIGURES,
  RUN_FIGURES,
  headlineFigures,
  type ComparedFigure,
  type FigureSection,
  type FigureUnit,
  type HeadlineFigure,
} from './headline';
export { JsonSocket } from './socket';
export { studyOutcomes } from './study-outcomes';
export { IommufdChannel } from './iommufd-channel';
export {
  EventStream,
  FaultHandler,
  LabStream,
  matchesFilter,
  type AwaitingFault,
  type EventStreamOptions,
  type FaultAnswer,
  type FaultPolicy,
  type LabStreamMessage,
} from './stream';
export type * from './types';
