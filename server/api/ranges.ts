// Archive downloads (artifacts, caches): a stored file streamed with its length and digest,
// and a single `Range: bytes=…` answered with 206 (RFC 9110 §14). Several ranges, or a header
// that is not a byte range, get the whole file (a server may ignore Range); one past the end, 416.
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Context } from 'hono';
import { KilnError } from '../../shared/errors.js';

/** Inclusive byte positions. */
export interface ByteRange {
  start: number;
  end: number;
}

/** The range a `Range` header asks of a file of `size` bytes: null for the whole file, or 'unsatisfiable'. */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  const match = header ? /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header) : null;
  if (!match || (match[1] === '' && match[2] === '')) return null;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Number(match[2]);
  if (end < start) return null; // not a valid range: ignored
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
}

export interface BlobDownload {
  file: string;
  sha256: string;
  contentType: string;
  /** For Content-Disposition (attachment), when set. */
  filename?: string;
  /** Names the thing in a 404 when its file is gone ("cache 12"). */
  what: string;
}

/**
 * Streams the file (never read whole): 200 with Content-Length, ETag and X-Kiln-Sha256, or
 * 206 with Content-Range for one satisfiable range, or 416. The file is opened before the
 * answer starts, so a file removed afterwards (an eviction) still streams whole.
 */
export async function sendBlob(c: Context, blob: BlobDownload): Promise<Response> {
  const handle = await open(blob.file, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new KilnError('not_found', `${blob.what} has no archive any more`);
    throw error;
  });
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (error) {
    await handle.close();
    throw error;
  }
  const headers: Record<string, string> = {
    'content-type': blob.contentType, etag: `"${blob.sha256}"`, 'x-kiln-sha256': blob.sha256, 'accept-ranges': 'bytes',
    ...(blob.filename ? { 'content-disposition': `attachment; filename="${blob.filename.replace(/["\\\r\n]/g, '_')}"` } : {}),
  };
  const range = parseRange(c.req.header('range'), size);
  if (range === 'unsatisfiable') {
    await handle.close();
    return c.json({ error: `the range is outside the archive (${size} bytes)` }, 416, { 'content-range': `bytes */${size}` });
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  const length = size === 0 ? 0 : end - start + 1;
  const body = length === 0 ? null : (Readable.toWeb(handle.createReadStream({ start, end, autoClose: true })) as ReadableStream);
  if (length === 0) await handle.close();
  headers['content-length'] = String(length);
  if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
  return new Response(body, { status: range ? 206 : 200, headers });
}
