// The autoscaler's public surface: the loop, the provider boundary and the process provider.
export { createAutoscaler, type Autoscaler, type AutoscalerOptions, type PoolAgents } from './autoscaler.js';
export type { PoolView } from './pool-view.js';
export type { ScalingEvent } from './pool-pass.js';
export type { AgentProvider, AgentSpec, Instance } from './provider.js';
export { createProcessProvider, type ProcessProviderOptions } from './process-provider.js';
export { decide, type Decision, type PolicyInput, type PoolAgent } from './policy.js';
