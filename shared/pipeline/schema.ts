// Stage 2: the types of every key of pipeline.yml (SPEC §2), as one zod schema. The same
// schema validates files and is published as JSON Schema for editors (`kiln schema`,
// `GET /schema/pipeline.json`). Unknown keys are errors everywhere.
import * as z from 'zod';
import { DURATION_PATTERN, MAX_TIMEOUT_MS, MAX_TIMEOUT_TEXT, parseDuration } from './duration.js';

import { INPUT_NAME, INPUT_TYPES } from './inputs.js';
import { JOB_NAME_PATTERN, UNICODE_JOB_NAME_PATTERN } from './names.js';
import { notifySchema } from './notify-schema.js';

/** A relative path that stays inside the workspace once `.` and `..` are resolved. */
export function insideWorkspace(path: string): boolean {
  if (path.startsWith('/') || path.includes('\\') || /^[A-Za-z]:/.test(path)) return false;
  let depth = 0;
  for (const part of path.split('/')) {
    if (part === '..') depth -= 1;
    else if (part !== '' && part !== '.') depth += 1;
    if (depth < 0) return false;
  }
  return true;
}

export { DURATION_PATTERN, JOB_NAME_PATTERN, UNICODE_JOB_NAME_PATTERN };
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const EVENTS = ['push', 'tag', 'pull_request', 'cron', 'manual', 'api'] as const;
export const WHEN_STATUSES = ['success', 'failure', 'always'] as const;

const text = (description: string) => z.string({ error: 'expected a string' }).meta({ description });
const strings = (description: string) =>
  z
    .union([z.string(), z.array(z.string({ error: 'expected a string' }))], { error: 'expected a string or a list of strings' })
    .meta({ description });
const durationText = () =>
  z
    .string({ error: 'expected a duration such as 90s, 5m or 1h30m' })
    .regex(DURATION_PATTERN, { error: 'expected a duration such as 90s, 5m or 1h30m' });
const duration = (description: string) => durationText().meta({ description });
const timeout = (description: string) =>
  durationText()
    .refine((text) => (parseDuration(text) ?? 0) <= MAX_TIMEOUT_MS, { error: `a timeout is at most ${MAX_TIMEOUT_TEXT}` })
    .meta({ description });
const envMap = z
  .record(
    z.string().regex(ENV_NAME_PATTERN, { error: 'an environment variable name is letters, digits and _, not starting with a digit' }),
    z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string value' }),
    { error: 'expected a mapping of NAME: value' },
  )
  .meta({ description: 'Environment variables; values are strings' });
const flag = (description: string) => z.boolean({ error: 'expected true or false' }).meta({ description });
const count = (description: string) =>
  z.int({ error: 'expected a whole number' }).min(0, { error: 'expected 0 or more' }).meta({ description });

const scalar = z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or true/false' });
const workingDirectory = (description: string) =>
  z
    .string({ error: 'expected a string' })
    .refine(insideWorkspace, { error: 'working-directory must be a relative path inside the workspace (no leading /, no ..)' })
    .meta({ description });

const when = z
  .strictObject({
    branch: strings('Branch globs; `!glob` excludes'),
    event: z
      .union([z.enum(EVENTS), z.array(z.enum(EVENTS))], { error: `expected one of ${EVENTS.join(', ')} or a list of them` })
      .meta({ description: 'Events that start the run' }),
    status: z
      .union([z.enum(WHEN_STATUSES), z.array(z.enum(WHEN_STATUSES))], { error: 'expected success, failure or always' })
      .meta({ description: 'success (the default): all before succeeded; failure: something failed; always' }),
    paths: strings('Run only if the push changed a file matching one of these globs'),
    matrix: z
      .record(
        z.string().regex(ENV_NAME_PATTERN, { error: 'a matrix axis name is letters, digits and _' }),
        z.union([scalar, z.array(scalar)], { error: 'expected a value or a list of values' }),
        { error: 'expected a mapping of axis: value' },
      )
      .meta({ description: 'Run only in matrix combinations with one of these values on each axis named' }),
  })
  .partial()
  .meta({ description: 'Conditions; a job whose `when` does not match is skipped' });

const step = z
  .strictObject(
    {
      name: text('Shown in the log and the dashboard; defaults to the first line of `run`').optional(),
      run: text('The shell script to run (multi-line allowed)'),
      env: envMap.optional(),
      timeout: timeout(`Stop the step after this long (at most ${MAX_TIMEOUT_TEXT})`).optional(),
      continue_on_error: flag('A failure of this step does not fail the job').optional(),
      shell: text('The shell that runs the script; default `sh -e`').optional(),
      when: when.optional(),
      'working-directory': workingDirectory('The folder the step runs in, relative to the workspace (it must exist); wins over the job\'s').optional(),
    },
    { error: 'a step is a mapping with `run:` (write `- run: make test`)' },
  )
  .meta({ description: 'One command or script' });

const service = z
  .strictObject({
    image: text('The service image'),
    env: envMap.optional(),
    command: z.union([z.string(), z.array(z.string())], { error: 'expected a string or a list of strings' }).optional(),
    entrypoint: z.union([z.string(), z.array(z.string())], { error: 'expected a string or a list of strings' }).optional(),
    ports: z.array(z.int().min(1).max(65535), { error: 'expected a list of port numbers' }).optional(),
  })
  .meta({ description: 'A sidecar container reachable from the steps by its name' });

const combination = z.record(
  z.string().regex(ENV_NAME_PATTERN, { error: 'a matrix variable name is letters, digits and _' }),
  scalar,
  { error: 'expected a mapping of variable: value' },
);

const need = z.union([
  z.string({ error: 'expected a job name' }),
  z.strictObject({
    job: text('The job that must finish first'),
    artifacts: flag('Unpack its artifacts into this job\'s workspace (default true)').optional(),
  }, { error: 'expected a job name or {job, artifacts}' }),
], { error: 'expected a job name or {job, artifacts}' });

const jobShape = {
  needs: z.union([z.string(), z.array(need)], { error: 'expected a job name or a list of them' })
    .meta({ description: 'Jobs that must finish first; their artifacts are unpacked into the workspace unless `{job: NAME, artifacts: false}`' }),
  matrix: z
    .object({
      include: z.array(combination, { error: 'expected a list of combinations' })
        .meta({ description: 'Variables added to each combination whose axes they match, else a combination of their own' }).optional(),
      exclude: z.array(combination, { error: 'expected a list of combinations' })
        .meta({ description: 'Combinations removed: those with all of an entry\'s values' }).optional(),
    }, { error: 'expected a mapping of axis: [values]' })
    .catchall(z.array(scalar, { error: 'expected a list of values' }).min(1, { error: 'a matrix axis needs at least one value' }))
    .superRefine((matrix, ctx) => {
      for (const axis of Object.keys(matrix)) {
        if (!ENV_NAME_PATTERN.test(axis)) ctx.addIssue({ code: 'custom', path: [axis], message: 'a matrix axis name is letters, digits and _' });
      }
      if (Object.keys(matrix).every((k) => k === 'exclude')) ctx.addIssue({ code: 'custom', message: 'a matrix needs an axis or an `include`' });
    })
    .meta({ description: 'One job per combination of the values; `exclude` and `include` as in GitHub Actions' }),
  name: text('The job\'s name as shown and as `needs` may name it; may use ${{ matrix.NAME }}; default: the key, with the matrix values'),
  'working-directory': workingDirectory('The folder the steps run in, relative to the workspace (it must exist)'),
  image: text('Run the job in a container of this image; omitted = a host process on the agent'),
  pull: z.enum(['always', 'if-not-present', 'never'], { error: 'expected always, if-not-present or never' }).meta({ description: 'When to pull the image' }),
  user: text('The user the job container runs as; default: the image\'s user'),
  'runs-on': strings('Labels an agent must all have'),
  services: z.record(z.string().regex(JOB_NAME_PATTERN, { error: 'a service name is letters, digits, _, . and -' }), service, { error: 'expected a mapping of name: service' }),
  docker: z.enum(['dood', 'dind'], { error: 'expected dood or dind' }).meta({ description: 'dood: the host\'s Docker socket; dind: a private Docker daemon' }),
  env: envMap,
  secrets: z.array(z.string().regex(ENV_NAME_PATTERN, { error: 'a secret name is letters, digits and _' }), { error: 'expected a list of secret names' }).meta({ description: 'Secrets (the repo\'s, else the server\'s) injected as env vars and masked in logs, where their scopes allow; a refused one fails the job at start' }),
  cache: z.strictObject({
    key: text('Cache key; may use ${{ hashFiles(\'glob\') }}'),
    paths: z.array(z.string(), { error: 'expected a list of paths' }).meta({ description: 'Files and folders of the workspace to keep' }),
    restore_keys: z.array(z.string(), { error: 'expected a list of key prefixes' })
      .meta({ description: 'Without an exact hit, the newest cache whose key starts with one of these, in order' }).optional(),
    policy: z.enum(['pull', 'push', 'pull-push'], { error: 'expected pull, push or pull-push' })
      .meta({ description: 'pull: restore only; push: save only; pull-push (default): both' }).optional(),
  }),
  steps: z.array(step, { error: 'expected a list of steps' }).min(1, { error: 'a job needs at least one step' }),
  artifacts: z.strictObject({
    paths: z.array(z.string(), { error: 'expected a list of paths' }).meta({ description: 'Files, folders and globs of the workspace to keep' }),
    expire: duration('Delete after this long, e.g. 7d (default 30d)').optional(),
    when: z.enum(['on_success', 'on_failure', 'always'], { error: 'expected on_success, on_failure or always' })
      .meta({ description: 'Upload after a successful job (default), a failed one, or always' }).optional(),
    name: text('The artifact\'s name; default: the job\'s name').optional(),
  }),
  retry: count('Extra attempts after a failure or a lost agent'),
  timeout: timeout(`Stop the job after this long (at most ${MAX_TIMEOUT_TEXT})`),
  allow_failure: flag('A failure of this job does not fail the run'),
  when,
  environment: text('The deployment environment this job deploys to'),
  approval: flag('The job waits, blocked, until someone approves it'),
  concurrency: text('At most one running job holds this name at a time, server-wide'),
  checkout: z
    .union([
      z.literal('fresh'),
      z.strictObject({
        fresh: flag('A fresh clone instead of the agent\'s reused workspace').optional(),
        depth: z.int({ error: 'expected a whole number' }).min(1, { error: 'expected 1 or more' }).meta({ description: 'Shallow: fetch only this many commits' }).optional(),
        filter: z.literal('blob:none', { error: 'expected blob:none' }).meta({ description: 'Partial: file contents are fetched as they are checked out' }).optional(),
      }),
    ], { error: 'expected fresh or a mapping with fresh, depth and filter' })
    .meta({ description: 'How the workspace is made: reused and cleaned (default), `fresh`, shallow (`depth`) or partial (`filter: blob:none`)' }),
};

const job = z.strictObject(jobShape, { error: 'expected a job: a mapping with `steps:`' }).partial().meta({ description: 'A job' });

const branchFilter = z.strictObject({
  branches: strings('Branch globs; omitted = all'),
  paths: strings('Run only if the push changed a matching file'),
}).partial();

const pullRequestFilter = z.strictObject({
  branches: strings('Target branch globs; omitted = all'),
  paths: strings('Run only if the pull request changes a matching file'),
}).partial();

const input = z
  .strictObject({
    type: z.enum(INPUT_TYPES, { error: `expected ${INPUT_TYPES.join(', ')}` }).meta({ description: 'string (default), number, boolean or choice' }).optional(),
    description: text('Shown on the run form').optional(),
    required: flag('A manual or API run must give a value (push and cron runs get the default)').optional(),
    default: z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or true/false' }).meta({ description: 'The value when none is given' }).optional(),
    options: z.array(z.union([z.string(), z.number(), z.boolean()]), { error: 'expected a list of values' })
      .meta({ description: 'A choice\'s values' }).optional(),
  }, { error: 'expected an input: a mapping with type, description, required, default, options' })
  .meta({ description: 'One build parameter' });

const trigger = z
  .strictObject({
    push: z.union([z.null(), z.boolean(), branchFilter], { error: 'expected true, false or a mapping with branches/paths' }),
    tags: z.union([z.boolean(), z.string(), z.array(z.string())], { error: 'expected a list of tag globs' }),
    pull_request: z.union([z.null(), z.boolean(), pullRequestFilter], { error: 'expected true, false or a mapping with branches/paths' })
      .meta({ description: 'Pull and merge requests opened, updated or reopened; `branches`: globs of the target branch (omitted = all); `paths`: files it must change' }),
    cron: z.array(
      z.strictObject({
        schedule: text('5- or 6-field cron expression'),
        branch: text('Branch to build; default: the default branch').optional(),
        timezone: text('IANA time zone, e.g. Europe/Paris; default: the server\'s').optional(),
      }),
      { error: 'expected a list of { schedule, branch }' },
    ),
    manual: z.union([
      z.boolean(),
      z.strictObject({
        inputs: z.record(
          z.string().regex(INPUT_NAME, { error: 'an input name is letters, digits, _ and -, not starting with a digit or -' }),
          input,
          { error: 'expected a mapping of name: input' },
        ).meta({ description: 'Typed build parameters, asked for by the run form, `kiln trigger --input` and the API' }),
      }),
    ], { error: 'expected true, false or a mapping with inputs' })
      .meta({ description: 'Allowed from the dashboard, the API and the CLI (default true); `inputs` declares its parameters' }),
  })
  .partial()
  .meta({ description: 'Which events start a run; omitted = push to any branch + manual (no pull requests)' });

const environment = z
  .strictObject({
    approvers: strings('Who may approve its jobs: user names, and `group:NAME` for a group; omitted = any developer (a maintainer when protected)'),
    separate_approver: flag('The person who started the run may not approve it themselves'),
    protected: flag('Approving its jobs needs the maintainer role (true when approvers are named)'),
  }, { error: 'expected an environment: a mapping with approvers, separate_approver, protected' })
  .partial()
  .meta({ description: 'A deployment environment: who approves the jobs that deploy to it' });

export const pipelineSchema = z
  .strictObject(
    {
      name: text('Defaults to the repo name').optional(),
      on: trigger.optional(),
      env: envMap.optional(),
      defaults: job.optional().meta({ description: 'Any job key; a job\'s own value wins' }),
      environments: z.record(z.string().min(1).max(200), environment, { error: 'expected a mapping of environment name: environment' })
        .meta({ description: 'Deployment environments by name: a job with `environment: NAME` waits for an approval they allow' }).optional(),
      jobs: z
        .record(z.string().regex(UNICODE_JOB_NAME_PATTERN, { error: 'a job name is letters and digits (of any script), _, . and -' }), job, { error: 'expected a mapping of job name: job' })
        .meta({ description: 'The jobs; `needs` makes them a graph' }),
      notify: notifySchema.optional(),
    },
    { error: 'pipeline.yml must be a mapping with `jobs:`' },
  )
  .meta({ title: 'kiln pipeline.yml' });

export type PipelineInput = z.infer<typeof pipelineSchema>;
export type JobInput = z.infer<typeof job>;
export type StepInput = z.infer<typeof step>;
export type WhenInput = z.infer<typeof when>;

/** Known keys at each level, for "did you mean" hints. */
export const JOB_KEYS = Object.keys(jobShape);

/** The JSON Schema of pipeline.yml (draft 2020-12). */
export function pipelineJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(pipelineSchema, { target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  // Top-level `x-…` keys hold YAML anchors; validatePipeline drops them before the schema.
  return { ...schema, patternProperties: { '^x-': {} } };
}
