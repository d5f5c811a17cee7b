// The organisation's infrastructure: its cloud provider accounts (a Hetzner project, or the
// local provider that simulates a cloud inside Zygo), servers with live status and power
// actions, volumes, snapshots, floating IPs, networks (with a topology view), firewalls, load
// balancers, and DNS zones with their records. Every change is a durable provider
// action; the page follows them live (`cloudResourceChanged`, `infrastructureActionUpdated`).
// Reading needs `infrastructure.read`, changing `infrastructure.manage`.
import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { useMutation, useQuery, useSubscription } from 'urql';
import {
  CloudProvidersDocument,
  ConnectCloudProviderDocument,
  InfrastructureActionUpdatedDocument,
  RemoveCloudProviderDocument,
  type CloudProviderKind,
  type CloudProvidersQuery,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { RequirePermission, useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, ConfirmButton, Empty, Field, formatDate, Loading, PageHeader, SelectField } from '../../ui';
import { Dns } from './Dns';
import { Servers } from './Servers';
import { Snapshots } from './Snapshots';
import { Volumes } from './Volumes';
import { FloatingIps } from './FloatingIps';
import { Firewalls } from './Firewalls';
import { LoadBalancers } from './LoadBalancers';
import { Networks } from './Networking';
import './infrastructure.css';

export type Provider = NonNullable<CloudProvidersQuery['tenant']>['cloudProviders'][number];

const TABS = [
  ['servers', 'Servers'],
  ['volumes', 'Volumes'],
  ['snapshots', 'Snapshots'],
  ['floating-ips', 'Floating IPs'],
  ['networks', 'Networks'],
  ['firewalls', 'Firewalls'],
  ['load-balancers', 'Load balancers'],
  ['dns', 'DNS'],
  ['providers', 'Providers'],
] as const;
type Tab = (typeof TABS)[number][0];

export default function Infrastructure() {
  const tenant = useTenant();
  useDocumentTitle(`Infrastructure · ${tenant.name}`);
  return (
    <section className="page">
      <PageHeader title="Infrastructure" />
      <RequirePermission
        permission="infrastructure.read"
        fallback={<Alert>You cannot see this organisation's infrastructure.</Alert>}
      >
        <InfrastructureView />
      </RequirePermission>
    </section>
  );
}

function InfrastructureView() {
  const tenant = useTenant();
  const [params, setParams] = useSearchParams();
  const [res, reexecute] = useQuery({ query: CloudProvidersDocument, variables: { id: tenant.id } });
  // The last action that failed, with the provider's error, for the whole page.
  const [updates] = useSubscription({ query: InfrastructureActionUpdatedDocument, variables: { tenantId: tenant.id } }, (prev, e) =>
    e.infrastructureActionUpdated.status === 'FAILED' || !prev ? e : prev,
  );
  const failed = updates.data?.infrastructureActionUpdated.status === 'FAILED' ? updates.data.infrastructureActionUpdated : null;
  if (res.error && !res.data) return <Alert>{errorMessage(res.error)}</Alert>;
  if (!res.data?.tenant) return <Loading label="Loading infrastructure…" />;
  const providers = res.data.tenant.cloudProviders;
  const tab = (TABS.find(([key]) => key === params.get('tab'))?.[0] ?? (providers.length ? 'servers' : 'providers')) as Tab;
  const reload = () => reexecute({ requestPolicy: 'network-only' });
  return (
    <>
      <nav className="tabs" aria-label="Infrastructure">
        {TABS.map(([key, label]) => (
          <button
            key={key}
            type="button"
            role="tab"
            aria-selected={tab === key}
            className={tab === key ? 'tab active' : 'tab'}
            onClick={() => setParams({ tab: key })}
          >
            {label}
          </button>
        ))}
      </nav>
      {failed && (
        <Alert>
          {failed.kind} failed: {failed.error ?? 'the provider refused it'}
          {failed.errorCode ? ` (${failed.errorCode})` : ''}
        </Alert>
      )}
      {tab !== 'providers' && providers.length === 0 && (
        <Alert kind="info">Connect a cloud provider first (the local provider needs no account).</Alert>
      )}
      {tab === 'servers' && <Servers providers={providers} />}
      {tab === 'volumes' && <Volumes providers={providers} />}
      {tab === 'snapshots' && <Snapshots />}
      {tab === 'floating-ips' && <FloatingIps providers={providers} />}
      {tab === 'networks' && <Networks providers={providers} />}
      {tab === 'firewalls' && <Firewalls providers={providers} />}
      {tab === 'load-balancers' && <LoadBalancers providers={providers} />}
      {tab === 'dns' && <Dns providers={providers} />}
      {tab === 'providers' && (
        <Providers
          providers={providers}
          onChanged={reload}
          // The first account connected: on to what it is for.
          onConnected={() => providers.length === 0 && setParams({ tab: 'servers' })}
        />
      )}
    </>
  );
}

const KINDS: [CloudProviderKind, string][] = [
  ['LOCAL', 'Local (simulated, no account)'],
  ['HETZNER', 'Hetzner Cloud'],
  ['AWS', 'Amazon Web Services'],
];

function Providers({
  providers,
  onChanged,
  onConnected,
}: {
  providers: Provider[];
  onChanged: () => void;
  onConnected: () => void;
}) {
  const tenant = useTenant();
  const [kind, setKind] = useState<CloudProviderKind>('LOCAL');
  const [name, setName] = useState('');
  const [apiToken, setApiToken] = useState('');
  const [dnsApiToken, setDnsApiToken] = useState('');
  const [accessKeyId, setAccessKeyId] = useState('');
  const [secretAccessKey, setSecretAccessKey] = useState('');
  const [region, setRegion] = useState('eu-central-1');
  const [connectRes, connect] = useMutation(ConnectCloudProviderDocument);
  const [removeRes, remove] = useMutation(RemoveCloudProviderDocument);
  const errors = fieldErrors(connectRes.error);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const credentials =
      kind === 'HETZNER'
        ? { apiToken: apiToken || null, dnsApiToken: dnsApiToken || null }
        : kind === 'AWS'
          ? { accessKeyId: accessKeyId || null, secretAccessKey: secretAccessKey || null, region: region || null }
          : undefined;
    const r = await connect({ input: { tenantId: tenant.id, kind, name, ...(credentials ? { credentials } : {}) } });
    if (!r.error) {
      setName('');
      setApiToken('');
      setSecretAccessKey('');
      setDnsApiToken('');
      onChanged();
      onConnected();
    }
  };
  return (
    <>
      <div className="card">
        <h2>Provider accounts</h2>
        {providers.length === 0 ? (
          <Empty>No provider connected yet.</Empty>
        ) : (
          <table className="table" aria-label="Provider accounts">
            <thead>
              <tr>
                <th>Name</th>
                <th>Kind</th>
                <th>Validated</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {providers.map((p) => (
                <tr key={p.id}>
                  <th scope="row">{p.name}</th>
                  <td>{p.kind}</td>
                  <td>{formatDate(p.validatedAt)}</td>
                  <td>
                    {tenant.can('infrastructure.manage') && (
                      <ConfirmButton busy={removeRes.fetching} confirmLabel="Remove" onConfirm={async () => (await remove({ id: p.id })).error || onChanged()}>
                        Remove
                      </ConfirmButton>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {removeRes.error && <Alert>{errorMessage(removeRes.error)}</Alert>}
      </div>
      {tenant.can('infrastructure.manage') && (
        <form className="card" aria-label="Connect a provider" onSubmit={submit}>
          <h2>Connect a provider</h2>
          <SelectField label="Kind" value={kind} onChange={(e) => setKind(e.target.value as CloudProviderKind)} error={errors.kind}>
            {KINDS.map(([k, label]) => (
              <option key={k} value={k}>
                {label}
              </option>
            ))}
          </SelectField>
          <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} required maxLength={64} />
          {kind === 'HETZNER' && (
            <>
              <Field
                label="API token"
                type="password"
                autoComplete="off"
                value={apiToken}
                onChange={(e) => setApiToken(e.target.value)}
                error={errors.apiToken}
                hint="A read & write token of the Hetzner Cloud project; checked before it is saved, never shown again."
              />
              <Field
                label="DNS API token (optional)"
                type="password"
                autoComplete="off"
                value={dnsApiToken}
                onChange={(e) => setDnsApiToken(e.target.value)}
                error={errors.dnsApiToken}
              />
            </>
          )}
          {kind === 'AWS' && (
            <>
              <Field label="Access key ID" autoComplete="off" value={accessKeyId} onChange={(e) => setAccessKeyId(e.target.value)} error={errors.accessKeyId} />
              <Field
                label="Secret access key"
                type="password"
                autoComplete="off"
                value={secretAccessKey}
                onChange={(e) => setSecretAccessKey(e.target.value)}
                error={errors.secretAccessKey}
                hint="Of an IAM user allowed EC2, Route 53 and CloudWatch reads; checked before it is saved, never shown again."
              />
              <Field label="Region" value={region} onChange={(e) => setRegion(e.target.value)} error={errors.region} placeholder="eu-central-1" />
            </>
          )}
          {errors[''] && <Alert>{errors['']}</Alert>}
          <Button type="submit" busy={connectRes.fetching}>
            Connect
          </Button>
        </form>
      )}
    </>
  );
}

/** The provider picker of the create forms. */
export function ProviderSelect({
  providers,
  value,
  onChange,
  error,
}: {
  providers: Provider[];
  value: string;
  onChange: (id: string) => void;
  error?: string;
}) {
  return (
    <SelectField label="Provider" value={value} onChange={(e) => onChange(e.target.value)} error={error} required>
      {providers.map((p) => (
        <option key={p.id} value={p.id}>
          {p.name} ({p.kind.toLowerCase()})
        </option>
      ))}
    </SelectField>
  );
}
