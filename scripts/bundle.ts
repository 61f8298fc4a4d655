// `npm run build`'s second step: bundles tsc's output (dist/scripts/kiln.js and everything it
// imports) into dist/bundle/, what `npm start`, the `kiln` bin and the images run. Node 20
// loads each ES module file on its own (resolve, read, compile); the ~270 files the server
// started with cost it about a quarter of its start (scripts/bench/idle-rss.ts, against tsc's
// output with BENCH_KILN=dist/scripts/kiln.js: spawn → /healthz ~0.65 → ~0.45 s). esbuild
// does what a bundler should and nothing more: tsc stays the one compiler, and the bundle is a
// mechanical concatenation of its JavaScript, with a source map back to the TypeScript.
//
// Left out of the bundle, loaded from node_modules at run time: better-sqlite3 (a native addon)
// and dockerode (optional native parts); the CommonJS packages the code `require`s on purpose
// (ws, pino, yaml) stay outside too, since esbuild does not follow createRequire.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../..', import.meta.url));
const outdir = `${root}dist/bundle`;

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  // The agent's tar thread is a file of its own (agent/files/tar-thread.ts starts it beside itself).
  entryPoints: { kiln: 'dist/scripts/kiln.js', 'tar-worker': 'dist/agent/files/tar-worker.js' },
  outdir,
  bundle: true,
  // One chunk per command's own code, loaded when the command runs: `kiln validate` does not
  // load the server.
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'dockerode'],
  // CommonJS inside the bundle calls require(): give each chunk a real one.
  banner: { js: "import { createRequire as __kilnCreateRequire } from 'node:module'; const require = __kilnCreateRequire(import.meta.url);" },
  // Whitespace and syntax only: names stay, so stack traces read as the source does.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  logLevel: 'warning',
});
if (result.errors.length > 0) process.exitCode = 1;

// V8 keeps each module's source in memory for as long as the process lives, in one byte per
// character while every character is Latin-1, and in two once a single one is not. esbuild
// escapes what it can, but not inside String.raw templates (the dashboard's scripts), where
// one '…' once doubled the server chunk's 400 KB in the idle server's heap. Such a character
// is written as a \u escape in those scripts instead; this check keeps it so.
for (const name of readdirSync(outdir).filter((f) => f.endsWith('.js'))) {
  const text = readFileSync(`${outdir}/${name}`, 'utf8');
  const at = text.search(/[^\u0000-\u00ff]/u);
  if (at >= 0) {
    const line = text.slice(0, at).split('\n').length;
    console.error(`bundle: dist/bundle/${name} line ${line} has a character outside Latin-1 (${JSON.stringify(text[at])}): write it as a \\u escape in the source, or V8 keeps the whole chunk in two bytes per character`);
    process.exitCode = 1;
  }
}
