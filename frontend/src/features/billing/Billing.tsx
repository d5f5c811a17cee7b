// The organisation's billing: its plan and what it uses, the plans to change to (with the
// exact amounts before anything is charged), cancellation and resumption, invoices with their
// PDFs, and billing settings. Reading needs `billing.read`; changing needs `billing.manage`.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import {
  CancelSubscriptionDocument,
  ChangePlanDocument,
  PaymentProvidersDocument,
  PlansDocument,
  PreviewPlanChangeDocument,
  ResumeSubscriptionDocument,
  StartCheckoutDocument,
  TenantBillingDocument,
  UpdateBillingSettingsDocument,
  UsageHistoryDocument,
  UsageUpdatedDocument,
  type BillingInterval,
  type Limit,
  type TenantBillingQuery,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { RequirePermission, useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, ConfirmButton, Field, formatDate, Loading, PageHeader } from '../../ui';
import { ConnectionTable } from '../../ui/ConnectionTable';
import { PaymentMethod, PROVIDER_LABELS, type HostedProvider } from './PaymentMethod';
import './billing.css';

type Billing = NonNullable<TenantBillingQuery['tenant']>;

/** `amount` minor units of `currency`, in the browser's locale. */
export function money(amount: number, currency: string): string {
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(amount / 10 ** digits);
}

/** The path and query of `url`: the API names its public URL, the app is served from it. */
function sameOrigin(url: string): string {
  const u = new URL(url, window.location.origin);
  return `${u.pathname}${u.search}`;
}

const LIMIT_NAMES: Record<string, string> = {
  MEMBERS: 'Members',
  TEAMS: 'Teams',
  WORKFLOWS: 'Workflows',
  EXECUTIONS_PER_MONTH: 'Executions this month',
  API_OPERATIONS_PER_MONTH: 'API operations this month',
  STORAGE_BYTES: 'Storage',
  COLLECTED_RECORDS_PER_MONTH: 'Collected records this month',
  SERVERS: 'Servers',
  OUTBOUND_MAILS_PER_DAY: 'Mails today',
  CLOUD_PROVIDERS: 'Cloud provider accounts',
};

export default function BillingPage() {
  const tenant = useTenant();
  useDocumentTitle(`Billing · ${tenant.name}`);
  return (
    <section className="page">
      <PageHeader title="Billing" />
      <RequirePermission permission="billing.read" fallback={<Alert>You cannot see this organisation's billing.</Alert>}>
        <BillingView />
      </RequirePermission>
    </section>
  );
}

function BillingView() {
  const tenant = useTenant();
  const [res, reexecute] = useQuery({ query: TenantBillingDocument, variables: { id: tenant.id }, requestPolicy: 'cache-and-network' });
  const reload = () => reexecute({ requestPolicy: 'network-only' });
  const checkout = new URLSearchParams(window.location.search).get('checkout');
  if (res.error && !res.data) return <Alert>{errorMessage(res.error)}</Alert>;
  if (!res.data?.tenant) return <Loading label="Loading billing…" />;
  const b = res.data.tenant;
  return (
    <>
      {checkout === 'success' && <Alert kind="success">Your payment method was saved.</Alert>}
      {checkout === 'cancel' && <Alert kind="info">The checkout was cancelled; nothing changed.</Alert>}
      <CurrentPlan billing={b} onChanged={reload} />
      <PaymentMethod billing={b} />
      <Usage billing={b} />
      {tenant.can('billing.manage') && <ChangePlan billing={b} onChanged={reload} />}
      <Invoices billing={b} />
      {tenant.can('billing.manage') && <Settings billing={b} onSaved={reload} />}
    </>
  );
}

function CurrentPlan({ billing, onChanged }: { billing: Billing; onChanged: () => void }) {
  const tenant = useTenant();
  const sub = billing.subscription;
  const [cancelRes, cancel] = useMutation(CancelSubscriptionDocument);
  const [resumeRes, resume] = useMutation(ResumeSubscriptionDocument);
  if (!sub) return null;
  const paid = sub.plan.key !== 'free';
  const error = cancelRes.error ?? resumeRes.error;
  return (
    <div className="card" aria-labelledby="current-plan">
      <h2 id="current-plan">
        Current plan: {sub.plan.name} <span className={`status status-${sub.status.toLowerCase()}`}>{sub.status.replace('_', ' ').toLowerCase()}</span>
      </h2>
      {paid && (
        <p>
          {money(sub.unitAmount, sub.currency)} per {sub.interval.toLowerCase()} ·{' '}
          {sub.cancelAtPeriodEnd ? 'ends' : 'renews'} on {formatDate(sub.currentPeriodEnd, false)}
        </p>
      )}
      {sub.trialEnd && sub.status === 'TRIALING' && <p>Trial until {formatDate(sub.trialEnd, false)}.</p>}
      {sub.scheduledPlan && (
        <Alert kind="info">
          Changes to {sub.scheduledPlan.key} on {formatDate(sub.currentPeriodEnd, false)}.
        </Alert>
      )}
      {sub.status === 'PAUSED' && (
        <Alert kind="warning">
          The trial ended without a payment method: the plan is paused and the organisation has the Free plan&apos;s
          limits until it resumes.
        </Alert>
      )}
      {sub.status === 'PAST_DUE' && (
        <Alert kind="warning">
          A payment is overdue{sub.nextRetryAt ? `; next attempt on ${formatDate(sub.nextRetryAt, false)}` : ''}.
        </Alert>
      )}
      {error && <Alert>{errorMessage(error)}</Alert>}
      {tenant.can('billing.manage') && paid && (
        <div className="card-links">
          {sub.cancelAtPeriodEnd || sub.scheduledPlan || sub.status === 'PAUSED' ? (
            <Button
              busy={resumeRes.fetching}
              onClick={async () => {
                const r = await resume({ input: { tenantId: tenant.id } });
                if (!r.error) onChanged();
              }}
            >
              {sub.status === 'PAUSED' ? `Resume ${sub.plan.name}` : `Keep ${sub.plan.name}`}
            </Button>
          ) : (
            <ConfirmButton
              busy={cancelRes.fetching}
              confirmLabel="Cancel at period end"
              onConfirm={async () => {
                const r = await cancel({ input: { tenantId: tenant.id, atPeriodEnd: true } });
                if (!r.error) onChanged();
              }}
            >
              Cancel plan
            </ConfirmButton>
          )}
        </div>
      )}
    </div>
  );
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The last 30 days of one limit's use, as a small line (`Tenant.usageHistory`). */
function UsageChart({ limit, label }: { limit: Limit; label: string }) {
  const tenant = useTenant();
  const today = new Date();
  const to = today.toISOString().slice(0, 10);
  const from = new Date(today.getTime() - 29 * DAY_MS).toISOString().slice(0, 10);
  const [res] = useQuery({ query: UsageHistoryDocument, variables: { id: tenant.id, limit, from, to } });
  const points = res.data?.tenant?.usageHistory ?? [];
  if (points.length < 2) return null;
  const [w, h] = [160, 32];
  const max = Math.max(1, ...points.map((p) => p.used));
  const line = points
    .map((p, i) => `${((i / (points.length - 1)) * w).toFixed(1)},${(h - (p.used / max) * (h - 2) - 1).toFixed(1)}`)
    .join(' ');
  return (
    <svg className="usage-chart" viewBox={`0 0 ${w} ${h}`} role="img" aria-label={`${label}, ${from} to ${to}`}>
      <title>{points.map((p) => `${p.day}: ${p.used}`).join('\n')}</title>
      <polyline points={line} fill="none" stroke="currentColor" strokeWidth="1.5" />
    </svg>
  );
}

function Usage({ billing }: { billing: Billing }) {
  const tenant = useTenant();
  // Live: each added member, team or workflow sends the new use.
  const [live] = useSubscription({ query: UsageUpdatedDocument, variables: { tenantId: tenant.id } });
  const uses = (live.data?.usageUpdated ?? billing.usage ?? []).filter((u) => u.metered);
  return (
    <div className="card">
      <h2>Usage</h2>
      <ul className="usage-list">
        {uses.map((u) => {
          const pct = u.percentage ?? 0;
          return (
            <li key={u.limit}>
              <div className="usage-label">
                <span>{LIMIT_NAMES[u.limit] ?? u.limit}</span>
                <span>
                  {u.used} {u.allowed == null ? '(unlimited)' : `of ${u.allowed}`}
                </span>
              </div>
              {u.allowed != null && (
                <div
                  className={`usage-bar${pct >= 100 ? ' full' : pct >= 80 ? ' near' : ''}`}
                  role="meter"
                  aria-label={LIMIT_NAMES[u.limit] ?? u.limit}
                  aria-valuemin={0}
                  aria-valuemax={u.allowed}
                  aria-valuenow={u.used}
                >
                  <span style={{ width: `${Math.min(pct, 100)}%` }} />
                </div>
              )}
              <UsageChart limit={u.limit} label={LIMIT_NAMES[u.limit] ?? u.limit} />
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function ChangePlan({ billing, onChanged }: { billing: Billing; onChanged: () => void }) {
  const tenant = useTenant();
  const [plans] = useQuery({ query: PlansDocument });
  const [providers] = useQuery({ query: PaymentProvidersDocument });
  const [interval, setInterval] = useState<BillingInterval>('MONTH');
  const [picked, setPicked] = useState<string | null>(null);
  const currency = billing.billingAccount?.currency ?? 'EUR';
  const current = billing.subscription;
  const hosted = (providers.data?.paymentProviders ?? []).filter((p): p is HostedProvider => p !== 'MANUAL');
  return (
    <div className="card">
      <h2>Plans</h2>
      <fieldset className="interval-toggle">
        <legend className="sr-only">Billing interval</legend>
        {(['MONTH', 'YEAR'] as const).map((i) => (
          <label key={i}>
            <input type="radio" name="interval" checked={interval === i} onChange={() => setInterval(i)} /> {i === 'MONTH' ? 'Monthly' : 'Yearly'}
          </label>
        ))}
      </fieldset>
      <ul className="cards">
        {(plans.data?.plans ?? []).map((p) => {
          const price = p.prices.find((x) => x.currency === currency && x.interval === interval);
          const held = current?.plan.key === p.key && current?.interval === interval;
          return (
            <li key={p.key} className={`card plan-card${held ? ' held' : ''}`}>
              <h3>{p.name}</h3>
              <p className="muted small">{p.description}</p>
              <p className="plan-price">
                {p.contactSales ? 'Contact sales' : price ? `${money(price.amount, currency)} / ${interval === 'MONTH' ? 'month' : 'year'}` : '—'}
              </p>
              <ul className="plan-limits small">
                {p.limits
                  .filter((l) => ['MEMBERS', 'TEAMS', 'WORKFLOWS', 'EXECUTIONS_PER_MONTH'].includes(l.limit))
                  .map((l) => (
                    <li key={l.limit}>
                      {LIMIT_NAMES[l.limit]}: {l.value ?? 'unlimited'}
                    </li>
                  ))}
              </ul>
              {held ? (
                <span className="status status-active">Current plan</span>
              ) : (
                !p.contactSales &&
                price && (
                  <Button variant="secondary" onClick={() => setPicked(p.key)}>
                    Choose {p.name}
                  </Button>
                )
              )}
            </li>
          );
        })}
      </ul>
      {picked && (
        <Preview
          key={`${picked}-${interval}`}
          plan={picked}
          interval={interval}
          providers={hosted}
          tenantSlug={tenant.slug}
          onDone={() => {
            setPicked(null);
            onChanged();
          }}
          onCancel={() => setPicked(null)}
        />
      )}
    </div>
  );
}

function Preview({
  plan,
  interval,
  providers,
  tenantSlug,
  onDone,
  onCancel,
}: {
  plan: string;
  interval: BillingInterval;
  providers: HostedProvider[];
  tenantSlug: string;
  onDone: () => void;
  onCancel: () => void;
}) {
  const tenant = useTenant();
  const [res] = useQuery({ query: PreviewPlanChangeDocument, variables: { tenantId: tenant.id, plan, interval }, requestPolicy: 'network-only' });
  const [changeRes, change] = useMutation(ChangePlanDocument);
  const [checkoutRes, checkout] = useMutation(StartCheckoutDocument);
  if (res.error) return <Alert>{errorMessage(res.error)}</Alert>;
  const p = res.data?.previewPlanChange;
  if (!p) return <Loading label="Working out the amounts…" />;
  const c = p.currency;
  const rows: [string, number][] = [
    ['Credit for unused time', p.prorationCredit === 0 ? 0 : -p.prorationCredit],
    ['New plan', p.charge],
    ['Subtotal', p.subtotal],
    ['Tax', p.tax],
    ['Total', p.total],
    ['Credit applied', p.creditApplied === 0 ? 0 : -p.creditApplied],
    ['Due now', p.amountDue],
  ];
  return (
    <div className="card preview" aria-labelledby="preview-title">
      <h3 id="preview-title">
        {p.kind === 'UPGRADE' ? 'Upgrade' : 'Downgrade'} to {p.plan.name}
      </h3>
      {p.kind === 'DOWNGRADE' ? (
        <p>Takes effect on {formatDate(p.effectiveAt, false)}; nothing is charged now.</p>
      ) : (
        <table className="table amounts">
          <tbody>
            {rows.map(([label, amount]) => (
              <tr key={label}>
                <th scope="row">{label}</th>
                <td>{money(amount, c)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="muted small">Next renewal on {formatDate(p.nextRenewal, false)}.</p>
      {p.overLimits.length > 0 && (
        <Alert kind="warning">
          The organisation uses more than this plan allows:{' '}
          {p.overLimits.map((o) => `${LIMIT_NAMES[o.limit] ?? o.limit} ${o.used} of ${o.allowed}`).join(', ')}.
        </Alert>
      )}
      {(changeRes.error || checkoutRes.error) && <Alert>{errorMessage((changeRes.error ?? checkoutRes.error)!)}</Alert>}
      <div className="card-links">
        <Button
          disabled={!p.allowed}
          busy={changeRes.fetching}
          onClick={async () => {
            const r = await change({ input: { tenantId: tenant.id, plan, interval } });
            if (!r.error) onDone();
          }}
        >
          Confirm {p.kind === 'UPGRADE' ? 'upgrade' : 'downgrade'}
        </Button>
        {p.kind === 'UPGRADE' &&
          providers.map((provider) => (
            <Button
              key={provider}
              variant="secondary"
              disabled={!p.allowed}
              busy={checkoutRes.fetching}
              onClick={async () => {
                const origin = window.location.origin;
                const r = await checkout({
                  input: {
                    tenantId: tenant.id,
                    provider,
                    plan,
                    interval,
                    successUrl: `${origin}/o/${tenantSlug}/billing?checkout=success`,
                    cancelUrl: `${origin}/o/${tenantSlug}/billing?checkout=cancel`,
                  },
                });
                const url = r.data?.startCheckout.checkoutUrl;
                if (url) window.location.assign(url);
              }}
            >
              {PROVIDER_LABELS[provider]}
            </Button>
          ))}
        <Button variant="ghost" onClick={onCancel}>
          Not now
        </Button>
      </div>
    </div>
  );
}

function Invoices({ billing }: { billing: Billing }) {
  return (
    <div className="card">
      <h2>Invoices</h2>
      <ConnectionTable
        caption="Invoices"
        connection={billing.invoices}
        newestFirst
        rowKey={(i) => i.id}
        empty="No invoices yet."
        columns={[
          { header: 'Number', rowHeader: true, cell: (i) => i.number },
          { header: 'Issued', cell: (i) => formatDate(i.issuedAt, false) },
          {
            header: 'Period',
            cell: (i) => (
              <>
                {formatDate(i.periodStart, false)} – {formatDate(i.periodEnd, false)}
              </>
            ),
          },
          { header: 'Total', cell: (i) => money(i.total, i.currency) },
          { header: 'Status', cell: (i) => <span className={`status status-${i.status.toLowerCase()}`}>{i.status.toLowerCase()}</span> },
          {
            header: 'PDF',
            cell: (i) => (
              <a href={sameOrigin(i.pdfUrl)} download={`${i.number}.pdf`}>
                Download<span className="sr-only"> {i.number}</span>
              </a>
            ),
          },
        ]}
      />
    </div>
  );
}

function Settings({ billing, onSaved }: { billing: Billing; onSaved: () => void }) {
  const tenant = useTenant();
  const account = billing.billingAccount;
  const address = (account?.billingAddress ?? {}) as Record<string, string>;
  const [taxId, setTaxId] = useState(account?.taxId ?? '');
  const [rate, setRate] = useState(String((account?.taxRateBps ?? 0) / 100));
  const [line1, setLine1] = useState(address.line1 ?? '');
  const [city, setCity] = useState(address.city ?? '');
  const [country, setCountry] = useState(address.country ?? '');
  const [res, save] = useMutation(UpdateBillingSettingsDocument);
  const [saved, setSaved] = useState(false);
  const errors = fieldErrors(res.error);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    const r = await save({
      input: {
        tenantId: tenant.id,
        taxId: taxId.trim() || null,
        taxRateBps: Math.round(Number(rate) * 100),
        billingAddress: { line1, city, country },
      },
    });
    if (!r.error) {
      setSaved(true);
      onSaved();
    }
  };
  return (
    <form className="card" onSubmit={submit}>
      <h2>Billing details</h2>
      {errors[''] && <Alert>{errors['']}</Alert>}
      {saved && <Alert kind="success">Saved.</Alert>}
      <Field label="Tax ID" value={taxId} onChange={(e) => setTaxId(e.target.value)} error={errors['input.taxId']} />
      <Field
        label="Tax rate (%)"
        type="number"
        step="0.01"
        min="0"
        max="100"
        value={rate}
        onChange={(e) => setRate(e.target.value)}
        error={errors['input.taxRateBps']}
      />
      <Field label="Address" value={line1} onChange={(e) => setLine1(e.target.value)} error={errors['input.billingAddress.line1']} />
      <Field label="City" value={city} onChange={(e) => setCity(e.target.value)} error={errors['input.billingAddress.city']} />
      <Field label="Country" value={country} onChange={(e) => setCountry(e.target.value)} error={errors['input.billingAddress.country']} />
      <Button type="submit" busy={res.fetching}>
        Save billing details
      </Button>
    </form>
  );
}
