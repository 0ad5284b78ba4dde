/**
 * The dashboard's one client of the API: @iommu-lab/client (the same typed client the CLI and scripts use),
 * for the page's own origin, so the same build works behind `vite dev`'s proxy and when the API serves it.
 */
import { createClient, isApiError } from '@iommu-lab/client';

// Unit tests import the state modules under Node, where there is no page (and nothing is fetched).
const origin = typeof location === 'undefined' ? 'http://localhost' : location.origin;

export const api = createClient({ baseUrl: origin });

/** The message of any error, with the API's code in front when it has one. */
export function describeError(error: unknown): { code: string; message: string; reason?: string } {
  if (isApiError(error)) {
    return { code: error.code, message: error.message, ...(error.reason ? { reason: error.reason } : {}) };
  }
  return { code: 'ERROR', message: error instanceof Error ? error.message : String(error) };
}
