/** @iommu-lab/wire: every shape that crosses the API's wire, as TypeBox (JSON Schema). */
export * from './common';
export * from './labs';
export * from './resources';
export * from './events';
export * from './flows';
export * from './records';
export const API_PREFIX = '/api/v1';
export * from './experiments';
export * from './series';
export * from './iommufd';
export * from './injection';
export * from './studies';
