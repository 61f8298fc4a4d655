// A shields-style status badge: `build | passing`.
import type { Status } from '../../shared/status.js';

const WORDS: Record<string, [string, string]> = {
  success: ['passing', '#4c1'],
  failed: ['failing', '#e05d44'],
  error: ['error', '#e05d44'],
  running: ['running', '#dfb317'],
  queued: ['queued', '#9f9f9f'],
  blocked: ['blocked', '#dfb317'],
  cancelled: ['cancelled', '#9f9f9f'],
  skipped: ['skipped', '#9f9f9f'],
};

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
const width = (s: string) => Math.round(s.length * 6.5 + 12);

export function badgeSvg(status: Status | null, label = 'build'): string {
  const [word, colour] = status === null ? ['unknown', '#9f9f9f'] : (WORDS[status] ?? [status, '#9f9f9f']);
  const lw = width(label);
  const rw = width(word);
  const l = escapeXml(label);
  const r = escapeXml(word);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${lw + rw}" height="20" role="img" aria-label="${l}: ${r}">
<title>${l}: ${r}</title>
<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>
<clipPath id="r"><rect width="${lw + rw}" height="20" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#r)"><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${rw}" height="20" fill="${colour}"/><rect width="${lw + rw}" height="20" fill="url(#s)"/></g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">
<text x="${lw / 2}" y="14">${l}</text><text x="${lw + rw / 2}" y="14">${r}</text>
</g></svg>`;
}
