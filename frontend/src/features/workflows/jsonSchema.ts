// The subset of JSON Schema (2020-12) that node configurations use, and what a form needs from
// it: which widget a property gets, its defaults, and client-side validation with messages keyed
// by the property's dotted path (`headers.Accept`, `items.2`).

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
}

export type FieldKind =
  | 'enum'
  | 'boolean'
  | 'integer'
  | 'number'
  | 'string'
  | 'object'
  | 'map'
  | 'list'
  | 'json';

const PRIMITIVES = new Set(['string', 'number', 'integer', 'boolean']);

export function typeOf(schema: JsonSchema): string | undefined {
  if (Array.isArray(schema.type)) return schema.type.find((t) => t !== 'null');
  return schema.type;
}

export function fieldKind(schema: JsonSchema): FieldKind {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return 'enum';
  const t = typeOf(schema);
  switch (t) {
    case 'boolean':
      return 'boolean';
    case 'integer':
      return 'integer';
    case 'number':
      return 'number';
    case 'string':
      return 'string';
    case 'object':
      if (schema.properties && Object.keys(schema.properties).length > 0) return 'object';
      if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
        const inner = typeOf(schema.additionalProperties);
        if (inner && PRIMITIVES.has(inner)) return 'map';
      }
      return 'json';
    case 'array': {
      const inner = schema.items ? typeOf(schema.items) : undefined;
      if (schema.items && ((inner && PRIMITIVES.has(inner)) || schema.items.enum)) return 'list';
      return 'json';
    }
    default:
      return 'json';
  }
}

const MULTILINE_KEYS = new Set(['source', 'body', 'prompt', 'system', 'content', 'template', 'script']);

/** A string property edited in a text area rather than a one-line input. */
export function isMultiline(key: string, schema: JsonSchema): boolean {
  if (schema.format === 'textarea' || schema.format === 'multiline') return true;
  return MULTILINE_KEYS.has(key);
}

/** A string property that takes MiniJinja expressions or code (shown in a monospace font). */
export function isExpression(key: string, schema: JsonSchema): boolean {
  const d = (schema.description ?? '').toLowerCase();
  return d.includes('expression') || d.includes('{{') || d.includes('script') || key === 'source';
}

export function humanize(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function labelOf(key: string, schema: JsonSchema): string {
  return schema.title ?? humanize(key);
}

/** The configuration a new node starts with: every property's `default`, nested objects too. */
export function defaultsFor(schema: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if (prop.default !== undefined) out[key] = structuredClone(prop.default);
    else if (fieldKind(prop) === 'object') {
      const inner = defaultsFor(prop);
      if (Object.keys(inner).length > 0) out[key] = inner;
    }
  }
  return out;
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v === '');
}

function checkValue(schema: JsonSchema, value: unknown, path: string, errors: Record<string, string>) {
  if (value === undefined || value === null) return;
  const kind = fieldKind(schema);
  const put = (m: string) => {
    if (!errors[path]) errors[path] = m;
  };
  if (kind === 'enum') {
    if (!schema.enum!.some((e) => e === value)) put(`Must be one of ${schema.enum!.map(String).join(', ')}`);
    return;
  }
  const t = typeOf(schema);
  if (t === 'string' && typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength && value.length > 0)
      put(`At least ${schema.minLength} character${schema.minLength === 1 ? '' : 's'}`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) put(`At most ${schema.maxLength} characters`);
    if (schema.pattern && value && !new RegExp(schema.pattern, 'u').test(value)) put('Does not have the expected format');
    return;
  }
  if (t === 'string') return put('Must be text');
  if (t === 'integer' || t === 'number') {
    if (typeof value !== 'number' || Number.isNaN(value)) return put('Must be a number');
    if (t === 'integer' && !Number.isInteger(value)) return put('Must be a whole number');
    if (schema.minimum !== undefined && value < schema.minimum) put(`Must be at least ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) put(`Must be at most ${schema.maximum}`);
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum)
      put(`Must be more than ${schema.exclusiveMinimum}`);
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum)
      put(`Must be less than ${schema.exclusiveMaximum}`);
    return;
  }
  if (t === 'boolean') {
    if (typeof value !== 'boolean') put('Must be true or false');
    return;
  }
  if (t === 'object') {
    if (typeof value !== 'object' || Array.isArray(value)) return put('Must be an object');
    validateObject(schema, value as Record<string, unknown>, path, errors);
    return;
  }
  if (t === 'array') {
    if (!Array.isArray(value)) return put('Must be a list');
    if (schema.minItems !== undefined && value.length < schema.minItems) put(`At least ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) put(`At most ${schema.maxItems} items`);
    if (schema.items) value.forEach((v, i) => checkValue(schema.items!, v, `${path}.${i}`, errors));
  }
}

function validateObject(schema: JsonSchema, value: Record<string, unknown>, prefix: string, errors: Record<string, string>) {
  const join = (k: string) => (prefix ? `${prefix}.${k}` : k);
  for (const key of schema.required ?? []) {
    if (isEmpty(value[key])) errors[join(key)] = 'Required';
  }
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if (!errors[join(key)]) checkValue(prop, value[key], join(key), errors);
  }
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    const known = new Set(Object.keys(schema.properties ?? {}));
    for (const [key, v] of Object.entries(value)) {
      if (!known.has(key)) checkValue(schema.additionalProperties, v, join(key), errors);
    }
  }
}

/** Problems of `value` against `schema`, keyed by dotted path (`''`-free; top-level keys bare). */
export function validateConfig(schema: JsonSchema, value: Record<string, unknown>): Record<string, string> {
  const errors: Record<string, string> = {};
  validateObject(schema, value ?? {}, '', errors);
  return errors;
}

/**
 * Field errors from the API: validation problems (`config.maxOperations: "abc" is not of type
 * "integer"`, `config: "milliseconds" is a required property`) and BAD_USER_INPUT fields
 * (`input.config.url`, `input.graph.nodes.2.config.url`), keyed like `validateConfig`.
 */
export function serverFieldErrors(messages: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of messages) {
    const required = m.match(/^config(?:\.([\w.]+))?: "([^"]+)" is a required property/);
    if (required) {
      const path = required[1] ? `${required[1]}.${required[2]}` : required[2];
      out[path] ??= 'Required';
      continue;
    }
    const field = m.match(/^(?:input\.(?:graph\.nodes\.\d+\.)?)?config\.([\w.]+):\s*(.*)$/);
    if (field) out[field[1]] ??= field[2];
  }
  return out;
}
