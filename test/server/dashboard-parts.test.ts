// The dashboard's pure parts: the run graph layout, the badge, sessions.
import { describe, expect, it } from 'vitest';
import { badgeSvg } from '../../server/dashboard/badge.js';
import { layoutGraph } from '../../server/dashboard/graph.js';
import { createSessions, sameToken } from '../../server/access/index.js';
import { tempStore } from './store/fixtures.js';
import type { JobWithSteps, RunDetail } from '../../server/store/index.js';

const job = (name: string, needs: string[] = [], matrix: Record<string, string> | null = null) =>
  ({ id: name.length, name, needs, status: 'queued', steps: [], plan: { key: name.split(' ')[0], matrix } }) as unknown as JobWithSteps;

describe('the run graph layout', () => {
  it('puts a column per plan stage, and jobs the plan does not list in a last column', () => {
    const run = { jobs: [job('build'), job('lint'), job('test', ['build']), job('extra')], plan: { stages: [['build', 'lint'], ['test']] } } as unknown as RunDetail;
    const { boxes, width, height } = layoutGraph(run);
    const at: Record<string, [number, number]> = Object.fromEntries(boxes.map((b) => [b.job.name, [b.x, b.y] as [number, number]]));
    expect(at.build![0]).toBe(at.lint![0]);
    expect(at.lint![1]).toBeGreaterThan(at.build![1]);
    expect(at.test![0]).toBeGreaterThan(at.build![0]);
    expect(at.extra![0]).toBeGreaterThan(at.test![0]);
    expect(width).toBeGreaterThan(at.extra![0]);
    expect(height).toBeGreaterThan(at.lint![1]);
  });

  it('lays out a run without a plan in one column', () => {
    const { boxes } = layoutGraph({ jobs: [job('a'), job('b')], plan: null } as unknown as RunDetail);
    expect(new Set(boxes.map((b) => b.x)).size).toBe(1);
  });

  it('frames a matrix job\'s combinations in one group under its key, each box as wide as its whole combination', () => {
    const combo = (suite: string) => job(`test (suite=${suite}, mode=integration-with-database)`, [], { suite, mode: 'integration-with-database' });
    const run = { jobs: [combo('unit'), job('lint'), combo('e2e')], plan: { stages: [[combo('unit').name, 'lint', combo('e2e').name]] } } as unknown as RunDetail;
    const { boxes, groups } = layoutGraph(run);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.key).toBe('test');
    const members = boxes.filter((b) => b.job.plan.matrix);
    expect(members.map((b) => b.label)).toEqual(['suite=unit, mode=integration-with-database', 'suite=e2e, mode=integration-with-database']);
    expect(members[1]!.y).toBe(members[0]!.y + 50 + 8); // together, though lint stood between them in the stage
    for (const b of members) expect(b.y).toBeGreaterThan(groups[0]!.y);
    expect(members[0]!.w).toBeGreaterThan(members[0]!.label.length * 7);
    expect(boxes.find((b) => b.job.name === 'lint')!.y).toBeGreaterThanOrEqual(groups[0]!.y + groups[0]!.h);
  });
});

describe('the badge', () => {
  it('says passing, failing or the status, and escapes the label', () => {
    expect(badgeSvg('success')).toContain('>passing<');
    expect(badgeSvg('failed')).toContain('>failing<');
    expect(badgeSvg('running')).toContain('>running<');
    expect(badgeSvg(null)).toContain('>unknown<');
    expect(badgeSvg('success', '<x>')).toContain('&#60;x&#62;');
  });
});

describe('sessions', () => {
  it('are kept in the database (a restart logs nobody out), expire, and compare CSRF tokens exactly', () => {
    const { store, clock } = tempStore();
    const sessions = createSessions(store.users, () => clock.now());
    const s = sessions.create('admin');
    expect(sessions.get(s.id)).toEqual(s);
    expect(JSON.stringify(store.users.getSession(s.id))).not.toContain(s.id);
    expect(sameToken(s.csrf, s.csrf)).toBe(true);
    expect(sameToken(s.csrf, `${s.csrf}x`)).toBe(false);
    expect(sameToken(s.csrf, undefined)).toBe(false);
    clock.advance(13 * 60 * 60 * 1000);
    expect(sessions.get(s.id)).toBeNull();
    const t = sessions.create('admin');
    sessions.remove(t.id);
    expect(sessions.get(t.id)).toBeNull();
  });
});
