// The patterns of names in pipeline.yml and kiln.yml, in a module of their own: the server's
// configuration checks names without loading the pipeline schema.

/** ASCII names that become host or Docker names: services here, and the server's pools and repos. */
export const JOB_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/**
 * A job's key: letters and digits of any script (`构建`, `тест`), combining marks, and `_ . -`.
 * Nothing builds a file, Docker or host name from it: those use the job's id.
 */
export const UNICODE_JOB_NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N}\p{M}_.-]*$/u;
