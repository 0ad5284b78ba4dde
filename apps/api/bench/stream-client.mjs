// A websocket stream reader in its own process: connects, parses every message as a real client would,
// and after a warm-up counts events (and drops told) for a while; prints {events, dropped, seconds}.
import { WebSocket } from 'ws';

const [url, warmupMs, measureMs] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const socket = new WebSocket(url);
let events = 0;
let dropped = 0;
let measuring = false;
socket.on('message', (raw) => {
  const message = JSON.parse(String(raw));
  if (!measuring) return;
  if (message.type === 'events') {
    events += message.events.length;
    dropped += message.dropped;
  } else if (message.type === 'dropped') dropped += message.count;
});
socket.on('open', () => {
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
