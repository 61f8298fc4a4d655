// The repo page's run form: a branch, and a field per declared input (`on.manual.inputs`), filled
// with their defaults, or with what was entered when the server refused it (`?error=`).
import type { PlannedInput } from '../../../shared/pipeline/types.js';
import { ActionButton, type Viewer } from '../layout.js';

/** What the form shows: the branch and input values entered before a refusal; null: the defaults. */
export interface RunFormValues {
  branch: string;
  inputs: Record<string, string>;
}

export const INPUT_FIELD = 'input:';

export function RunForm({ action, viewer, inputs, branch, entered }: { action: string; viewer: Viewer; inputs: PlannedInput[]; branch: string; entered: RunFormValues | null }) {
  return (
    <ActionButton viewer={viewer} repo={decodeURIComponent(action.split('/')[2] ?? '')} action={action} label="Run branch" kind="primary">
      <input type="text" name="branch" value={entered?.branch ?? branch} aria-label="branch" />{' '}
      {inputs.length > 0 ? (
        <fieldset class="run-inputs" data-run-inputs>
          <legend>Inputs</legend>
          {inputs.map((input) => <InputField input={input} value={entered ? entered.inputs[input.name] ?? '' : input.default === null ? '' : String(input.default)} />)}
        </fieldset>
      ) : null}
    </ActionButton>
  );
}

function InputField({ input, value }: { input: PlannedInput; value: string }) {
  const name = `${INPUT_FIELD}${input.name}`;
  const id = `input-${input.name}`;
  const label = (
    <label for={id}>
      <code>{input.name}</code>{input.required ? <span class="muted"> (required)</span> : null}
      {input.description ? <span class="muted">{` ${input.description}`}</span> : null}
    </label>
  );
  if (input.type === 'boolean') {
    // The hidden false is sent when the box is unchecked; a checked box's true comes after it and wins.
    return (
      <div data-input={input.name}>
        <input type="hidden" name={name} value="false" />
        <input type="checkbox" id={id} name={name} value="true" checked={value === 'true'} /> {label}
      </div>
    );
  }
  const field = input.type === 'choice' ? (
    <select id={id} name={name}>
      {input.required || input.default !== null ? null : <option value="" selected={value === ''}>—</option>}
      {input.options.map((option) => <option value={option} selected={option === value}>{option}</option>)}
    </select>
  ) : (
    <input type="text" id={id} name={name} value={value} inputmode={input.type === 'number' ? 'decimal' : undefined} />
  );
  return <div data-input={input.name}>{label} {field}</div>;
}

/** The input values of a submitted form, as text (the server types and checks them). */
export function formInputs(form: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(form)) {
    if (key.startsWith(INPUT_FIELD) && typeof value === 'string') out[key.slice(INPUT_FIELD.length)] = value;
  }
  return out;
}
