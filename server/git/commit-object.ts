// Reads the fields kiln shows from a raw commit object (what `git cat-file commit` prints).

export interface CommitFields {
  /** The subject: the message's first paragraph on one line, as git's `%s`. */
  message: string;
  /** The whole message, as committed (for markers such as `[skip ci]` anywhere in it). */
  body: string;
  author: string;
  authorEmail: string;
  /** Author time, ISO 8601 UTC. */
  time: string;
}

const AUTHOR = /^author (.*?) <([^>]*)> (-?\d+)(?: [+-]\d{4})?$/;

export function parseCommit(data: Buffer): CommitFields {
  const text = data.toString('utf8');
  const split = text.indexOf('\n\n');
  const headers = (split === -1 ? text : text.slice(0, split)).split('\n');
  const body = split === -1 ? '' : text.slice(split + 2);
  const author = headers.map((h) => AUTHOR.exec(h)).find((m) => m !== null);
  return {
    message: subject(body),
    body,
    author: author?.[1] ?? '',
    authorEmail: author?.[2] ?? '',
    time: new Date(Number(author?.[3] ?? 0) * 1000).toISOString(),
  };
}

/** Like git's format_subject: blank lines skipped, then the lines up to the next blank one, joined by spaces. */
function subject(body: string): string {
  const lines = body.split('\n').map((l) => l.trimEnd());
  const start = lines.findIndex((l) => l !== '');
  if (start === -1) return '';
  const end = lines.indexOf('', start);
  return lines.slice(start, end === -1 ? undefined : end).join(' ');
}
