// Extraction with tar's safe defaults, shared by the worker thread (unpack-worker.ts) and the
// in-process fallback (unpack.ts).
import * as tar from 'tar';

export interface ExtractRequest {
  file: string;
  cwd: string;
}

const REFUSED_TYPES: Record<string, string> = { CharacterDevice: 'a character device', BlockDevice: 'a block device', FIFO: 'a FIFO' };

/**
 * tar refuses absolute paths, `..`, and writing through symlinks (`preservePaths: false`);
 * `strict` turns each such warning into a failure; owners are not restored. Devices and FIFOs
 * are left out, and the first one is returned (the caller refuses the archive).
 */
function options(request: ExtractRequest, refuse: (why: string) => void) {
  return {
    file: request.file,
    cwd: request.cwd,
    preservePaths: false,
    preserveOwner: false,
    strict: true,
    filter: (path: string, entry: unknown) => {
      const kind = typeof entry === 'object' && entry !== null && 'type' in entry ? REFUSED_TYPES[String(entry.type)] : undefined;
      if (kind !== undefined) refuse(`the archive holds ${kind}, ${path}`);
      return kind === undefined;
    },
  };
}

/** Extracts `file` into `cwd` synchronously; returns why the archive is refused, or null. */
export function extractSync(request: ExtractRequest): string | null {
  let refused: string | null = null;
  tar.x({ ...options(request, (why) => (refused ??= why)), sync: true });
  return refused;
}

/** The same, on the event loop's thread pool (for when no worker file is at hand). */
export async function extractAsync(request: ExtractRequest): Promise<string | null> {
  let refused: string | null = null;
  await tar.x(options(request, (why) => (refused ??= why)));
  return refused;
}
