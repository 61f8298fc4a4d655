// The package's version and the agent protocol version, known everywhere.
export const KILN_VERSION = '0.1.0';
