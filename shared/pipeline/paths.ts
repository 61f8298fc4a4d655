// A document path (`jobs.build.steps[0].run`) as people read it; light, for the server's configuration too.
import type { PathSegment } from './parse.js';

export function formatPath(path: readonly PathSegment[]): string {
  return path.reduce<string>((out, segment) => {
    if (typeof segment === 'number') return `${out}[${segment}]`;
    const key = /^[A-Za-z0-9_-]+$/.test(segment) ? segment : JSON.stringify(segment);
    return out ? `${out}.${key}` : key;
  }, '');
}
