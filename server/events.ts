// The server's in-process event bus: what changed, for live dashboards, log followers and the
// dispatcher. Publishing never blocks on a slow subscriber (each does its own buffering).
import { EventEmitter } from 'node:events';
import type { LogLine } from '../shared/protocol/messages.js';
import type { Agent, Job, Run, Step } from './store/index.js';

export type KilnEvent =
  | { type: 'run'; run: Run }
  | { type: 'job'; job: Job }
  | { type: 'step'; jobId: number; step: Step }
  | { type: 'log'; jobId: number; attempt: number; firstLine: number; lines: LogLine[] }
  | { type: 'agent'; agent: Agent }
  | { type: 'queue' };

export interface EventBus {
  publish(event: KilnEvent): void;
  /** Returns the function that unsubscribes. */
  subscribe(listener: (event: KilnEvent) => void): () => void;
}

export function createEventBus(): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish: (event) => void emitter.emit('event', event),
    subscribe(listener) {
      emitter.on('event', listener);
      return () => void emitter.off('event', listener);
    },
  };
}
