// A recording HTTP server on loopback, standing in for a forge's API (which cannot run here):
// it keeps every request (method, path, headers, body) and answers what the test says.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded { method: string; path: string; headers: IncomingHttpHeaders; body: string; answered: number }

export interface Recorder {
  url: string;
  requests: Recorded[];
  /** The status every request gets from now on (default 201). */
  answer(status: number): void;
  close(): Promise<void>;
}

/** `port`: listen there (a forge that comes back where it was); default any free port. */
export async function startRecorder(port = 0): Promise<Recorder> {
  const requests: Recorded[] = [];
  let status = 201;
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (d: string) => (body += d));
    request.on('end', () => {
      requests.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body, answered: status });
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(status < 300 ? '{"id":1}' : '{"message":"unavailable"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    answer: (s) => void (status = s),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
