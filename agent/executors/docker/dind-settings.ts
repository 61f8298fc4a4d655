// How a dind daemon runs: its image, dockerd's flags, and the container's security settings.
import { basename } from 'node:path';
import type Docker from 'dockerode';
import type { SidecarNetwork } from './network.js';

export const DIND_IMAGE = 'docker:dind';
/** The name a job reaches its dind daemon by on a per-job network. */
export const DIND_ALIAS = 'dind';

/** How the dind container may run: privileged, or the explicit set for hosts that refuse privileged. */
export type DindSecurity =
  | { privileged: true }
  | { privileged: false; capAdd: string[]; securityOpt: string[]; cgroupnsHost: boolean; binds: string[]; daemonArgs: string[] };

/**
 * dockerd's command line. On the host's network the daemon must not touch the host's bridges
 * or iptables, so it gets `--bridge=none --iptables=false --ip6tables=false` whatever the
 * security set says. An image whose entrypoint is dockerd itself takes flags only; one with an
 * entrypoint script (upstream docker:dind) takes `dockerd …`, which also skips its default
 * 0.0.0.0:2375/2376 listener — a clash between parallel jobs on the host's network.
 */
export function dindCommand(entrypoint: string[] | null | undefined, net: SidecarNetwork, port: number, security: DindSecurity): string[] {
  const flags = [`--host=tcp://${net.mode === 'host' ? '127.0.0.1' : '0.0.0.0'}:${port}`, '--tls=false',
    ...(security.privileged ? [] : security.daemonArgs),
    ...(net.mode === 'host' ? ['--bridge=none', '--iptables=false', '--ip6tables=false'] : [])];
  const unique = [...new Set(flags)];
  return basename(entrypoint?.[0] ?? '') === 'dockerd' ? unique : ['dockerd', '--host=unix:///var/run/docker.sock', ...unique];
}

/**
 * The dind container's security settings. `systempaths=unconfined` is a docker CLI spelling,
 * not an engine one: it becomes empty MaskedPaths and ReadonlyPaths (so dockerd can use /proc and /sys).
 */
export function dindHostConfig(security: DindSecurity): Docker.HostConfig {
  if (security.privileged) return { Privileged: true };
  const systemPaths = security.securityOpt.some((opt) => /^systempaths[=:]unconfined$/.test(opt));
  return {
    CapAdd: security.capAdd,
    SecurityOpt: security.securityOpt.filter((opt) => !/^systempaths[=:]/.test(opt)),
    Binds: security.binds,
    ...(systemPaths ? { MaskedPaths: [], ReadonlyPaths: [] } : {}),
    ...(security.cgroupnsHost ? { CgroupnsMode: 'host' } : {}),
  } as Docker.HostConfig;
}
