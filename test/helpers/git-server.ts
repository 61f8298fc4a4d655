// The real git server on loopback lives with the benchmarks, which use it too.
export { startGitServer, type GitServer, type GitServerOptions } from '../../scripts/bench/git-server.js';
