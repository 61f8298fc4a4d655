// The text a scrape answers: kiln's series and the process's default metrics, formatted by
// prom-client. Why loaded on the first scrape and not at start: the idle server is at its
// 70 MiB budget, and prom-client with its default collectors adds to it (seen once by hand, not
// by a benchmark: ~2 MiB bundled), which a server nobody scrapes should not pay. Until then the series count
// in plain numbers (series.ts), so nothing observed before is lost.
import type { Registry } from 'prom-client';
import type { Series } from './series.js';

export interface Exposition {
  /** The exposition text and its content type (Prometheus text format 0.0.4). */
  render(): Promise<{ contentType: string; text: string }>;
}

export function createExposition(series: readonly Series[]): Exposition {
  let registry: Promise<Registry> | null = null;
  const build = async (): Promise<Registry> => {
    // prom-client is CommonJS: `default` is its module.exports, bundled or not.
    const prom = (await import('prom-client')).default;
    const built = new prom.Registry();
    // The standard names (process_*, nodejs_*), as every Node.js dashboard expects them.
    prom.collectDefaultMetrics({ register: built });
    for (const s of series) built.registerMetric(asMetric(s));
    return built;
  };
  return {
    async render() {
      const built = await (registry ??= build());
      return { contentType: built.contentType, text: await built.metrics() };
    },
  };
}

/**
 * A series as the registry reads a metric: `get()` answers name, help, type and the samples
 * (prom-client's own metrics answer the same shape; the registry formats and escapes them).
 */
function asMetric(series: Series): Parameters<Registry['registerMetric']>[0] {
  const metric = {
    name: series.name,
    help: series.help,
    type: series.type,
    aggregator: 'sum' as const,
    collect: () => undefined,
    get: async () => ({ name: series.name, help: series.help, type: series.type, aggregator: 'sum' as const, values: series.values() }),
  };
  return metric as unknown as Parameters<Registry['registerMetric']>[0];
}
