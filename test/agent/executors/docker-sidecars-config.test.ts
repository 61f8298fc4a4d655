// Sidecar settings that need no engine: dockerd's command line, dind security, port clashes, dood through tcp://.
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { dindCommand, dindHostConfig } from '../../../agent/executors/docker/dind-settings.js';
import { checkPortClashes } from '../../../agent/executors/docker/network.js';
import { doodAccess } from '../../../agent/executors/docker/sidecars-dood.js';
import type { PlannedService } from '../../../shared/pipeline/types.js';

const machine = {
  privileged: false as const, capAdd: ['SYS_ADMIN', 'NET_ADMIN'], cgroupnsHost: true,
  securityOpt: ['seccomp=unconfined', 'apparmor=unconfined', 'systempaths=unconfined'],
  binds: ['/sys/fs/cgroup:/sys/fs/cgroup:rw'], daemonArgs: ['--bridge=none', '--iptables=false', '--ip6tables=false'],
};
const svc = (name: string, ports: number[]): PlannedService => ({ name, image: 'busybox', env: {}, command: null, entrypoint: null, ports });

describe('dind settings', () => {
  it('gives an image whose entrypoint is dockerd only flags, and one with an entrypoint script `dockerd …`', () => {
    expect(dindCommand(['dockerd', '--host=unix:///var/run/docker.sock'], { mode: 'host' }, 41234, machine))
      .toEqual(['--host=tcp://127.0.0.1:41234', '--tls=false', '--bridge=none', '--iptables=false', '--ip6tables=false']);
    expect(dindCommand(['dockerd-entrypoint.sh'], { mode: 'bridge', name: 'kiln-job-7' }, 2375, { privileged: true }))
      .toEqual(['dockerd', '--host=unix:///var/run/docker.sock', '--host=tcp://0.0.0.0:2375', '--tls=false']);
  });

  it("keeps a privileged daemon on the host's network off the host's bridges and iptables", () => {
    expect(dindCommand(null, { mode: 'host' }, 40000, { privileged: true }))
      .toEqual(['dockerd', '--host=unix:///var/run/docker.sock', '--host=tcp://127.0.0.1:40000', '--tls=false', '--bridge=none', '--iptables=false', '--ip6tables=false']);
  });

  it('turns the CLI-only systempaths=unconfined into empty masked and read-only paths', () => {
    expect(dindHostConfig(machine)).toEqual({
      CapAdd: ['SYS_ADMIN', 'NET_ADMIN'], SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
      Binds: ['/sys/fs/cgroup:/sys/fs/cgroup:rw'], MaskedPaths: [], ReadonlyPaths: [], CgroupnsMode: 'host',
    });
    expect(dindHostConfig({ privileged: true })).toEqual({ Privileged: true });
  });
});

describe('host networking ports', () => {
  it('accepts distinct ports, and one service declaring a port twice', () => {
    expect(() => checkPortClashes([svc('db', [5432, 5432]), svc('cache', [6379])])).not.toThrow();
  });

  it('names both services and the port when two declare the same one', () => {
    expect(() => checkPortClashes([svc('db', [5432]), svc('cache', [6379]), svc('db2', [5432])]))
      .toThrow('services "db" and "db2" both declare port 5432');
  });
});

describe('dood', () => {
  it('passes a tcp:// engine as DOCKER_HOST, and says so in the log', async () => {
    const lines: string[] = [];
    const access = await doodAccess(new Docker({ host: 'build-host-3', port: 2375 }), { mode: 'host' }, (t) => lines.push(t));
    expect(access).toEqual({ binds: [], env: { DOCKER_HOST: 'tcp://build-host-3:2375' } });
    expect(lines).toEqual(["docker: dood: the agent's engine is tcp://build-host-3:2375, not a socket, so the job gets DOCKER_HOST=tcp://build-host-3:2375"]);
  });

  it("mounts the engine's unix socket where the job's docker CLI looks for it", async () => {
    const access = await doodAccess(new Docker({ socketPath: '/run/user/1000/docker.sock' }), { mode: 'host' }, () => {});
    expect(access).toEqual({ binds: ['/run/user/1000/docker.sock:/var/run/docker.sock'], env: {} });
  });
});
