// Secret input for the CLI (secret values, passwords): all of a pipe or file, or a line typed
// at a terminal without echo. Never an argument: that would show in the process list and history.
import { UsageError } from './args.js';

/** A piped value: `echo value |` adds a newline the secret does not have; a multi-line value is kept as it is. */
export function piped(text: string): string {
  const single = text.replace(/\r?\n$/, '');
  return /[\r\n]/.test(single) ? text : single;
}

export async function readSecretInput(prompt: string, command: string): Promise<string> {
  const stdin = process.stdin;
  if (stdin.isTTY) return readHidden(prompt, command);
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(chunk as Buffer);
  return piped(Buffer.concat(chunks).toString('utf8'));
}

function readHidden(prompt: string, command: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (error: Error | null) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (data: Buffer) => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done(null);
        if (ch === '\u0003') return done(new UsageError(`${command}: cancelled`));
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}
