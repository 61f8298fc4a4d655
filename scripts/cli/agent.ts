// `kiln agent`: connects to a kiln server and runs the jobs it hands over, until drained or stopped.
import { homedir, hostname } from 'node:os';
import { loadAgentConfig } from '../../agent/config.js';
import { KilnError } from '../../shared/errors.js';
import { parseCommand } from './args.js';

const USAGE = `Usage: kiln agent [options]

Connects to a kiln server and runs the jobs it hands over: as host processes, or in
containers when a job names an image and a Docker engine answers (the agent then adds
the label \`docker\`).

Options (each also read from the environment variable shown):
  --server URL      the server, e.g. http://ci:8080                      KILN_SERVER (required)
  --token-file FILE a file holding the server's agent token             KILN_AGENT_TOKEN_FILE
                    (<data>/agent.token); kept out of the process list
  --token TOKEN     the token itself (seen by \`ps\`: prefer --token-file)  KILN_AGENT_TOKEN
                    one of the two is required
  --labels A,B      labels jobs can ask for with runs-on (default linux) KILN_LABELS
  --capacity N      jobs run at once (default 1)                         KILN_CAPACITY
  --name NAME       how the server shows this agent (default host-xxxx)  KILN_AGENT_NAME
  --pool POOL       the pool that started this agent (none by hand)      KILN_POOL
  --work-dir DIR    workspaces, git cache and log spool (~/.kiln-agent)  KILN_AGENT_DIR
  --git-cache DIR   a git cache shared by the host's agents (default:    KILN_GIT_CACHE
                    <work-dir>/git); pools pass one that outlives agents
  --orphan-timeout  with --pool: exit after the server was unreachable     KILN_ORPHAN_TIMEOUT
                    this long, cancelling running jobs (default 10m; 90s, 1h30m…)
  --cache-local-max cache archives kept on this host to skip downloads    KILN_CACHE_LOCAL_MAX
                    (default 5GiB, least recently used removed first; 0: none)
  --cache-local-dir DIR  those copies, shared by the host's agents        KILN_CACHE_LOCAL_DIR
                    (default <work-dir>/cache-blobs); pools pass one that outlives agents
  --once            take one job, finish it, and exit
  --no-docker       take no image jobs even when a Docker engine answers  KILN_DOCKER=0
  --docker-host H   the engine (default $DOCKER_HOST or the local socket) KILN_DOCKER_HOST
  --docker-network  bridge (a network per job, default) or host           KILN_DOCKER_NETWORK
                    (host: for engines without a bridge; services at 127.0.0.1)
  --docker-ca-bundle FILE                                                 KILN_DOCKER_CA_BUNDLE
                    a PEM bundle on the engine's host, mounted over
                    each job container's, with NODE_EXTRA_CA_CERTS and SSL_CERT_FILE
                    set to it (for registries behind a TLS-intercepting proxy)
  --docker-volumes  host paths every job container mounts: LIST of       KILN_DOCKER_VOLUMES
                    host:container[:ro|rw] split by commas or new lines (default rw),
                    absolute, without ".."; pipelines cannot mount host paths
  --env-passthrough more of the agent's variables for host jobs: names   KILN_AGENT_ENV_PASSTHROUGH
                    or globs (NODE_EXTRA_CA_CERTS,SSL_*); host jobs get PATH, HOME,
                    USER, LOGNAME, SHELL, TMPDIR, TZ, locale and proxies anyway, and
                    never KILN_* (tokens, settings) nor a variable holding the token
  KILN_DIND_SECURITY=privileged (default) or unprivileged: dind with KILN_DIND_CAP_ADD
  (default SYS_ADMIN,NET_ADMIN) and KILN_DIND_SECURITY_OPT (default seccomp=unconfined,
  apparmor=unconfined,systempaths=unconfined), for hosts that refuse privileged containers.

Logs go to stderr as JSON lines (KILN_LOG_LEVEL, default info). SIGTERM or Ctrl-C drains:
no new jobs, the running ones finish, then the agent exits 0 once every result is delivered,
or at once when the server is unreachable and the results are safe in the spool (they go
out at the agent's next start); a second signal cancels the running jobs.`;

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, {
    server: { type: 'string' },
    token: { type: 'string' },
    'token-file': { type: 'string' },
    labels: { type: 'string' },
    capacity: { type: 'string' },
    name: { type: 'string' },
    pool: { type: 'string' },
    'work-dir': { type: 'string' },
    once: { type: 'boolean' },
    'no-docker': { type: 'boolean' },
    'docker-host': { type: 'string' },
    'docker-network': { type: 'string' },
    'git-cache': { type: 'string' },
    'orphan-timeout': { type: 'string' },
    'docker-ca-bundle': { type: 'string' },
    'docker-volumes': { type: 'string' },
    'env-passthrough': { type: 'string' },
    'cache-local-max': { type: 'string' },
    'cache-local-dir': { type: 'string' },
  }, USAGE);
  if (!parsed) return 0;
  if (parsed.positionals.length > 0) {
    console.error(`kiln agent: unexpected argument "${parsed.positionals[0]}" (run \`kiln agent --help\`)`);
    return 2;
  }
  const {
    'work-dir': workDir, 'no-docker': noDocker, 'docker-host': dockerHost, 'docker-network': dockerNetwork, 'git-cache': gitCache,
    'orphan-timeout': orphanTimeout, 'docker-ca-bundle': dockerCaBundle, 'docker-volumes': dockerVolumes, 'env-passthrough': envPassthrough,
    'cache-local-max': cacheLocalMax, 'cache-local-dir': cacheLocalDir, 'token-file': tokenFile, ...flags
  } = parsed.values;
  try {
    const config = loadAgentConfig({
      flags: { ...flags, workDir, noDocker, dockerHost, dockerNetwork, gitCache, orphanTimeout, dockerCaBundle, dockerVolumes, envPassthrough, cacheLocalMax, cacheLocalDir, tokenFile },
      env: process.env, cwd: process.cwd(), homeDir: homedir() || null, hostname: hostname(),
    });
    const { runAgent } = await import('../../agent/main.js');
    return await runAgent({ config, env: process.env });
  } catch (error) {
    if (!(error instanceof KilnError)) throw error;
    console.error(`kiln agent: ${error.message}`);
    return error.code === 'bad_input' ? 2 : 1;
  }
}
