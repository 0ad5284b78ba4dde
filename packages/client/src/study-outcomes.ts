/**
 * A study run's runs by outcome in words, "44 done, 4 stopped as a livelock": a livelock or a kernel
 * profile's refusal answers a study as a finished run does (the API's studies/run-outcome.ts).
 */
import type { StudyRunView } from './types';

const WORDS: Record<string, string> = {
  livelock: 'stopped as a livelock',
  refused: 'refused by their kernel profile',
};

export const studyOutcomes = (view: Pick<StudyRunView, 'outcomes'>): string =>
  Object.entries(view.outcomes)
    .map(([outcome, count]) => `${count.toLocaleString('en-US')} ${WORDS[outcome] ?? outcome}`)
    .join(', ');
