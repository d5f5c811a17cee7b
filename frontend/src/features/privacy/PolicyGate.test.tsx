import { describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Provider, type Client } from 'urql';
import { fromValue, never } from 'wonka';
import { PolicyGate } from './PolicyGate';

const pending = {
  viewer: {
    id: 'u1',
    policiesToAccept: [
      { kind: 'TERMS', version: '2', url: 'https://zygo.test/terms' },
      { kind: 'PRIVACY', version: '2026-01', url: 'https://zygo.test/privacy' },
    ],
    policyAcceptances: [],
  },
};

function client(data: unknown, executeMutation = vi.fn(() => fromValue({ data: { acceptPolicies: { policiesToAccept: [] } } }))) {
  return { executeQuery: vi.fn(() => fromValue({ data })), executeMutation, executeSubscription: vi.fn(() => never) } as unknown as Client;
}

describe('PolicyGate', () => {
  it('asks for every policy not accepted yet and accepts the versions shown', async () => {
    const executeMutation = vi.fn(() => fromValue({ data: { acceptPolicies: { policiesToAccept: [] } } }));
    render(
      <Provider value={client(pending, executeMutation)}>
        <PolicyGate />
      </Provider>,
    );
    expect(screen.getByRole('dialog', { name: 'Please review our policies' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Terms of service' })).toHaveAttribute('href', 'https://zygo.test/terms');
    await userEvent.click(screen.getByRole('button', { name: 'I accept' }));
    expect(executeMutation).toHaveBeenCalledTimes(1);
    const [op] = executeMutation.mock.calls[0] as unknown as [{ variables: unknown }];
    expect(op.variables).toEqual({
      input: { policies: [{ kind: 'TERMS', version: '2' }, { kind: 'PRIVACY', version: '2026-01' }] },
    });
  });

  it('shows nothing when everything is accepted', () => {
    render(
      <Provider value={client({ viewer: { id: 'u1', policiesToAccept: [], policyAcceptances: [] } })}>
        <PolicyGate />
      </Provider>,
    );
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });
});
