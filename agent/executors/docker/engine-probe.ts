// A few GETs to the Docker API over plain HTTP (unix socket or tcp), for the agent's start.
import { request } from 'node:http';
import type { DockerConfig } from '../../config.js';

export type ProbeTarget = { socketPath: string } | { host: string; port: number };

/**
 * Where to ask without dockerode: a unix socket, or tcp without TLS. Null (ask through
 * dockerode) for TLS or other schemes (ssh://), whose set-up dockerode knows.
 */
export function probeTarget(config: DockerConfig): ProbeTarget | null {
  if (config.tls) return null;
  const host = config.host ?? config.defaultHost ?? 'unix:///var/run/docker.sock';
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  if (!host.startsWith('tcp://')) return null;
  const url = new URL(host.replace(/^tcp:/, 'http:'));
  return { host: url.hostname, port: Number(url.port || 2375) };
}

/** The parsed JSON (or text) of a 2xx answer; null for anything else, errors included. */
export function dockerGet(target: ProbeTarget, path: string, timeoutMs = 3000): Promise<unknown> {
  return new Promise((resolve) => {
    const req = request({ ...target, path, method: 'GET', timeout: timeoutMs, headers: { host: 'docker' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (text: string) => { body += text; });
      res.on('end', () => {
        if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) return resolve(null);
        try {
          resolve(JSON.parse(body));
        } catch {
          resolve(body); // `/_ping` answers `OK`
        }
      });
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}
