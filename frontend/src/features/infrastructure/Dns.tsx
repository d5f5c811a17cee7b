// DNS: zones on a provider account and their records (A, AAAA, CNAME, MX, TXT, NS, SRV, CAA),
// added, changed and deleted as provider actions, each with a propagation checker.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import {
  CreateDnsZoneDocument,
  DeleteDnsRecordDocument,
  DnsZonesDocument,
  InfrastructureActionUpdatedDocument,
  UpsertDnsRecordDocument,
  type DnsZonesQuery,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { Alert, Button, ConfirmButton, Empty, Field, Loading, SelectField } from '../../ui';
import { ProviderSelect, type Provider } from './Infrastructure';
import { Propagation } from './Propagation';

type Zone = NonNullable<DnsZonesQuery['tenant']>['dnsZones'][number];
const TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS', 'SRV', 'CAA'];

export function Dns({ providers }: { providers: Provider[] }) {
  const tenant = useTenant();
  const [res, reexecute] = useQuery({ query: DnsZonesDocument, variables: { id: tenant.id } });
  const reload = () => reexecute({ requestPolicy: 'network-only' });
  // Zones and records change state as their provider actions finish.
  useSubscription({ query: InfrastructureActionUpdatedDocument, variables: { tenantId: tenant.id } }, (_, e) => {
    reload();
    return e;
  });
  if (res.error && !res.data) return <Alert>{errorMessage(res.error)}</Alert>;
  if (!res.data?.tenant) return <Loading label="Loading DNS zones…" />;
  const zones = res.data.tenant.dnsZones;
  const manage = tenant.can('infrastructure.manage');
  return (
    <>
      {zones.length === 0 && (
        <div className="card">
          <h2>DNS zones</h2>
          <Empty>No DNS zones yet.</Empty>
        </div>
      )}
      {zones.map((z) => (
        <ZoneCard key={z.id} zone={z} manage={manage} onChanged={reload} />
      ))}
      {manage && providers.length > 0 && <CreateZone providers={providers} onCreated={reload} />}
    </>
  );
}

function ZoneCard({ zone, manage, onChanged }: { zone: Zone; manage: boolean; onChanged: () => void }) {
  const [delRes, del] = useMutation(DeleteDnsRecordDocument);
  const [checking, setChecking] = useState<string | null>(null);
  return (
    <div className="card" aria-labelledby={`zone-${zone.id}`}>
      <h2 id={`zone-${zone.id}`}>
        {zone.name} <span className={`status status-${zone.status.toLowerCase()}`}>{zone.status.toLowerCase()}</span>
      </h2>
      {zone.records.length === 0 ? (
        <Empty>No records yet.</Empty>
      ) : (
        <table className="table" aria-label={`Records of ${zone.name}`}>
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th>Value</th>
              <th>TTL</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {zone.records.map((r) => (
              <tr key={r.id}>
                <th scope="row">{r.name}</th>
                <td>{r.type}</td>
                <td className="mono">{r.value}</td>
                <td>{r.ttl ?? zone.ttl}</td>
                <td>{r.status.toLowerCase()}</td>
                <td className="actions">
                  <Button variant="ghost" aria-expanded={checking === r.id} onClick={() => setChecking(checking === r.id ? null : r.id)}>
                    Check propagation
                  </Button>
                  {manage && (
                    <ConfirmButton busy={delRes.fetching} confirmLabel="Delete record" onConfirm={async () => (await del({ id: r.id })).error || onChanged()}>
                      Delete
                    </ConfirmButton>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {checking && zone.records.some((r) => r.id === checking) && <Propagation recordId={checking} onClose={() => setChecking(null)} />}
      {delRes.error && <Alert>{errorMessage(delRes.error)}</Alert>}
      {manage && <RecordForm zone={zone} onSaved={onChanged} />}
    </div>
  );
}

function RecordForm({ zone, onSaved }: { zone: Zone; onSaved: () => void }) {
  const [type, setType] = useState('A');
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [ttl, setTtl] = useState('');
  const [res, upsert] = useMutation(UpsertDnsRecordDocument);
  const errors = fieldErrors(res.error);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await upsert({ input: { zoneId: zone.id, type, name, value, ...(ttl ? { ttl: Number(ttl) } : {}) } });
    if (!r.error) {
      setName('');
      setValue('');
      onSaved();
    }
  };
  return (
    <form className="row" aria-label={`Add a record to ${zone.name}`} onSubmit={submit}>
      <SelectField label="Type" value={type} onChange={(e) => setType(e.target.value)} error={errors.type}>
        {TYPES.map((t) => (
          <option key={t}>{t}</option>
        ))}
      </SelectField>
      <Field label="Record name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} required placeholder="www or @" />
      <Field label="Value" value={value} onChange={(e) => setValue(e.target.value)} error={errors.value} required />
      <Field label="TTL" type="number" value={ttl} onChange={(e) => setTtl(e.target.value)} error={errors.ttl} placeholder={String(zone.ttl)} />
      {errors[''] && <Alert>{errors['']}</Alert>}
      <Button type="submit" busy={res.fetching}>
        Add record
      </Button>
    </form>
  );
}

function CreateZone({ providers, onCreated }: { providers: Provider[]; onCreated: () => void }) {
  const [providerId, setProviderId] = useState(providers[0].id);
  const [name, setName] = useState('');
  const [res, create] = useMutation(CreateDnsZoneDocument);
  const errors = fieldErrors(res.error);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await create({ input: { providerId, name } });
    if (!r.error) {
      setName('');
      onCreated();
    }
  };
  return (
    <form className="card" aria-label="Create a DNS zone" onSubmit={submit}>
      <h2>Create a DNS zone</h2>
      <ProviderSelect providers={providers} value={providerId} onChange={setProviderId} error={errors.providerId} />
      <Field label="Domain" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} required placeholder="example.com" />
      {errors[''] && <Alert>{errors['']}</Alert>}
      <Button type="submit" busy={res.fetching}>
        Create zone
      </Button>
    </form>
  );
}
