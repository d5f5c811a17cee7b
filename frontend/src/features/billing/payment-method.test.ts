import { describe, expect, it } from 'vitest';
import { describeMethod } from './PaymentMethod';

const card = { provider: 'stripe', kind: 'CARD' as const, brand: 'visa', last4: '4242', expMonth: 4, expYear: 2031, expired: false, email: null };

describe('describeMethod', () => {
  it('names a card by brand, last four digits and expiry', () => {
    expect(describeMethod(card)).toBe('Visa •••• 4242, expires 04/2031');
    expect(describeMethod({ ...card, brand: 'amex', expired: true })).toBe('American Express •••• 4242, expired 04/2031');
    expect(describeMethod({ ...card, brand: 'discover', expMonth: null, expYear: null })).toBe('Discover •••• 4242');
  });
  it('names a PayPal account by its address', () => {
    expect(describeMethod({ ...card, kind: 'PAYPAL', brand: null, last4: null, email: 'a@example.com' })).toBe('PayPal (a@example.com)');
  });
});
