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
export { ApiError, ConnectionError, isApiError } from './errors';
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
export {
  EventStream,
  FaultHandler,
  LabStream,
  matchesFilter,
  type AwaitingFault,
  type EventStreamOptions,
  type FaultAnswer,
  type FaultPolicy,
} from './stream';
export type * from './types';
