// A websocket stream reader in its own process, doing what a real client does with each message: parses it
// and, for a `tuples` batch, decodes its rows into event objects with the client's own decoder
// (@iommu-lab/client's EventTupleDecoder), so that every batch ends as event objects whichever the encoding
// (JSON.parse builds them for `json` batches). With encoding `tuples` it subscribes for that encoding first.
// After a warm-up it counts events (and drops told) for a while; prints {events, dropped, seconds}.
import { register } from 'tsx/esm/api';
import { WebSocket } from 'ws';

register();
const { EventTupleDecoder } = await import('@iommu-lab/client');

const [url, warmupMs, measureMs, encoding] = [
  process.argv[2],
  Number(process.argv[3]),
  Number(process.argv[4]),
  process.argv[5] ?? 'json',
];
const decoder = new EventTupleDecoder();
const socket = new WebSocket(url);
let events = 0;
let dropped = 0;
let measuring = false;
socket.on('message', (raw) => {
  const message = JSON.parse(String(raw));
  const batch = message.type === 'event-tuples' ? decoder.decode(message) : message.events;
  if (!measuring) return;
  if (batch) {
    events += batch.length;
    dropped += message.dropped;
  } else if (message.type === 'dropped') dropped += message.count;
});
socket.on('open', () => {
  if (encoding !== 'json') socket.send(JSON.stringify({ type: 'subscribe', encoding }));
  process.send?.('open');
  setTimeout(() => {
    measuring = true;
    const started = performance.now();
    setTimeout(() => {
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write(JSON.stringify({ events, dropped, seconds }));
      socket.terminate();
      process.exit(0);
    }, measureMs);
  }, warmupMs);
});
socket.on('error', (error) => {
  console.error(error.message);
  process.exit(1);
});
