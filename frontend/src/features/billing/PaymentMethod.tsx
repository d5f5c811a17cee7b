// The payment method renewals are charged to: what the provider tells of it (a card's brand,
// last four digits and expiry, or a PayPal account), and replacing it on a provider's hosted
// page without changing the plan.
import { useMutation, useQuery } from 'urql';
import {
  PaymentProvidersDocument,
  StartPaymentMethodUpdateDocument,
  type PaymentProviderKind,
  type TenantBillingQuery,
} from '../../gql/graphql';
import { errorMessage } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { Alert, Button } from '../../ui';

type Billing = NonNullable<TenantBillingQuery['tenant']>;

export type HostedProvider = Exclude<PaymentProviderKind, 'MANUAL'>;
export const PROVIDER_LABELS: Record<HostedProvider, string> = {
  STRIPE: 'Pay by card (Stripe)',
  REVOLUT: 'Pay by card (Revolut)',
  PAYPAL: 'Pay with PayPal',
};

const BRANDS: Record<string, string> = { visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express' };

function title(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** "Visa •••• 4242, expires 12/2030" or "PayPal (a@b.c)". */
export function describeMethod(m: NonNullable<NonNullable<Billing['billingAccount']>['paymentMethod']>): string {
  if (m.kind === 'PAYPAL') return m.email ? `PayPal (${m.email})` : 'PayPal';
  const brand = m.brand ? (BRANDS[m.brand] ?? title(m.brand)) : 'Card';
  const expiry = m.expMonth && m.expYear ? `, ${m.expired ? 'expired' : 'expires'} ${String(m.expMonth).padStart(2, '0')}/${m.expYear}` : '';
  return `${brand} •••• ${m.last4 ?? '????'}${expiry}`;
}

/** How the organisation pays, and (with `billing.manage`) a way to replace the method. */
export function PaymentMethod({ billing }: { billing: Billing }) {
  const tenant = useTenant();
  const [providers] = useQuery({ query: PaymentProvidersDocument });
  const [res, start] = useMutation(StartPaymentMethodUpdateDocument);
  const account = billing.billingAccount;
  if (!account) return null;
  const provider = title(account.provider);
  const method = account.paymentMethod;
  const paying = (billing.subscription?.unitAmount ?? 0) > 0;
  // PayPal's subscriptions mode collects by itself: it is chosen with a plan's checkout.
  const hosted = (providers.data?.paymentProviders ?? []).filter((p): p is HostedProvider => p !== 'MANUAL');
  return (
    <div className="card" aria-labelledby="payment-method">
      <h2 id="payment-method">Payment method</h2>
      <p data-testid="payment-method">
        {method
          ? `${describeMethod(method)} — saved with ${provider}; renewals are charged to it.`
          : account.paymentMethodSaved
            ? `Saved with ${provider}; renewals are charged to it.`
            : account.provider === 'manual'
              ? 'Invoices are paid by bank transfer.'
              : `No payment method saved with ${provider}.`}
      </p>
      {method?.expired && <Alert kind="error">This card has expired: replace it before the next renewal.</Alert>}
      {res.error && <Alert>{errorMessage(res.error)}</Alert>}
      {paying && tenant.can('billing.manage') && hosted.length > 0 && (
        <div className="actions">
          {hosted.map((p) => (
            <Button
              key={p}
              variant="secondary"
              busy={res.fetching}
              onClick={async () => {
                const origin = window.location.origin;
                const r = await start({
                  input: {
                    tenantId: tenant.id,
                    provider: p,
                    successUrl: `${origin}/o/${tenant.slug}/billing?checkout=success`,
                    cancelUrl: `${origin}/o/${tenant.slug}/billing?checkout=cancel`,
                  },
                });
                const url = r.data?.startPaymentMethodUpdate.checkoutUrl;
                if (url) window.location.assign(url);
              }}
            >
              {method || account.paymentMethodSaved ? 'Replace' : 'Add'}: {PROVIDER_LABELS[p]}
            </Button>
          ))}
        </div>
      )}
    </div>
  );
}
