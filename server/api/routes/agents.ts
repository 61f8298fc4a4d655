// `/api/agents`, `/api/pools`, `/api/queue`: who can run jobs, and which jobs wait and why.
import { Hono } from 'hono';
import type { ApiOptions } from '../http.js';
import { agentView, jobView } from '../views.js';

export function createAgentRoutes({ store, service, access: { guard } }: ApiOptions): Hono {
  const app = new Hono();
  app.get('/api/agents', guard('read'), (c) => c.json(store.agents.listAgents().map(agentView)));
  app.get('/api/pools', guard('read'), (c) => c.json(service.pools()));
  app.get('/api/queue', guard('read'), (c) =>
    c.json(service.queue().map(({ job, repo, runNumber, reason }) => ({ ...jobView(job), repo, run_number: runNumber, waiting: job.waiting ?? 'agent', reason }))),
  );
  return app;
}
