// Secret masking for the agent's logs: the shared masker (the server masks again with it).
export { createMasker, MASK, type Masker } from '../../shared/secrets/masker.js';
