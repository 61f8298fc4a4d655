// What a page handler gives back: the frame's title and live settings, and <main>'s content.
import type { Child } from 'hono/jsx';

export interface Page {
  title: string;
  /** Event types that refresh the page (see assets/live.ts). */
  live?: string;
  data?: Record<string, string>;
  body: Child;
  status?: 200 | 400 | 401 | 403 | 404 | 429 | 503;
}
