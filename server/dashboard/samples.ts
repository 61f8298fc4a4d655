// A small in-memory ring of (time, queued jobs, agents) samples for the pools chart.
export interface Sample {
  atMs: number;
  queued: number;
  agents: number;
  busy: number;
}

export interface SampleRing {
  add(sample: Sample): void;
  list(): Sample[];
}

export function createSampleRing(size = 360): SampleRing {
  const items: Sample[] = [];
  return {
    add(sample) {
      items.push(sample);
      if (items.length > size) items.splice(0, items.length - size);
    },
    list: () => [...items],
  };
}
