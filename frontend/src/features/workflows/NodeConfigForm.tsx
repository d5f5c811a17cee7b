// A node's configuration form, rendered from the JSON Schema of its type: text (one line, multi-
// line, expressions), numbers, integers, booleans, enums as selects, nested objects as field sets,
// string maps (headers) as key/value rows, arrays of primitives as lists, anything else as JSON.
// Every change calls `onChange` with the whole new configuration; errors of the client-side
// validation show once a field was touched, errors passed in (from the API) always.
import { useEffect, useId, useMemo, useState, type ReactNode } from 'react';
import {
  fieldKind,
  isExpression,
  isMultiline,
  labelOf,
  typeOf,
  validateConfig,
  type JsonSchema,
} from './jsonSchema';
import './workflows.css';

export interface NodeConfigFormProps {
  schema: JsonSchema;
  value: Record<string, unknown>;
  onChange: (value: Record<string, unknown>) => void;
  /** Errors from elsewhere (the API), keyed by dotted path; always shown. */
  errors?: Record<string, string>;
  /** Show client-side errors of untouched fields too. */
  showAllErrors?: boolean;
  disabled?: boolean;
  /** Prefix of the inputs' ids (several forms on one page). */
  idPrefix?: string;
}

type Obj = Record<string, unknown>;

export function NodeConfigForm({
  schema,
  value,
  onChange,
  errors,
  showAllErrors,
  disabled,
  idPrefix,
}: NodeConfigFormProps) {
  const autoId = useId();
  const prefix = idPrefix ?? `cfg${autoId.replace(/[^A-Za-z0-9]/g, '')}`;
  const [touched, setTouched] = useState<Set<string>>(() => new Set());
  // Text typed into number/JSON fields that does not parse yet, per path.
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const clientErrors = useMemo(() => validateConfig(schema, value ?? {}), [schema, value]);
  // An error from outside is about the value it was reported for: hide it once the field
  // changes, until new errors come in.
  const [edited, setEdited] = useState<Set<string>>(() => new Set());
  useEffect(() => setEdited(new Set()), [errors]);

  const touch = (path: string) =>
    setTouched((t) => {
      if (t.has(path)) return t;
      const n = new Set(t);
      n.add(path);
      return n;
    });
  const setLocalError = (path: string, message: string | null) =>
    setLocalErrors((e) => {
      if ((e[path] ?? null) === message) return e;
      const n = { ...e };
      if (message) n[path] = message;
      else delete n[path];
      return n;
    });

  const errorFor = (path: string): string | undefined =>
    localErrors[path] ??
    (edited.has(path) ? undefined : errors?.[path]) ??
    (showAllErrors || touched.has(path) ? clientErrors[path] : undefined);

  const ctx: Ctx = {
    prefix,
    disabled: !!disabled,
    errorFor,
    touch,
    setLocalError,
    edit: (path) =>
      setEdited((t) => {
        if (t.has(path)) return t;
        const n = new Set(t);
        n.add(path);
        return n;
      }),
  };
  const properties = Object.entries(schema.properties ?? {});
  const extra = errors?.[''];

  if (properties.length === 0 && fieldKind(schema) !== 'map') {
    return <p className="wf-muted">This node has no settings.</p>;
  }
  return (
    <div className="wf-form" role="group" aria-label="Node configuration">
      {extra && (
        <p className="wf-field-error" role="alert">
          {extra}
        </p>
      )}
      <ObjectFields schema={schema} value={value ?? {}} path="" onChange={onChange} ctx={ctx} />
    </div>
  );
}

interface Ctx {
  prefix: string;
  disabled: boolean;
  errorFor: (path: string) => string | undefined;
  touch: (path: string) => void;
  setLocalError: (path: string, message: string | null) => void;
  edit: (path: string) => void;
}

function inputId(ctx: Ctx, path: string) {
  return `${ctx.prefix}-${path.replace(/[^A-Za-z0-9_-]/g, '_') || 'root'}`;
}

function ObjectFields({
  schema,
  value,
  path,
  onChange,
  ctx,
}: {
  schema: JsonSchema;
  value: Obj;
  path: string;
  onChange: (v: Obj) => void;
  ctx: Ctx;
}) {
  const required = new Set(schema.required ?? []);
  return (
    <>
      {Object.entries(schema.properties ?? {}).map(([key, prop]) => {
        const p = path ? `${path}.${key}` : key;
        return (
          <Field
            key={key}
            name={key}
            schema={prop}
            path={p}
            required={required.has(key)}
            value={value[key]}
            ctx={ctx}
            onChange={(v) => {
              ctx.edit(p);
              const next = { ...value };
              if (v === undefined) delete next[key];
              else next[key] = v;
              onChange(next);
            }}
          />
        );
      })}
    </>
  );
}

function Label({ id, label, required }: { id: string; label: string; required: boolean }) {
  return (
    <span className="wf-label-row">
      <label htmlFor={id} className="wf-label">
        {label}
      </label>
      {required && (
        <span className="wf-required" aria-hidden="true" title="required">
          {' '}
          *
        </span>
      )}
    </span>
  );
}

function Help({ id, schema, extra }: { id: string; schema: JsonSchema; extra?: ReactNode }) {
  if (!schema.description && !extra) return null;
  return (
    <p id={id} className="wf-help">
      {schema.description}
      {extra}
    </p>
  );
}

function ErrorText({ id, error }: { id: string; error?: string }) {
  if (!error) return null;
  return (
    <p id={id} className="wf-field-error">
      {error}
    </p>
  );
}

function Field({
  name,
  schema,
  path,
  required,
  value,
  onChange,
  ctx,
}: {
  name: string;
  schema: JsonSchema;
  path: string;
  required: boolean;
  value: unknown;
  onChange: (v: unknown) => void;
  ctx: Ctx;
}) {
  const id = inputId(ctx, path);
  const kind = fieldKind(schema);
  const label = labelOf(name, schema);
  const error = ctx.errorFor(path);
  const helpId = `${id}-help`;
  const errId = `${id}-error`;
  const describedBy = [schema.description ? helpId : null, error ? errId : null].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name: path,
    disabled: ctx.disabled,
    'aria-invalid': error ? true : undefined,
    'aria-required': required || undefined,
    'aria-describedby': describedBy,
    onBlur: () => ctx.touch(path),
  } as const;

  switch (kind) {
    case 'boolean': {
      const checked = typeof value === 'boolean' ? value : schema.default === true;
      return (
        <div className="wf-field wf-field-check" data-kind="boolean">
          <input
            type="checkbox"
            {...common}
            checked={checked}
            onChange={(e) => {
              ctx.touch(path);
              onChange(e.target.checked);
            }}
          />
          <Label id={id} label={label} required={required} />
          <Help id={helpId} schema={schema} />
          <ErrorText id={errId} error={error} />
        </div>
      );
    }
    case 'enum': {
      const options = schema.enum!;
      const current = value ?? schema.default;
      const index = options.findIndex((o) => o === current);
      return (
        <div className="wf-field" data-kind="enum">
          <Label id={id} label={label} required={required} />
          <select
            {...common}
            value={index < 0 ? '' : String(index)}
            onChange={(e) => {
              ctx.touch(path);
              onChange(e.target.value === '' ? undefined : options[Number(e.target.value)]);
            }}
          >
            {(index < 0 || !required) && <option value="">{required ? 'Choose…' : '(none)'}</option>}
            {options.map((o, i) => (
              <option key={i} value={String(i)}>
                {String(o)}
              </option>
            ))}
          </select>
          <Help id={helpId} schema={schema} />
          <ErrorText id={errId} error={error} />
        </div>
      );
    }
    case 'integer':
    case 'number':
      return (
        <div className="wf-field" data-kind={kind}>
          <Label id={id} label={label} required={required} />
          <NumberInput
            common={common}
            integer={kind === 'integer'}
            schema={schema}
            value={typeof value === 'number' ? value : undefined}
            onChange={(n) => {
              ctx.touch(path);
              onChange(n);
            }}
            onInvalid={(m) => ctx.setLocalError(path, m)}
          />
          <Help id={helpId} schema={schema} />
          <ErrorText id={errId} error={error} />
        </div>
      );
    case 'string': {
      const multiline = isMultiline(name, schema);
      const expression = isExpression(name, schema);
      const text = typeof value === 'string' ? value : '';
      const props = {
        ...common,
        className: expression ? 'wf-mono' : undefined,
        value: text,
        maxLength: schema.maxLength,
        placeholder: typeof schema.default === 'string' ? schema.default : expression ? '{{ … }}' : undefined,
        spellCheck: expression ? false : undefined,
        onChange: (e: { target: { value: string } }) => {
          ctx.touch(path);
          onChange(e.target.value === '' ? undefined : e.target.value);
        },
      };
      return (
        <div className="wf-field" data-kind={multiline ? 'text' : 'string'}>
          <Label id={id} label={label} required={required} />
          {multiline ? <textarea rows={name === 'source' ? 8 : 4} {...props} /> : <input type="text" {...props} />}
          <Help id={helpId} schema={schema} />
          <ErrorText id={errId} error={error} />
        </div>
      );
    }
    case 'object':
      return (
        <fieldset className="wf-fieldset" data-kind="object">
          <legend>
            {label}
            {required && <span className="wf-required" aria-hidden="true"> *</span>}
          </legend>
          {schema.description && <p className="wf-help">{schema.description}</p>}
          <ErrorText id={errId} error={error} />
          <ObjectFields
            schema={schema}
            value={value && typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : {}}
            path={path}
            onChange={(v) => onChange(Object.keys(v).length === 0 ? undefined : v)}
            ctx={ctx}
          />
        </fieldset>
      );
    case 'map':
      return (
        <MapField
          label={label}
          required={required}
          schema={schema}
          path={path}
          value={value && typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : {}}
          onChange={onChange}
          ctx={ctx}
        />
      );
    case 'list':
      return (
        <ListField
          label={label}
          required={required}
          schema={schema}
          path={path}
          value={Array.isArray(value) ? value : []}
          onChange={onChange}
          ctx={ctx}
        />
      );
    default:
      return (
        <div className="wf-field" data-kind="json">
          <Label id={id} label={label} required={required} />
          <JsonInput
            common={common}
            value={value}
            onChange={(v) => {
              ctx.touch(path);
              onChange(v);
            }}
            onInvalid={(m) => ctx.setLocalError(path, m)}
          />
          <Help id={helpId} schema={schema} extra={<span className="wf-muted"> (JSON or an expression in quotes)</span>} />
          <ErrorText id={errId} error={error} />
        </div>
      );
  }
}

type Common = Record<string, unknown> & { id: string };

function NumberInput({
  common,
  integer,
  schema,
  value,
  onChange,
  onInvalid,
}: {
  common: Common;
  integer: boolean;
  schema: JsonSchema;
  value: number | undefined;
  onChange: (v: number | undefined) => void;
  onInvalid: (message: string | null) => void;
}) {
  const [text, setText] = useState(value === undefined ? '' : String(value));
  useEffect(() => {
    // Follow changes from outside (undo, reload) unless the text already means the value.
    setText((t) => (parseNumber(t) === value ? t : value === undefined ? '' : String(value)));
  }, [value]);
  return (
    <input
      {...common}
      type="text"
      inputMode={integer ? 'numeric' : 'decimal'}
      value={text}
      placeholder={schema.default !== undefined ? String(schema.default) : undefined}
      onChange={(e) => {
        const t = e.target.value;
        setText(t);
        if (t.trim() === '') {
          onInvalid(null);
          onChange(undefined);
          return;
        }
        const n = parseNumber(t);
        if (n === undefined) {
          onInvalid(integer ? 'Must be a whole number' : 'Must be a number');
          return;
        }
        onInvalid(null);
        onChange(n);
      }}
    />
  );
}

function parseNumber(t: string): number | undefined {
  const s = t.trim();
  if (s === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

function JsonInput({
  common,
  value,
  onChange,
  onInvalid,
}: {
  common: Common;
  value: unknown;
  onChange: (v: unknown) => void;
  onInvalid: (message: string | null) => void;
}) {
  const show = (v: unknown) => (v === undefined ? '' : JSON.stringify(v, null, 2));
  const [text, setText] = useState(() => show(value));
  useEffect(() => {
    setText((t) => {
      try {
        if (t.trim() !== '' && JSON.stringify(JSON.parse(t)) === JSON.stringify(value)) return t;
      } catch {
        /* keep what is being typed */
        return t;
      }
      return show(value);
    });
  }, [value]);
  return (
    <textarea
      {...common}
      className="wf-mono"
      rows={4}
      spellCheck={false}
      value={text}
      onChange={(e) => {
        const t = e.target.value;
        setText(t);
        if (t.trim() === '') {
          onInvalid(null);
          onChange(undefined);
          return;
        }
        try {
          const v = JSON.parse(t);
          onInvalid(null);
          onChange(v);
        } catch {
          onInvalid('Not valid JSON');
        }
      }}
    />
  );
}

function MapField({
  label,
  required,
  schema,
  path,
  value,
  onChange,
  ctx,
}: {
  label: string;
  required: boolean;
  schema: JsonSchema;
  path: string;
  value: Obj;
  onChange: (v: unknown) => void;
  ctx: Ctx;
}) {
  const [rows, setRows] = useState<[string, string][]>(() => Object.entries(value).map(([k, v]) => [k, String(v)]));
  useEffect(() => {
    setRows((r) => {
      const fromRows = JSON.stringify(Object.fromEntries(r.filter(([k]) => k !== '')));
      return fromRows === JSON.stringify(value) ? r : Object.entries(value).map(([k, v]) => [k, String(v)]);
    });
  }, [value]);
  const emit = (next: [string, string][]) => {
    setRows(next);
    ctx.touch(path);
    const obj = Object.fromEntries(next.filter(([k]) => k !== ''));
    onChange(Object.keys(obj).length === 0 ? undefined : obj);
  };
  const id = inputId(ctx, path);
  const error = ctx.errorFor(path);
  return (
    <fieldset className="wf-fieldset" data-kind="map">
      <legend>
        {label}
        {required && <span className="wf-required" aria-hidden="true"> *</span>}
      </legend>
      {schema.description && <p className="wf-help">{schema.description}</p>}
      {rows.map(([k, v], i) => (
        <div className="wf-row" key={i}>
          <label className="wf-sr-only" htmlFor={`${id}-${i}-key`}>
            {label} name {i + 1}
          </label>
          <input
            id={`${id}-${i}-key`}
            type="text"
            placeholder="Name"
            value={k}
            disabled={ctx.disabled}
            onChange={(e) => emit(rows.map((r, j) => (j === i ? [e.target.value, r[1]] : r)))}
          />
          <label className="wf-sr-only" htmlFor={`${id}-${i}-value`}>
            {label} value {i + 1}
          </label>
          <input
            id={`${id}-${i}-value`}
            type="text"
            placeholder="Value"
            value={v}
            disabled={ctx.disabled}
            onChange={(e) => emit(rows.map((r, j) => (j === i ? [r[0], e.target.value] : r)))}
          />
          <button
            type="button"
            className="wf-btn wf-btn-small"
            disabled={ctx.disabled}
            aria-label={`Remove ${label} ${k || i + 1}`}
            onClick={() => emit(rows.filter((_, j) => j !== i))}
          >
            ×
          </button>
        </div>
      ))}
      <button type="button" className="wf-btn wf-btn-small" disabled={ctx.disabled} onClick={() => setRows([...rows, ['', '']])}>
        Add {label.toLowerCase()} entry
      </button>
      <ErrorText id={`${id}-error`} error={error} />
    </fieldset>
  );
}

function ListField({
  label,
  required,
  schema,
  path,
  value,
  onChange,
  ctx,
}: {
  label: string;
  required: boolean;
  schema: JsonSchema;
  path: string;
  value: unknown[];
  onChange: (v: unknown) => void;
  ctx: Ctx;
}) {
  const item = schema.items ?? {};
  const itemType = typeOf(item);
  const blank = () => (item.enum ? item.enum[0] : itemType === 'boolean' ? false : itemType === 'string' ? '' : 0);
  const error = ctx.errorFor(path);
  const id = inputId(ctx, path);
  return (
    <fieldset className="wf-fieldset" data-kind="list">
      <legend>
        {label}
        {required && <span className="wf-required" aria-hidden="true"> *</span>}
      </legend>
      {schema.description && <p className="wf-help">{schema.description}</p>}
      {value.length === 0 && <p className="wf-muted">No items.</p>}
      {value.map((v, i) => (
        <div className="wf-row" key={i}>
          <Field
            name={`${label} ${i + 1}`}
            schema={{ ...item, title: `${label} ${i + 1}`, description: undefined }}
            path={`${path}.${i}`}
            required={false}
            value={v}
            ctx={ctx}
            onChange={(nv) => {
              const next = [...value];
              next[i] = nv === undefined ? blank() : nv;
              onChange(next);
            }}
          />
          <button
            type="button"
            className="wf-btn wf-btn-small"
            disabled={ctx.disabled}
            aria-label={`Remove ${label} ${i + 1}`}
            onClick={() => {
              const next = value.filter((_, j) => j !== i);
              onChange(next.length === 0 ? undefined : next);
            }}
          >
            ×
          </button>
        </div>
      ))}
      <button
        type="button"
        className="wf-btn wf-btn-small"
        disabled={ctx.disabled}
        onClick={() => {
          ctx.touch(path);
          onChange([...value, blank()]);
        }}
      >
        Add to {label.toLowerCase()}
      </button>
      <ErrorText id={`${id}-error`} error={error} />
    </fieldset>
  );
}

export default NodeConfigForm;
