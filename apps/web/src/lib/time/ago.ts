/** Wall time since an instant, in the unit a person reads it in: "2 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function ago(instant: string, nowMs: number): string {
  // A clock a little ahead of this page's (another machine's) is not "in the future": it is now.
  const seconds = Math.max(0, Math.floor((nowMs - Date.parse(instant)) / 1000));
  if (seconds < 120) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** A wall-clock span between two instants, with its unit: "850 ms", "12.4 s", "3.5 min". */
export function wallSpan(fromIso: string, toIso: string): string {
  const ms = Math.max(0, Date.parse(toIso) - Date.parse(fromIso));
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
