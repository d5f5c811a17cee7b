import { describe, expect, it } from 'vitest';
import { money } from './Billing';

describe('money', () => {
  it('turns minor units into the currency’s amount', () => {
    expect(money(2900, 'EUR')).toMatch(/29[.,]00/);
    expect(money(-1450, 'USD')).toMatch(/14[.,]50/);
    expect(money(500, 'JPY')).toMatch(/500/);
    expect(money(500, 'JPY')).not.toMatch(/5[.,]00/);
  });
});
