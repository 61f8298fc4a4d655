// The pipeline model: parse → schema → lint → plan. See each stage's file.
export { validatePipeline, formatProblem, formatPath, type ValidationResult } from './validate.js';
export { planPipeline, DEFAULT_SHELL } from './plan.js';
export { pipelineSchema, pipelineJsonSchema } from './schema.js';
export { parseDuration, formatDuration } from './duration.js';
export { expandRuntimeExpressions, findExpressions, substituteMatrix } from './expressions.js';
export { MAX_PIPELINE_BYTES } from './parse.js';
export { MAX_JOBS, isTimeZone } from './lint.js';
export type * from './types.js';
export { skipCiMarker, skipsEvent, triggerMatches, whenMatches, type RunFacts, type EventKind, type Outcome } from './conditions.js';
