import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { NodeConfigForm } from './NodeConfigForm';
import { defaultsFor, serverFieldErrors, validateConfig, type JsonSchema } from './jsonSchema';

const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'source'],
  properties: {
    url: { type: 'string', maxLength: 100, description: 'Absolute http(s) URL; expressions allowed' },
    source: { type: 'string', minLength: 1, description: 'Rhai script' },
    retries: { type: 'integer', minimum: 0, maximum: 5, default: 2 },
    temperature: { type: 'number', minimum: 0, maximum: 2 },
    failOnHttpError: { type: 'boolean', default: true },
    method: { enum: ['GET', 'POST', 'PUT'], default: 'GET' },
    auth: {
      type: 'object',
      required: ['user'],
      properties: { user: { type: 'string' }, password: { type: 'string' } },
    },
    tags: { type: 'array', items: { type: 'string' } },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    body: { description: 'JSON body' },
  },
};

/** Keeps the value like the builder does and records every onChange. */
function Harness({ initial = {}, onChange, errors }: { initial?: Record<string, unknown>; onChange?: (v: Record<string, unknown>) => void; errors?: Record<string, string> }) {
  const [value, setValue] = useState<Record<string, unknown>>(initial);
  return (
    <NodeConfigForm
      idPrefix="t"
      schema={schema}
      value={value}
      errors={errors}
      onChange={(v) => {
        setValue(v);
        onChange?.(v);
      }}
    />
  );
}

describe('NodeConfigForm', () => {
  it('renders a labelled control of the right kind for every property', () => {
    render(<Harness initial={defaultsFor(schema)} />);
    expect(screen.getByLabelText('Url')).toHaveAttribute('type', 'text');
    expect(screen.getByLabelText('Source').tagName).toBe('TEXTAREA');
    expect(screen.getByLabelText('Source')).toHaveClass('wf-mono');
    expect(screen.getByLabelText('Retries')).toHaveAttribute('inputmode', 'numeric');
    expect(screen.getByLabelText('Temperature')).toHaveAttribute('inputmode', 'decimal');
    expect(screen.getByLabelText('Fail on http error')).toHaveAttribute('type', 'checkbox');
    expect(screen.getByLabelText('Method').tagName).toBe('SELECT');
    const auth = screen.getByRole('group', { name: /Auth/ });
    expect(within(auth).getByLabelText('User')).toBeInTheDocument();
    expect(within(auth).getByLabelText('Password')).toBeInTheDocument();
    expect(screen.getByRole('group', { name: 'Tags' })).toBeInTheDocument();
    expect(screen.getByRole('group', { name: 'Headers' })).toBeInTheDocument();
    expect(screen.getByLabelText('Body').tagName).toBe('TEXTAREA');
    // Descriptions are wired to their inputs.
    expect(screen.getByLabelText('Url')).toHaveAccessibleDescription('Absolute http(s) URL; expressions allowed');
  });

  it('marks required fields', () => {
    render(<Harness />);
    expect(screen.getByLabelText('Url')).toHaveAttribute('aria-required', 'true');
    expect(screen.getByLabelText('Source')).toHaveAttribute('aria-required', 'true');
    expect(screen.getByLabelText('Temperature')).not.toHaveAttribute('aria-required');
    expect(screen.getByText('Url').parentElement).toHaveTextContent('Url *');
  });

  it('shows the defaults', () => {
    render(<Harness initial={defaultsFor(schema)} />);
    expect(defaultsFor(schema)).toEqual({ retries: 2, failOnHttpError: true, method: 'GET' });
    expect(screen.getByLabelText('Retries')).toHaveValue('2');
    expect(screen.getByLabelText('Fail on http error')).toBeChecked();
    expect(screen.getByLabelText('Method')).toHaveDisplayValue('GET');
  });

  it('calls onChange with the whole configuration, typed', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    render(<Harness initial={defaultsFor(schema)} onChange={onChange} />);
    await user.type(screen.getByLabelText('Url'), 'https://x.test');
    expect(onChange).toHaveBeenLastCalledWith({ retries: 2, failOnHttpError: true, method: 'GET', url: 'https://x.test' });
    await user.clear(screen.getByLabelText('Retries'));
    await user.type(screen.getByLabelText('Retries'), '4');
    expect(onChange.mock.lastCall![0].retries).toBe(4);
    await user.type(screen.getByLabelText('Temperature'), '0.5');
    expect(onChange.mock.lastCall![0].temperature).toBe(0.5);
    await user.click(screen.getByLabelText('Fail on http error'));
    expect(onChange.mock.lastCall![0].failOnHttpError).toBe(false);
    await user.selectOptions(screen.getByLabelText('Method'), 'POST');
    expect(onChange.mock.lastCall![0].method).toBe('POST');
    await user.type(screen.getByLabelText('User'), 'ada');
    expect(onChange.mock.lastCall![0].auth).toEqual({ user: 'ada' });
    await user.click(screen.getByRole('button', { name: 'Add to tags' }));
    await user.type(screen.getByLabelText('Tags 1'), 'red');
    expect(onChange.mock.lastCall![0].tags).toEqual(['red']);
    await user.click(screen.getByRole('button', { name: 'Add headers entry' }));
    await user.type(screen.getByLabelText('Headers name 1'), 'Accept');
    await user.type(screen.getByLabelText('Headers value 1'), 'text/plain');
    expect(onChange.mock.lastCall![0].headers).toEqual({ Accept: 'text/plain' });
    await user.click(screen.getByLabelText('Body'));
    await user.paste('{"a": [1, 2]}');
    expect(onChange.mock.lastCall![0].body).toEqual({ a: [1, 2] });
    // Emptying a field removes the key.
    await user.clear(screen.getByLabelText('Url'));
    expect(onChange.mock.lastCall![0]).not.toHaveProperty('url');
  });

  it('validates as the user types and shows the errors next to the fields', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    render(<Harness onChange={onChange} />);
    const retries = screen.getByLabelText('Retries');
    await user.type(retries, '9');
    expect(retries).toHaveAttribute('aria-invalid', 'true');
    expect(retries).toHaveAccessibleDescription('Must be at most 5');
    await user.clear(retries);
    await user.type(retries, 'abc');
    expect(screen.getByText('Must be a whole number')).toBeInTheDocument();
    // Text that is not a number is not passed on.
    expect(onChange.mock.lastCall?.[0]?.retries).not.toBe('abc');
    await user.type(screen.getByLabelText('Body'), '{{');
    expect(screen.getByText('Not valid JSON')).toBeInTheDocument();
    // A required field shows "Required" once touched.
    await user.click(screen.getByLabelText('Source'));
    await user.tab();
    expect(screen.getByLabelText('Source')).toHaveAccessibleDescription('Rhai script Required');
  });

  it('shows errors from the API (BAD_USER_INPUT fields, validation problems) without touching', () => {
    const errors = serverFieldErrors([
      'config.url: "ftp://x" is not a valid http(s) URL',
      'config: "source" is a required property',
      'input.graph.nodes.1.config.auth.user: must not be empty',
    ]);
    expect(errors).toEqual({
      url: '"ftp://x" is not a valid http(s) URL',
      source: 'Required',
      'auth.user': 'must not be empty',
    });
    render(<Harness errors={errors} />);
    expect(screen.getByLabelText('Url')).toHaveAccessibleDescription(/not a valid http\(s\) URL/);
    expect(screen.getByLabelText('Source')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByLabelText('User')).toHaveAccessibleDescription('must not be empty');
  });

  it('hides an error from the API once its field is edited', async () => {
    const user = userEvent.setup();
    render(<Harness errors={{ url: 'no such host' }} />);
    expect(screen.getByText('no such host')).toBeInTheDocument();
    await user.type(screen.getByLabelText('Url'), 'https://ok.test');
    expect(screen.queryByText('no such host')).not.toBeInTheDocument();
  });

  it('validateConfig reports required, types, ranges and nested fields', () => {
    expect(validateConfig(schema, {})).toMatchObject({ url: 'Required', source: 'Required' });
    expect(
      validateConfig(schema, { url: 'x', source: 's', retries: 1.5, temperature: 3, method: 'DELETE', auth: {}, tags: [1] }),
    ).toEqual({
      retries: 'Must be a whole number',
      temperature: 'Must be at most 2',
      method: 'Must be one of GET, POST, PUT',
      'auth.user': 'Required',
      'tags.0': 'Must be text',
    });
  });

  it('says when a node type has no settings, and can be disabled', () => {
    const { rerender } = render(<NodeConfigForm schema={{ type: 'object', properties: {} }} value={{}} onChange={() => {}} />);
    expect(screen.getByText('This node has no settings.')).toBeInTheDocument();
    rerender(<NodeConfigForm schema={schema} value={{}} onChange={() => {}} disabled />);
    expect(screen.getByLabelText('Url')).toBeDisabled();
  });
});
