/**
 * The page request queue overflow storm, caught as a livelock. When an IOMMU's page request queue is full
 * a request is lost, and the IOMMU answers a lost last request with Success itself (reference §7 [?]); the
 * device retries the whole group, the queue is still full, and round it goes. The driver frees the queue
 * a batch at a time (prq_event_thread reads head to tail, then writes PQH), so each batch lets in one
 * queue's worth of requests and refuses every retry until the next batch. At the default latencies a
 * batch of 2048 entries (200 ns each) lasts as long as ~137 PRI retries, so every request outstanding
 * beyond the queue's depth is lost ~137 times per queue's worth of progress: the run advances at the
 * drain rate while its work grows with every device (400 PRI devices with 32-page groups lose ~1 200 page
 * requests per fault that gets through, and 1 000 devices had 244 of 4 000 transactions done after 32 M
 * page requests and 98 s of the host's time).
 *
 * What is measured, per IOMMU: page requests lost to the overflow (refused by the full queue, or taken as
 * partials and discarded after it, iopf_queue_discard_partial) per useful fault (a request the driver read
 * and the iopf core made part of a group, or answered on its own), over a window of the driver's last
 * WINDOW_BATCHES batches. Lost requests rather than automatic retries: a retry re-sends its group's pages,
 * so the lost requests are the work wasted whatever the group size. Useful when the group is built rather
 * than when it is answered: handlers take tens of µs to ms, and a storm loses hundreds of thousands of
 * requests meanwhile; partials do not count until their last request comes, since a group whose last
 * request never gets in is no progress however many of its partials do. Batches rather than simulated
 * time or a count of requests: a batch is the storm's own period (a window of requests shorter than a
 * batch would see nothing read; a window of simulated time as long as a few batches takes minutes of the
 * host's time in a large storm). Judged from the driver's first batch on (before it nothing was read), at
 * every refused request, so a storm trips within a batch, after about bound × depth lost requests.
 *
 * Past `bound` the detector trips once; the fault path stops the system (fault-path.ts `livelocked`).
 * Nothing here allocates after construction, and it reads only counts, so it is deterministic.
 */
/** The system option `livelock` (config/system-config.ts), with its default filled in. */
export interface LivelockOptions {
  /** Lost page requests per useful fault past which the system stops; 0 turns detection off. */
  bound: number;
}

/**
 * 256, from the peak ratio of runs at the default latencies and a 2048-entry PRQ (32-page groups; the
 * README's table): oversubscribed 1.5× it peaks at 5 and finishes, 2× at 64 and finishes, 3× at ~340,
 * 400 devices at ~1 200, 1 000 devices at ~1 600. So 256 stops a queue kept ~3× oversubscribed, the
 * issue's storms with a wide margin, and leaves congested runs that finish alone
 * (fault/overflow-storm-livelock.test.ts).
 */
export const DEFAULT_LIVELOCK: LivelockOptions = { bound: 256 };

/** The driver batches the window spans. */
const WINDOW_BATCHES = 8;

/** What tripped the detector: the window's figures. */
export interface LivelockFigures {
  /** Driver batches in the window (fewer at the start of a run). */
  windowBatches: number;
  /** Page requests that reached the queue in the window. */
  windowRequests: number;
  /** Lost to the overflow: refused by the full queue, or discarded as partials after it. */
  lostRequests: number;
  /** Automatic Success responses the IOMMU sent for refused last requests (each one a group retried). */
  overflowRetries: number;
  /** Requests the driver read that became part of a group (or were answered on their own). */
  usefulFaults: number;
  /** lostRequests / usefulFaults (lostRequests itself when nothing got through). */
  lostPerUsefulFault: number;
  bound: number;
}

/** A figures record to fill (one per fault path: `check` writes into it rather than allocate). */
export function newLivelockFigures(): LivelockFigures {
  return {
    windowBatches: 0,
    windowRequests: 0,
    lostRequests: 0,
    overflowRetries: 0,
    usefulFaults: 0,
    lostPerUsefulFault: 0,
    bound: 0,
  };
}

export class LivelockDetector {
  /** Per batch of the window, by slot: the queue's `accepted` when it began, and what it lost. */
  private readonly acceptedAtStart = new Float64Array(WINDOW_BATCHES);
  private readonly refusedIn = new Float64Array(WINDOW_BATCHES);
  private readonly discardedIn = new Float64Array(WINDOW_BATCHES);
  private readonly retriesIn = new Float64Array(WINDOW_BATCHES);
  private readonly usefulIn = new Float64Array(WINDOW_BATCHES);
  /** Batches begun; batch 0 is the time before the driver's first one. */
  private batch = 0;
  private tripped = false;

  constructor(
    private readonly bound: number,
    /** The page request queue watched: its count of entries taken (hardware-queue.ts). */
    private readonly queue: { readonly accepted: number },
  ) {}

  /** The driver begins a batch: the window slides by one. */
  batchBegins(): void {
    const slot = ++this.batch % WINDOW_BATCHES;
    this.acceptedAtStart[slot] = this.queue.accepted;
    this.refusedIn[slot] = 0;
    this.discardedIn[slot] = 0;
    this.retriesIn[slot] = 0;
    this.usefulIn[slot] = 0;
  }

  /** The full queue refused a request. */
  refused(): void {
    const slot = this.batch % WINDOW_BATCHES;
    this.refusedIn[slot] = this.refusedIn[slot]! + 1;
  }

  /** The IOMMU answered a refused last request with Success: its group comes back. */
  retried(): void {
    const slot = this.batch % WINDOW_BATCHES;
    this.retriesIn[slot] = this.retriesIn[slot]! + 1;
  }

  /** Partials discarded after an overflow: taken, but lost after all. */
  discarded(requests: number): void {
    const slot = this.batch % WINDOW_BATCHES;
    this.discardedIn[slot] = this.discardedIn[slot]! + requests;
  }

  /** The iopf core made `faults` requests a group (or answered one on its own). */
  progressed(faults: number): void {
    const slot = this.batch % WINDOW_BATCHES;
    this.usefulIn[slot] = this.usefulIn[slot]! + faults;
  }

  /** Past the bound over the window: trips (once) and fills `figures`. */
  check(figures: LivelockFigures): boolean {
    if (this.tripped || this.bound === 0 || this.batch === 0) return false;
    const batches = Math.min(this.batch + 1, WINDOW_BATCHES);
    let refused = 0;
    let discarded = 0;
    let retries = 0;
    let useful = 0;
    for (let i = 0; i < WINDOW_BATCHES; i++) {
      refused += this.refusedIn[i]!;
      discarded += this.discardedIn[i]!;
      retries += this.retriesIn[i]!;
      useful += this.usefulIn[i]!;
    }
    const oldest = (this.batch - batches + 1) % WINDOW_BATCHES;
    const accepted = this.queue.accepted - this.acceptedAtStart[oldest]!;
    const lost = refused + discarded;
    const ratio = lost / Math.max(useful, 1);
    if (ratio <= this.bound) return false;
    this.tripped = true;
    figures.windowBatches = batches;
    figures.windowRequests = accepted + refused;
    figures.lostRequests = lost;
    figures.overflowRetries = retries;
    figures.usefulFaults = useful;
    figures.lostPerUsefulFault = ratio;
    figures.bound = this.bound;
    return true;
  }
}

const COUNT = new Intl.NumberFormat('en-US');
const RATIO = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** The figures in one sentence, for a run's error and the CLI. */
export function describeLivelock(
  iommu: string,
  queue: string,
  atNs: number,
  figures: LivelockFigures,
): string {
  const per =
    figures.usefulFaults === 0
      ? 'and not one got through'
      : `for ${COUNT.format(figures.usefulFaults)} that got through: ${RATIO.format(figures.lostPerUsefulFault)} lost per useful fault`;
  return (
    `livelock: page request queue overflow storm on ${iommu} (${queue}): in the driver's last ` +
    `${figures.windowBatches} batches, ${COUNT.format(figures.lostRequests)} of ` +
    `${COUNT.format(figures.windowRequests)} page requests were lost to the overflow ` +
    `(${COUNT.format(figures.overflowRetries)} retried after the IOMMU's automatic Success) ${per}, ` +
    `past the bound of ${COUNT.format(figures.bound)} (system option livelock.bound); ` +
    `the system stopped at ${COUNT.format(atNs)} ns of simulated time`
  );
}
