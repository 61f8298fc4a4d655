// Answers a GET of a stored archive: the whole file, or one byte range of it.
//
//   Range absent, not bytes=, or several ranges ─▶ 200, the whole file
//   bytes=a-b | a- | -n, inside the file        ─▶ 206 + Content-Range
//   bytes=… starting past the end, or -0         ─▶ 416 + Content-Range: bytes */size
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { KilnError } from '../../shared/errors.js';
import type { BlobStore } from './blob-store.js';

/** The byte range asked for (inclusive), 'whole' (no usable single range), or 'unsatisfiable'. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'whole' | 'unsatisfiable' {
  const match = header ? /^bytes=\s*(\d*)-(\d*)\s*$/.exec(header) : null;
  if (!match || (match[1] === '' && match[2] === '')) return 'whole';
  const [first, last] = [match[1]!, match[2]!];
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return 'whole'; // an invalid range-spec: the header is ignored (RFC 9110 §14.2)
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}

export interface BlobDownload {
  sha256: string;
  /** The download's file name ("dist.tar.gz"). */
  filename: string;
  /** For the error when the file is gone ("artifact 12"). */
  what: string;
}

/** Streams the blob (never read whole into memory); a file gone from disk is a 404. */
export async function blobResponse(blobs: BlobStore, range: string | undefined, d: BlobDownload): Promise<Response> {
  // Opened first: a sweeper that removes the file afterwards does not cut the answer short.
  const file = await open(blobs.path(d.sha256), 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new KilnError('not_found', `the file of ${d.what} is gone`);
    throw error;
  });
  let size: number;
  try {
    size = (await file.stat()).size;
  } catch (error) {
    await file.close();
    throw error;
  }
  const headers: Record<string, string> = {
    'content-type': 'application/gzip',
    etag: `"${d.sha256}"`,
    'x-kiln-sha256': d.sha256,
    'accept-ranges': 'bytes',
    'content-disposition': contentDisposition(d.filename),
  };
  const wanted = multipleRanges(range) ? 'whole' : parseRange(range, size);
  if (wanted === 'unsatisfiable') {
    await file.close();
    return new Response(JSON.stringify({ error: `the range ${range} is outside the file (${size} bytes)` }), {
      status: 416, headers: { 'content-type': 'application/json', 'content-range': `bytes */${size}` },
    });
  }
  const { start, end } = wanted === 'whole' ? { start: 0, end: size - 1 } : wanted;
  headers['content-length'] = String(end - start + 1);
  if (wanted !== 'whole') headers['content-range'] = `bytes ${start}-${end}/${size}`;
  const body = size === 0 ? null : Readable.toWeb(file.createReadStream({ start, end, autoClose: true })) as ReadableStream;
  if (body === null) await file.close();
  return new Response(body, { status: wanted === 'whole' ? 200 : 206, headers });
}

const multipleRanges = (range: string | undefined) => range !== undefined && range.includes(',');

/** `attachment; filename="…"` with an ASCII fallback, and the exact name as RFC 5987 UTF-8. */
function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
