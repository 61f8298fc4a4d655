// The dashboard's static assets, kept as strings in TypeScript modules so that `tsc` puts
// them in dist/ and the server serves them from the package with nothing else to copy.
import { faviconSvg } from './favicon.js';
import { liveJs } from './live.js';
import { styleCss } from './style.js';

export interface Asset {
  body: string;
  type: string;
}

export const ASSETS: Readonly<Record<string, Asset>> = {
  'style.css': { body: styleCss, type: 'text/css; charset=utf-8' },
  'live.js': { body: liveJs, type: 'text/javascript; charset=utf-8' },
  'favicon.svg': { body: faviconSvg, type: 'image/svg+xml' },
};
