// An HTTP sink for the fan-out benchmark, run as its own process: answers 204 to every POST and counts them.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let accepted = 0;
const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
  req.resume();
  req.on('end', () => {
    accepted++;
    res.writeHead(204).end();
  });
});
server.listen(0, '127.0.0.1', () => {
  process.send!({ port: (server.address() as AddressInfo).port });
});
process.on('message', (m: { count?: boolean }) => {
  if (m.count) process.send!({ accepted });
});
process.on('disconnect', () => process.exit(0));
