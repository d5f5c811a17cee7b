// Floating IPs: reserve one on an account, assign (or move) it to a server of that account,
// set its reverse DNS name, unassign, release.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  AssignFloatingIpDocument,
  CreateFloatingIpDocument,
  DeleteFloatingIpDocument,
  SetFloatingIpReverseDnsDocument,
  TenantFloatingIpsDocument,
  TenantServersDocument,
  UnassignFloatingIpDocument,
  type FloatingIpType,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { Alert, Button, ConfirmButton, Empty, Field, Loading, SelectField } from '../../ui';
import { ProviderSelect, type Provider } from './Infrastructure';
import { useLiveResources } from './Servers';

export function FloatingIps({ providers }: { providers: Provider[] }) {
  const tenant = useTenant();
  const [res, reexecute] = useQuery({ query: TenantFloatingIpsDocument, variables: { id: tenant.id, first: 100 } });
  const [servers] = useQuery({ query: TenantServersDocument, variables: { id: tenant.id, first: 100 } });
  const reload = () => reexecute({ requestPolicy: 'network-only' });
  useLiveResources(reload);
  const [assignRes, assign] = useMutation(AssignFloatingIpDocument);
  const [unassignRes, unassign] = useMutation(UnassignFloatingIpDocument);
  const [delRes, del] = useMutation(DeleteFloatingIpDocument);
  const [naming, setNaming] = useState<string | null>(null);
  if (res.error && !res.data) return <Alert>{errorMessage(res.error)}</Alert>;
  if (!res.data?.tenant) return <Loading label="Loading floating IPs…" />;
  const ips = (res.data.tenant.floatingIps?.edges ?? []).map((e) => e.node);
  const serverList = (servers.data?.tenant?.servers?.edges ?? []).map((e) => e.node).filter((s) => s.externalId && s.status !== 'DELETED');
  const manage = tenant.can('infrastructure.manage');
  const error = assignRes.error ?? unassignRes.error ?? delRes.error;
  return (
    <>
      <div className="card">
        <h2>Floating IPs</h2>
        {ips.length === 0 ? (
          <Empty>No floating IPs yet.</Empty>
        ) : (
          <table className="table" aria-label="Floating IPs">
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th>Address</th>
                <th>Reverse DNS</th>
                <th>Assigned to</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {ips.map((f) => (
                <tr key={f.id}>
                  <th scope="row">{f.name}</th>
                  <td>
                    <span className={`status status-${f.status === 'READY' ? 'available' : f.status.toLowerCase()}`}>{f.status.toLowerCase()}</span>
                  </td>
                  <td className="mono">{f.ip ?? '—'}</td>
                  <td className="mono">{f.dnsPtr ?? '—'}</td>
                  <td>
                    {manage && f.status === 'READY' ? (
                      <select
                        aria-label={`Assign ${f.name} to`}
                        value={f.serverId ?? ''}
                        onChange={(e) =>
                          e.target.value ? assign({ input: { floatingIpId: f.id, serverId: e.target.value } }) : unassign({ floatingIpId: f.id })
                        }
                      >
                        <option value="">Not assigned</option>
                        {serverList
                          .filter((s) => s.providerId === f.providerId)
                          .map((s) => (
                            <option key={s.id} value={s.id}>
                              {s.name}
                            </option>
                          ))}
                      </select>
                    ) : (
                      (serverList.find((s) => s.id === f.serverId)?.name ?? (f.serverId ? 'a server' : '—'))
                    )}
                  </td>
                  <td className="actions">
                    {manage && f.status === 'READY' && (
                      <Button variant="ghost" aria-expanded={naming === f.id} onClick={() => setNaming(naming === f.id ? null : f.id)}>
                        Reverse DNS
                      </Button>
                    )}
                    {manage && (f.status === 'READY' || f.status === 'ERROR') && (
                      <ConfirmButton busy={delRes.fetching} confirmLabel={`Release ${f.name}`} onConfirm={() => del({ id: f.id })}>
                        Release
                      </ConfirmButton>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {error && <Alert>{errorMessage(error)}</Alert>}
      </div>
      {ips
        .filter((f) => f.id === naming)
        .map((f) => (
          <ReverseDns key={f.id} ip={f} onDone={() => setNaming(null)} />
        ))}
      {manage && providers.length > 0 && <CreateFloatingIp providers={providers} onCreated={reload} />}
    </>
  );
}

function ReverseDns({ ip, onDone }: { ip: { id: string; name: string; ip?: string | null; dnsPtr?: string | null }; onDone: () => void }) {
  const [ptr, setPtr] = useState(ip.dnsPtr ?? '');
  const [res, save] = useMutation(SetFloatingIpReverseDnsDocument);
  const errors = fieldErrors(res.error);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await save({ input: { floatingIpId: ip.id, dnsPtr: ptr.trim() || null } });
    if (!r.error) onDone();
  };
  return (
    <form className="card" aria-label={`Reverse DNS of ${ip.name}`} onSubmit={submit}>
      <h2>Reverse DNS of {ip.ip ?? ip.name}</h2>
      <Field label="Host name" value={ptr} onChange={(e) => setPtr(e.target.value)} error={errors.dnsPtr} placeholder="mail.example.com" hint="Empty resets it to the provider's default" />
      {errors[''] && <Alert>{errors['']}</Alert>}
      <Button type="submit" busy={res.fetching}>
        Save reverse DNS
      </Button>
    </form>
  );
}

function CreateFloatingIp({ providers, onCreated }: { providers: Provider[]; onCreated: () => void }) {
  const [providerId, setProviderId] = useState(providers[0].id);
  const [name, setName] = useState('');
  const [type, setType] = useState<FloatingIpType>('IPV4');
  const [homeLocation, setLocation] = useState('fsn1');
  const [res, create] = useMutation(CreateFloatingIpDocument);
  const errors = fieldErrors(res.error);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await create({ input: { providerId, name, type, homeLocation } });
    if (!r.error) {
      setName('');
      onCreated();
    }
  };
  return (
    <form className="card" aria-label="Reserve a floating IP" onSubmit={submit}>
      <h2>Reserve a floating IP</h2>
      <ProviderSelect providers={providers} value={providerId} onChange={setProviderId} error={errors.providerId} />
      <div className="row">
        <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} required />
        <SelectField label="Address family" value={type} onChange={(e) => setType(e.target.value as FloatingIpType)} error={errors.type}>
          <option value="IPV4">IPv4</option>
          <option value="IPV6">IPv6 (/64)</option>
        </SelectField>
        <Field label="Home location" value={homeLocation} onChange={(e) => setLocation(e.target.value)} error={errors.homeLocation} required />
      </div>
      {errors[''] && <Alert>{errors['']}</Alert>}
      <Button type="submit" busy={res.fetching}>
        Reserve
      </Button>
    </form>
  );
}
