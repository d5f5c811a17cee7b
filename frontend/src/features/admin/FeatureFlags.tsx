// Feature flags (platform operators): every flag with its ordered rules; super administrators
// create, edit (description, default, rules) and delete them. Support reads only (the API
// refuses their changes). Rules are tried in order: organisation, plan, rollout, platform role.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  AdminOverviewDocument,
  CreateFeatureFlagDocument,
  DeleteFeatureFlagDocument,
  FeatureFlagsDocument,
  UpdateFeatureFlagDocument,
  type FeatureFlagKind,
  type FeatureFlagRuleInput,
  type FeatureFlagRuleKind,
  type FeatureFlagsQuery,
  type PlatformRole,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, ConfirmButton, Field, formatDate, Loading, PageHeader, SelectField } from '../../ui';

type Flag = FeatureFlagsQuery['featureFlags'][number];
type Value = { enabled?: boolean | null; variant?: string | null };

const RULE_KINDS: FeatureFlagRuleKind[] = ['ORGANISATION', 'PLAN', 'ROLLOUT', 'PLATFORM_ROLE'];

function show(v: Value | null | undefined): string {
  if (!v) return '—';
  return v.variant ?? (v.enabled ? 'on' : 'off');
}

export default function FeatureFlags() {
  useDocumentTitle('Feature flags');
  const [me] = useQuery({ query: AdminOverviewDocument });
  const [res, reexecute] = useQuery({ query: FeatureFlagsDocument, requestPolicy: 'cache-and-network' });
  const reload = () => reexecute({ requestPolicy: 'network-only' });
  const superAdmin = me.data?.admin.role === 'SUPER_ADMIN';
  return (
    <section className="page">
      <PageHeader title="Feature flags" />
      <p className="muted">
        Each organisation gets the value of the first rule that matches, else the default. A boolean flag named <code>module.&lt;name&gt;</code>{' '}
        (collection, infrastructure, resources, studio, workflows) set off switches that module off for the organisations it matches.
      </p>
      {res.error && !res.data && <Alert>{errorMessage(res.error)}</Alert>}
      {res.fetching && !res.data && <Loading label="Loading flags…" />}
      {superAdmin && <CreateFlag onCreated={reload} />}
      {res.data && res.data.featureFlags.length === 0 && <p className="muted">No flags yet.</p>}
      {res.data?.featureFlags.map((f) => (
        <FlagCard key={f.id} flag={f} editable={superAdmin} onChanged={reload} />
      ))}
    </section>
  );
}

function CreateFlag({ onCreated }: { onCreated: () => void }) {
  const [key, setKey] = useState('');
  const [description, setDescription] = useState('');
  const [kind, setKind] = useState<FeatureFlagKind>('BOOLEAN');
  const [variants, setVariants] = useState('');
  const [def, setDef] = useState('false');
  const [res, create] = useMutation(CreateFeatureFlagDocument);
  const errs = fieldErrors(res.error);
  const names = variants
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await create({
      input: {
        key,
        description,
        kind,
        variants: kind === 'VARIANT' ? names : [],
        default: kind === 'VARIANT' ? { variant: def } : { enabled: def === 'true' },
      },
    });
    if (r.data?.createFeatureFlag) {
      setKey('');
      setDescription('');
      setVariants('');
      onCreated();
    }
  }

  return (
    <details className="card">
      <summary>
        <strong>Create a flag</strong>
      </summary>
      <form onSubmit={submit} noValidate>
        <div className="row">
          <Field label="Key" value={key} onChange={(e) => setKey(e.target.value)} error={errs['input.key']} hint="e.g. newEditor or module.studio" required />
          <SelectField
            label="Kind"
            value={kind}
            onChange={(e) => {
              const k = e.target.value as FeatureFlagKind;
              setKind(k);
              setDef(k === 'BOOLEAN' ? 'false' : '');
            }}
            error={errs['input.kind']}
          >
            <option value="BOOLEAN">Boolean</option>
            <option value="VARIANT">Variant</option>
          </SelectField>
        </div>
        <Field label="Description" value={description} onChange={(e) => setDescription(e.target.value)} error={errs['input.description']} />
        {kind === 'VARIANT' && (
          <Field
            label="Variants"
            value={variants}
            onChange={(e) => setVariants(e.target.value)}
            error={errs['input.variants'] ?? errs.variants}
            hint="Comma-separated, 2 to 20 names."
          />
        )}
        <ValueSelect label="Default" kind={kind} variants={names} value={def} onChange={setDef} error={errs['input.default'] ?? errs['input.default.variant']} />
        <Alert>{errs['']}</Alert>
        <Button type="submit" busy={res.fetching} busyLabel="Creating…">
          Create flag
        </Button>
      </form>
    </details>
  );
}

function ValueSelect(props: { label: string; kind: FeatureFlagKind; variants: string[]; value: string; onChange: (v: string) => void; error?: string }) {
  const { label, kind, variants, value, onChange, error } = props;
  return (
    <SelectField label={label} value={value} onChange={(e) => onChange(e.target.value)} error={error}>
      {kind === 'BOOLEAN' ? (
        <>
          <option value="true">On</option>
          <option value="false">Off</option>
        </>
      ) : (
        <>
          <option value="">Choose…</option>
          {variants.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </>
      )}
    </SelectField>
  );
}

/** A rule as the form edits it: every parameter as text. */
export type DraftRule = { kind: FeatureFlagRuleKind; param: string; value: string };

export function draftOf(flag: Pick<Flag, 'rules'>): DraftRule[] {
  return flag.rules.map((r) => ({
    kind: r.kind,
    param: r.organisationId ?? r.plan ?? (r.percent != null ? String(r.percent) : null) ?? r.role ?? '',
    value: r.value.variant ?? String(r.value.enabled ?? false),
  }));
}

export function toInput(kind: FeatureFlagKind, r: DraftRule): FeatureFlagRuleInput {
  const value = kind === 'VARIANT' ? { variant: r.value } : { enabled: r.value === 'true' };
  switch (r.kind) {
    case 'ORGANISATION':
      return { kind: r.kind, organisationId: r.param, value };
    case 'PLAN':
      return { kind: r.kind, plan: r.param, value };
    case 'ROLLOUT':
      return { kind: r.kind, percent: Number.parseInt(r.param, 10), value };
    default:
      return { kind: r.kind, role: (r.param || 'SUPER_ADMIN') as PlatformRole, value };
  }
}

const PARAM_LABEL: Record<FeatureFlagRuleKind, string> = {
  ORGANISATION: 'Organisation ID',
  PLAN: 'Plan key',
  ROLLOUT: 'Percent (0–100)',
  PLATFORM_ROLE: 'Platform role',
};

function FlagCard({ flag, editable, onChanged }: { flag: Flag; editable: boolean; onChanged: () => void }) {
  const [editing, setEditing] = useState(false);
  const [description, setDescription] = useState(flag.description);
  const [def, setDef] = useState(flag.default?.variant ?? String(flag.default?.enabled ?? false));
  const [rules, setRules] = useState<DraftRule[]>(() => draftOf(flag));
  const [res, update] = useMutation(UpdateFeatureFlagDocument);
  const [delRes, remove] = useMutation(DeleteFeatureFlagDocument);
  const errs = fieldErrors(res.error);
  const defaultValue = flag.kind === 'VARIANT' ? { variant: def } : { enabled: def === 'true' };

  async function save(e: FormEvent) {
    e.preventDefault();
    const r = await update({ input: { id: flag.id, description, default: defaultValue, rules: rules.map((x) => toInput(flag.kind, x)) } });
    if (r.data?.updateFeatureFlag) {
      setEditing(false);
      onChanged();
    }
  }

  const set = (i: number, patch: Partial<DraftRule>) => setRules(rules.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const move = (i: number, by: number) => {
    const next = [...rules];
    const [r] = next.splice(i, 1);
    next.splice(i + by, 0, r);
    setRules(next);
  };

  return (
    <article className="card" aria-label={`Flag ${flag.key}`}>
      <h2>
        <code>{flag.key}</code> <span className="muted small">{flag.kind === 'VARIANT' ? `variants: ${flag.variants.join(', ')}` : 'boolean'}</span>
      </h2>
      {flag.description && <p>{flag.description}</p>}
      <p className="small muted">Updated {formatDate(flag.updatedAt)}</p>
      {!editing && (
        <>
          <ol>
            {flag.rules.map((r, i) => (
              <li key={i}>
                {r.kind.toLowerCase().replace('_', ' ')} {r.organisationId ?? r.plan ?? (r.percent != null ? `${r.percent} %` : null) ?? r.role} → <strong>{show(r.value)}</strong>
              </li>
            ))}
          </ol>
          <p>
            Otherwise: <strong>{show(flag.default)}</strong>
          </p>
          {editable && (
            <div className="row">
              <Button variant="secondary" onClick={() => setEditing(true)}>
                Edit<span className="sr-only"> {flag.key}</span>
              </Button>
              <ConfirmButton busy={delRes.fetching} confirmLabel="Delete" onConfirm={async () => (await remove({ id: flag.id })).data && onChanged()}>
                Delete<span className="sr-only"> {flag.key}</span>
              </ConfirmButton>
            </div>
          )}
          {delRes.error && <Alert>{errorMessage(delRes.error)}</Alert>}
        </>
      )}
      {editing && (
        <form onSubmit={save} noValidate>
          <Field label="Description" value={description} onChange={(e) => setDescription(e.target.value)} error={errs['input.description']} />
          <h3>Rules, in order</h3>
          {rules.map((r, i) => (
            <fieldset key={i} className="row">
              <legend className="sr-only">Rule {i + 1}</legend>
              <SelectField label="Kind" value={r.kind} onChange={(e) => set(i, { kind: e.target.value as FeatureFlagRuleKind, param: '' })}>
                {RULE_KINDS.map((k) => (
                  <option key={k} value={k}>
                    {k.toLowerCase().replace('_', ' ')}
                  </option>
                ))}
              </SelectField>
              {r.kind === 'PLATFORM_ROLE' ? (
                <SelectField label={PARAM_LABEL[r.kind]} value={r.param || 'SUPER_ADMIN'} onChange={(e) => set(i, { param: e.target.value })} error={errs[`input.rules[${i}].role`]}>
                  <option value="SUPER_ADMIN">Super admin</option>
                  <option value="SUPPORT">Support</option>
                </SelectField>
              ) : (
                <Field
                  label={PARAM_LABEL[r.kind]}
                  value={r.param}
                  onChange={(e) => set(i, { param: e.target.value })}
                  error={errs[`input.rules[${i}].organisationId`] ?? errs[`input.rules[${i}].plan`] ?? errs[`input.rules[${i}].percent`]}
                />
              )}
              <ValueSelect
                label="Value"
                kind={flag.kind}
                variants={flag.variants}
                value={r.value}
                onChange={(v) => set(i, { value: v })}
                error={errs[`input.rules[${i}].value`] ?? errs[`input.rules[${i}].value.variant`]}
              />
              <Button variant="ghost" disabled={i === 0} onClick={() => move(i, -1)}>
                Up<span className="sr-only"> rule {i + 1}</span>
              </Button>
              <Button variant="ghost" disabled={i === rules.length - 1} onClick={() => move(i, 1)}>
                Down<span className="sr-only"> rule {i + 1}</span>
              </Button>
              <Button variant="ghost" onClick={() => setRules(rules.filter((_, j) => j !== i))}>
                Remove<span className="sr-only"> rule {i + 1}</span>
              </Button>
            </fieldset>
          ))}
          <Button variant="secondary" onClick={() => setRules([...rules, { kind: 'ORGANISATION', param: '', value: flag.kind === 'BOOLEAN' ? 'true' : '' }])}>
            Add a rule
          </Button>
          <ValueSelect label="Otherwise (default)" kind={flag.kind} variants={flag.variants} value={def} onChange={setDef} error={errs['input.default'] ?? errs['input.default.variant']} />
          <Alert>{errs['input.rules'] ?? errs['']}</Alert>
          <div className="row">
            <Button type="submit" busy={res.fetching} busyLabel="Saving…">
              Save
            </Button>
            <Button
              variant="ghost"
              onClick={() => {
                setEditing(false);
                setRules(draftOf(flag));
              }}
            >
              Cancel
            </Button>
          </div>
        </form>
      )}
    </article>
  );
}
