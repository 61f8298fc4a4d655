// Splits the stdout of `git cat-file --batch-command` into one reply per command, in order:
// `<oid> <type> <size>\n` (info), the same followed by `<content>\n` (contents), or `<name> missing\n`.

export interface ObjectInfo {
  oid: string;
  type: string;
  size: number;
}

export interface GitObject extends ObjectInfo {
  data: Buffer;
}

export type BatchKind = 'info' | 'contents';

/** One reply: null when git had no such object (missing, ambiguous, or not that kind of name). */
export type BatchReply = ObjectInfo | GitObject | null;

export interface BatchParser {
  /** Feeds a chunk of git's stdout; calls `onReply` for every reply it completes. */
  feed(chunk: Buffer): void;
}

const FOUND = /^([0-9a-f]{40,64}) ([a-z]+) (\d+)$/;

/**
 * `expected()` names the kind of the oldest command still unanswered (undefined when none):
 * a `contents` reply carries `size` bytes after its header, an `info` reply does not.
 */
export function createBatchParser(expected: () => BatchKind | undefined, onReply: (reply: BatchReply) => void): BatchParser {
  let chunks: Buffer[] = [];
  let length = 0;
  let header: ObjectInfo | null = null; // a contents reply whose body has not fully arrived

  const joined = (): Buffer => {
    if (chunks.length > 1) chunks = [Buffer.concat(chunks, length)];
    return chunks[0] ?? Buffer.alloc(0);
  };
  const take = (bytes: number): Buffer => {
    const all = joined();
    const head = all.subarray(0, bytes);
    chunks = bytes < all.length ? [all.subarray(bytes)] : [];
    length -= bytes;
    return head;
  };

  const next = (): boolean => {
    if (header) {
      if (length < header.size + 1) return false; // the content and its trailing LF
      const data = Buffer.from(take(header.size + 1).subarray(0, header.size));
      const info = header;
      header = null;
      onReply({ ...info, data });
      return true;
    }
    const kind = expected();
    if (!kind || length === 0) return false;
    const newline = joined().indexOf(0x0a);
    if (newline === -1) return false;
    const line = take(newline + 1).toString('utf8', 0, newline);
    const found = FOUND.exec(line);
    if (!found) {
      onReply(null);
      return true;
    }
    const info = { oid: found[1]!, type: found[2]!, size: Number(found[3]) };
    if (kind === 'info') onReply(info);
    else header = info;
    return true;
  };

  return {
    feed(chunk) {
      chunks.push(chunk);
      length += chunk.length;
      while (next());
    },
  };
}
