/** A fault-log row as the tests write them: a PRI flow resumed after a queue wait and a handler, by seq. */
import { type FaultRecordView, type FaultRow, faultRowOf } from '../fault-log';

export function testRow(seq: number, overrides: Partial<FaultRecordView> = {}): FaultRow {
  return faultRowOf({
    seq,
    timeNs: seq * 10,
    device: 'nic0',
    pasid: 1,
    address: '0x1000',
    access: 'r',
    category: 'BIND',
    stage: 1,
    kind: 'page-request',
    code: 'SUCCESS',
    latencyNs: 500,
    flow: seq + 1,
    outcome: 'resumed',
    endNs: seq * 10 + 500,
    causes: '',
    queueWaitNs: 200,
    handlerNs: 300,
    ...overrides,
  });
}
