// Masking in a job's log: every form of a secret, however the step's output is cut into
// writes, and `::add-mask::` values from the line after the command on.
import { describe, expect, it } from 'vitest';
import type { LogChunk } from '../../../agent/logs/chunk.js';
import { addMaskValue, createJobLog, type JobLogOptions } from '../../../agent/logs/job-log.js';
import { base64Inner, secretForms } from '../../../shared/secrets/forms.js';

const SECRET = 'tok-3n/+ü😀=x';

function recorder(options: Partial<JobLogOptions> = {}) {
  const chunks: LogChunk[] = [];
  const log = createJobLog({ jobId: 1, attempt: 1, onChunk: (c) => chunks.push(c), ...options });
  const texts = () => chunks.flatMap((c) => c.lines.map((l) => l.text));
  return { log, chunks, texts };
}

/** Whether `text` holds any form of `value`, or its stable base64 at any offset. */
function leaks(text: string, value: string): boolean {
  const inner = [0, 1, 2].map((o) => base64Inner(Buffer.from(value), o));
  return [...secretForms(value), ...inner].some((form) => text.includes(form));
}

describe('masking in the job log', () => {
  it('masks each form of a secret cut across two writes at every position, in bytes', () => {
    for (const form of secretForms(SECRET)) {
      const bytes = Buffer.from(`a ${form} b\n`);
      for (let at = 1; at < bytes.length; at++) {
        const { log, texts } = recorder({ secrets: [SECRET] });
        log.write(0, 'stdout', bytes.subarray(0, at));
        log.write(0, 'stdout', bytes.subarray(at));
        log.close();
        expect(texts()).toEqual(['a *** b']);
      }
    }
  });

  it('masks a secret left unfinished at the end of a step, and one written a byte at a time', () => {
    const { log, texts } = recorder({ secrets: [SECRET] });
    for (const byte of Buffer.from(`x${SECRET}y\n`)) log.write(0, 'stdout', Buffer.from([byte]));
    log.write(0, 'stdout', `tail ${SECRET.slice(0, 4)}`);
    log.write(0, 'stdout', SECRET.slice(4));
    log.endStep(0);
    log.close();
    expect(texts()).toEqual(['x***y', 'tail ***']);
  });

  it('masks a secret that straddles the cut of an overlong line at every position', () => {
    const max = 40;
    for (let start = 0; start < max + 2; start++) {
      const { log, texts } = recorder({ secrets: [SECRET], maxLineChars: max });
      const line = `${'a'.repeat(start)}${SECRET}${'b'.repeat(50)}`;
      for (let at = 0; at < line.length; at += 7) log.write(0, 'stdout', line.slice(at, at + 7));
      log.write(0, 'stdout', '\n');
      log.close();
      const all = texts().join('');
      expect(all).toBe(`${'a'.repeat(start)}***${'b'.repeat(50)}`);
      expect(texts().every((t) => t.length <= max)).toBe(true);
    }
  });

  it('drops a `::add-mask::` line and masks its value in every later line and form', () => {
    const value = 'runtime-made-value-42';
    const { log, texts } = recorder({ secrets: [SECRET] });
    log.write(0, 'stdout', `before ${value}\n::add-mask::${value}\nafter ${value} ${Buffer.from(value).toString('base64')}\n`);
    log.write(1, 'stderr', `next step ${encodeURIComponent(value)}\n  ::add-mask::  second-one-value\r\n`);
    log.write(1, 'stdout', '::add-mask::second-one-');
    log.write(1, 'stdout', 'value-longer\nsecond-one-value and second-one-value-longer\n');
    log.close();
    expect(texts()).toEqual([`before ${value}`, 'after *** ***', 'next step ***', '*** and ***']);
    expect(texts().some((t) => t.includes('add-mask'))).toBe(false);
  });

  it('keeps `::add-mask::` as text in kiln\'s own lines, and masks only within the job', () => {
    const one = recorder();
    one.log.write(0, 'stdout', '::add-mask::only-in-this-job\n');
    one.log.write(null, 'system', '::add-mask::a-system-line\n');
    one.log.close();
    expect(one.texts()).toEqual(['::add-mask::a-system-line']);
    const other = recorder();
    other.log.write(0, 'stdout', 'only-in-this-job\n');
    other.log.close();
    expect(other.texts()).toEqual(['only-in-this-job']);
  });

  it('takes `::add-mask::` only at the start of a line, not in the tail of an overlong one, and drops an overlong command whole', () => {
    const { log, texts } = recorder({ maxLineChars: 20 });
    log.write(0, 'stdout', `${'a'.repeat(20)}::add-mask::not-a-command\n`);
    log.write(0, 'stdout', `::add-mask::${'v'.repeat(30)}`);
    log.write(0, 'stdout', `${'w'.repeat(30)}\nafter ${'v'.repeat(30)}\n`);
    log.close();
    expect(texts().join('|')).toBe(`${'a'.repeat(20)}|::add-mask::not-a-co|mmand|after ***`);
  });

  it('reads the value of an add-mask line', () => {
    expect(addMaskValue('::add-mask::abc def \r')).toBe('abc def');
    expect(addMaskValue('echo ::add-mask::x')).toBeNull();
    expect(addMaskValue('::add-mask::')).toBe('');
  });

  it('masks overlapping secrets, nested ones and a multi-line value in the log', () => {
    const key = '-----BEGIN TEST KEY-----\nMIIEvQIBADANBgkqhkiG9w0\n-----END TEST KEY-----';
    const { log, texts } = recorder({ secrets: ['abcdef-1', 'ef-1234', 'prefix', 'prefix-and-more', key] });
    log.write(0, 'stdout', `abcdef-1234 prefix-and-more prefix-\n${key}\n${JSON.stringify({ key })}\n`);
    log.close();
    expect(texts()).toEqual(['*** *** ***-', '***', '***', '***', '{"key":"***"}']);
    expect(leaks(texts().join('\n'), key)).toBe(false);
  });
});
