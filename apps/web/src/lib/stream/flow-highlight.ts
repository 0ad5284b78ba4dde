/**
 * The rows that share a fault flow with the selected one (the table highlights them, the detail pane
 * counts them). Found by one scan of the shown rows when the selection changes, then kept up as batches
 * arrive (only the new rows are looked at) and as the ring forgets its oldest rows: never a rescan per redraw.
 */
import { type EventRow, sharesFlow } from '../events';

export class FlowHighlight {
  private flows: readonly number[] = [];
  private selectedSeq = -1;
  /** Sequence numbers of the related rows, oldest first (rows arrive in sequence order). */
  private readonly related = new Set<number>();

  /** Rows sharing a flow with the selected one, the selected row left out. */
  get count(): number {
    return this.related.size;
  }

  has(row: EventRow): boolean {
    return this.related.has(row.seq);
  }

  /** A new selection (or none) among the rows shown, oldest first. */
  select(row: EventRow | null, shown: Iterable<EventRow>): void {
    this.related.clear();
    this.flows = row?.flows ?? [];
    this.selectedSeq = row?.seq ?? -1;
    this.add(shown);
  }

  /** Rows newly shown, oldest first: those of the selected flows join the highlight. */
  add(rows: Iterable<EventRow>): void {
    if (this.flows.length === 0) return;
    for (const row of rows) {
      if (row.seq !== this.selectedSeq && sharesFlow(this.flows, row.flows)) this.related.add(row.seq);
    }
  }

  /** The shown rows now begin at `oldestSeq`: older related rows are gone from the table. */
  forgetBefore(oldestSeq: number): void {
    for (const seq of this.related) {
      if (seq >= oldestSeq) return;
      this.related.delete(seq);
    }
  }
}
