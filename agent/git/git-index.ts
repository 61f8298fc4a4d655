// Reads the paths a work tree tracks from git's index file (`.git/index`, DIRC versions 2, 3 and 4).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** Why the index could not be used; the caller falls back to `git clean`. */
export class IndexUnreadable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IndexUnreadable';
  }
}

const GITLINK = 0o160000;
const SPARSE_DIR = 0o040000;

/** One index entry with the stat data git recorded when it wrote the file (32-bit fields, as stored). */
export interface IndexEntry {
  path: string;
  /** 0o100644, 0o100755, 0o120000 (symlink) or 0o160000 (gitlink). */
  mode: number;
  ctimeSec: number;
  ctimeNsec: number;
  mtimeSec: number;
  mtimeNsec: number;
  ino: number;
  uid: number;
  gid: number;
  size: number;
  /** The blob's object id (20 or 32 bytes). */
  oid: Buffer;
}

export interface ParsedIndex {
  /** Every tracked path, in index order. */
  paths: string[];
  /** Of those, the gitlinks (submodules): their folders are kept whole. */
  gitlinks: string[];
  entries: IndexEntry[];
  /** The trailer: the checksum of the file's content, or zeros when git skipped it (index.skipHash). */
  checksum: Buffer;
}

/**
 * The tracked paths (`src/a.ts`, `/`-separated, as git stores them) of the index at `file`,
 * with `hashBytes` 20 for SHA-1 repositories and 32 for SHA-256. Gitlinks (submodules) are in
 * `gitlinks` too: their folders are kept whole. Throws IndexUnreadable for what it does not
 * handle (a split index, sparse directory entries, a bad checksum, an unknown version), so
 * that nothing is ever deleted on a guess.
 */
export async function readIndexPaths(file: string, hashBytes: 20 | 32): Promise<ParsedIndex> {
  const data = await readFile(file).catch((e: NodeJS.ErrnoException) => { throw new IndexUnreadable(`cannot read ${file}: ${e.code ?? e.message}`); });
  return parseIndex(data, hashBytes);
}

export function parseIndex(data: Buffer, hashBytes: 20 | 32): ParsedIndex {
  if (data.length < 12 + hashBytes || data.toString('latin1', 0, 4) !== 'DIRC') throw new IndexUnreadable('not a git index');
  const version = data.readUInt32BE(4);
  if (version < 2 || version > 4) throw new IndexUnreadable(`index version ${version}`);
  const body = data.subarray(0, data.length - hashBytes);
  const trailer = data.subarray(data.length - hashBytes);
  // index.skipHash writes zeros; anything else must match, so a torn file is never trusted.
  if (trailer.some((b) => b !== 0)) {
    const sum = createHash(hashBytes === 20 ? 'sha1' : 'sha256').update(body).digest();
    if (!sum.equals(trailer)) throw new IndexUnreadable('index checksum mismatch');
  }
  const count = data.readUInt32BE(8);
  const paths: string[] = [];
  const gitlinks: string[] = [];
  const entries: IndexEntry[] = [];
  let at = 12;
  let previous: Buffer = Buffer.alloc(0);
  for (let i = 0; i < count; i++) {
    const start = at;
    if (at + 40 + hashBytes + 2 > body.length) throw new IndexUnreadable('index truncated');
    const mode = data.readUInt32BE(at + 24);
    const flags = data.readUInt16BE(at + 40 + hashBytes);
    at += 40 + hashBytes + 2;
    if (flags & 0x4000) {
      if (version < 3) throw new IndexUnreadable('extended flags in a version 2 index');
      at += 2;
    }
    let name: Buffer;
    if (version === 4) {
      const [strip, after] = readVarint(data, at);
      const end = data.indexOf(0, after);
      if (end < 0 || strip > previous.length) throw new IndexUnreadable('bad path in index');
      name = Buffer.concat([previous.subarray(0, previous.length - strip), data.subarray(after, end)]);
      at = end + 1;
    } else {
      const end = data.indexOf(0, at);
      if (end < 0) throw new IndexUnreadable('bad path in index');
      name = data.subarray(at, end);
      at = start + Math.ceil((end - start + 1) / 8) * 8; // 1–8 NULs pad the entry to 8 bytes
    }
    previous = name;
    if ((mode & 0o170000) === SPARSE_DIR) throw new IndexUnreadable('sparse index');
    const path = name.toString('utf8');
    paths.push(path);
    if ((mode & 0o170000) === GITLINK) gitlinks.push(path);
    entries.push({
      path, mode,
      ctimeSec: data.readUInt32BE(start), ctimeNsec: data.readUInt32BE(start + 4),
      mtimeSec: data.readUInt32BE(start + 8), mtimeNsec: data.readUInt32BE(start + 12),
      ino: data.readUInt32BE(start + 20), uid: data.readUInt32BE(start + 28), gid: data.readUInt32BE(start + 32),
      size: data.readUInt32BE(start + 36), oid: data.subarray(start + 40, start + 40 + hashBytes),
    });
  }
  for (; at + 8 <= body.length; ) {
    const signature = data.toString('latin1', at, at + 4);
    if (signature === 'link' || signature === 'sdir') throw new IndexUnreadable(`index extension ${signature}`);
    at += 8 + data.readUInt32BE(at + 4);
  }
  return { paths, gitlinks, entries, checksum: trailer };
}

/** Git's offset varint (varint.c): 7 bits a byte, each continuation adds one. */
function readVarint(data: Buffer, at: number): [number, number] {
  let byte = data[at++]!;
  let value = byte & 0x7f;
  while (byte & 0x80) {
    if (at >= data.length) throw new IndexUnreadable('bad varint in index');
    byte = data[at++]!;
    value = ((value + 1) * 128) + (byte & 0x7f);
  }
  return [value, at];
}
