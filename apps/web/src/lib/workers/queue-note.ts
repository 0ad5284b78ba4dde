/** What to say of the job queue's Redis connection (WorkersView.queue) while it is not ready. */
import type { WorkersView } from '@iommu-lab/client';

/** null when there is nothing to say: no queue (said apart), or a ready one. */
export function queueNote(queue: WorkersView['queue']): string | null {
  if (!queue || queue.state === 'ready') return null;
  const failures =
    queue.failures === undefined
      ? ''
      : ` (${queue.failures} ${queue.failures === 1 ? 'failure' : 'failures'})`;
  const what = queue.state === 'unreachable' ? 'is unreachable' : 'is connecting';
  return `The job queue's Redis ${what}${failures}${queue.error ? `: ${queue.error}` : '.'}`;
}
