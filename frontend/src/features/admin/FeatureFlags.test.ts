import { describe, expect, it } from 'vitest';
import { draftOf, toInput, type DraftRule } from './FeatureFlags';

describe('flag rules in the editor', () => {
  it('round-trip every rule kind between the API and the form', () => {
    const rules = [
      { kind: 'ORGANISATION', organisationId: 'VGVuYW50OjE', plan: null, percent: null, role: null, value: { enabled: false, variant: null } },
      { kind: 'PLAN', organisationId: null, plan: 'pro', percent: null, role: null, value: { enabled: true, variant: null } },
      { kind: 'ROLLOUT', organisationId: null, plan: null, percent: 0, role: null, value: { enabled: true, variant: null } },
      { kind: 'PLATFORM_ROLE', organisationId: null, plan: null, percent: null, role: 'SUPPORT', value: { enabled: true, variant: null } },
    ] as const;
    const drafts = draftOf({ rules: rules as never });
    expect(drafts).toEqual<DraftRule[]>([
      { kind: 'ORGANISATION', param: 'VGVuYW50OjE', value: 'false' },
      { kind: 'PLAN', param: 'pro', value: 'true' },
      { kind: 'ROLLOUT', param: '0', value: 'true' },
      { kind: 'PLATFORM_ROLE', param: 'SUPPORT', value: 'true' },
    ]);
    expect(drafts.map((d) => toInput('BOOLEAN', d))).toEqual([
      { kind: 'ORGANISATION', organisationId: 'VGVuYW50OjE', value: { enabled: false } },
      { kind: 'PLAN', plan: 'pro', value: { enabled: true } },
      { kind: 'ROLLOUT', percent: 0, value: { enabled: true } },
      { kind: 'PLATFORM_ROLE', role: 'SUPPORT', value: { enabled: true } },
    ]);
  });

  it('gives a variant flag its variant and a new role rule a role', () => {
    expect(toInput('VARIANT', { kind: 'PLAN', param: 'free', value: 'blue' })).toEqual({ kind: 'PLAN', plan: 'free', value: { variant: 'blue' } });
    expect(toInput('BOOLEAN', { kind: 'PLATFORM_ROLE', param: '', value: 'true' }).role).toBe('SUPER_ADMIN');
  });
});
