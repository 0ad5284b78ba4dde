// Websocket stream readers in their own process, for the fan-out benchmark. `readers URL N`: opens N
// streaming clients that parse every message, sends "ready" once each has its hello, and counts events
// until told to stop. `probe URL BASE N`: times N /healthz requests (one every 5 ms) and N new clients
// (from `new WebSocket` to their hello, one after another); prints {healthzMs, helloMs}.
import { WebSocket } from 'ws';

const [mode, url] = process.argv.slice(2);

if (mode === 'readers') {
  const count = Number(process.argv[4]);
  let greeted = 0;
  let events = 0;
  const sockets = [];
  for (let index = 0; index < count; index++) {
    const socket = new WebSocket(url);
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw));
      if (message.type === 'hello' && ++greeted === count) process.send('ready');
      if (message.type === 'events') events += message.events.length;
    });
    socket.on('error', (error) => {
      console.error(error.message);
      process.exit(1);
    });
    sockets.push(socket);
  }
  process.on('message', () => {
    for (const socket of sockets) socket.terminate();
    process.stdout.write(JSON.stringify({ events }));
    process.exit(0);
  });
} else {
  const base = process.argv[4];
  const count = Number(process.argv[5]);
  // The process's first requests set up its HTTP client: not part of what is measured.
  for (let index = 0; index < 20; index++) await (await fetch(`${base}/healthz`)).text();
  const healthzMs = [];
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    const response = await fetch(`${base}/healthz`);
    await response.text();
    healthzMs.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const helloMs = [];
  for (let index = 0; index < Math.ceil(count / 10); index++) {
    const started = performance.now();
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.on('message', (raw) => {
        if (JSON.parse(String(raw)).type === 'hello') resolve();
      });
      socket.on('error', reject);
    });
    helloMs.push(performance.now() - started);
    socket.terminate();
  }
  process.stdout.write(JSON.stringify({ healthzMs, helloMs }));
  process.exit(0);
}
