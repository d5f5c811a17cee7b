// Load balancers: a wizard (account, type, location, algorithm, services with health checks,
// targets), and changing the algorithm and targets of one. Saving declares the whole shape;
// Zygo converges the provider to it.
import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import {
  CreateLoadBalancerDocument,
  DeleteLoadBalancerDocument,
  UpdateLoadBalancerDocument,
  type LoadBalancerAlgorithm,
  type LoadBalancerProtocol,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { Alert, Button, Empty, Field, Loading, SelectField } from '../../ui';
import { ProviderSelect, type Provider } from './Infrastructure';
import { FormErrors, RowActions, ServerPicker, StatusBadge, useNetworking, type LoadBalancerRow, type ServerRow } from './Networking';

const ALGORITHMS: [LoadBalancerAlgorithm, string][] = [
  ['ROUND_ROBIN', 'Round robin'],
  ['LEAST_CONNECTIONS', 'Least connections'],
];

export function LoadBalancers({ providers }: { providers: Provider[] }) {
  const tenant = useTenant();
  const n = useNetworking();
  const [delRes, del] = useMutation(DeleteLoadBalancerDocument);
  const [editing, setEditing] = useState<string | null>(null);
  if (n.error) return <Alert>{errorMessage(n.error)}</Alert>;
  if (n.loading) return <Loading label="Loading load balancers…" />;
  const manage = tenant.can('infrastructure.manage');
  const name = (id: string) => n.servers.find((s) => s.id === id)?.name ?? 'a server';
  return (
    <>
      <div className="card">
        <h2>Load balancers</h2>
        {n.loadBalancers.length === 0 ? (
          <Empty>No load balancers yet.</Empty>
        ) : (
          <table className="table" aria-label="Load balancers">
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th>Address</th>
                <th>Services</th>
                <th>Targets</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {n.loadBalancers.map((lb) => (
                <tr key={lb.id}>
                  <th scope="row">{lb.name}</th>
                  <td>
                    <StatusBadge status={lb.status} />
                  </td>
                  <td className="mono">{lb.publicIp ?? '—'}</td>
                  <td className="mono">
                    {lb.services.map((s) => `${s.protocol} ${s.listenPort}→${s.destinationPort}`).join(', ') || '—'}
                  </td>
                  <td>{[...lb.serverIds.map(name), ...lb.labelSelectors.map((s) => `label ${s}`)].join(', ') || '—'}</td>
                  <RowActions
                    manage={manage}
                    row={lb}
                    editing={editing === lb.id}
                    onEdit={() => setEditing(editing === lb.id ? null : lb.id)}
                    deleting={delRes.fetching}
                    onDelete={() => del({ id: lb.id })}
                  />
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {delRes.error && <Alert>{errorMessage(delRes.error)}</Alert>}
      </div>
      {n.loadBalancers
        .filter((lb) => lb.id === editing)
        .map((lb) => (
          <EditLoadBalancer key={lb.id} lb={lb} servers={n.servers} onDone={() => setEditing(null)} />
        ))}
      {manage && providers.length > 0 && <CreateLoadBalancer providers={providers} servers={n.servers} onCreated={n.reload} />}
    </>
  );
}

function EditLoadBalancer({ lb, servers, onDone }: { lb: LoadBalancerRow; servers: ServerRow[]; onDone: () => void }) {
  const [algorithm, setAlgorithm] = useState<LoadBalancerAlgorithm>(lb.algorithm);
  const [serverIds, setServerIds] = useState<string[]>(lb.serverIds);
  const [res, update] = useMutation(UpdateLoadBalancerDocument);
  const errors = fieldErrors(res.error);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await update({ input: { loadBalancerId: lb.id, algorithm, serverIds } });
    if (!r.error) onDone();
  };
  return (
    <form className="card" aria-label={`Edit ${lb.name}`} onSubmit={submit}>
      <h2>{lb.name}</h2>
      {lb.status === 'DRIFTED' && <Alert kind="warning">Changed outside Zygo: saving puts it back as shown here.</Alert>}
      <SelectField label="Algorithm" value={algorithm} onChange={(e) => setAlgorithm(e.target.value as LoadBalancerAlgorithm)}>
        {ALGORITHMS.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </SelectField>
      <ServerPicker servers={servers} providerId={lb.providerId} value={serverIds} onChange={setServerIds} label="Targets" />
      <FormErrors errors={errors} shown={[]} />
      <Button type="submit" busy={res.fetching}>
        {lb.status === 'DRIFTED' ? 'Re-apply' : 'Save load balancer'}
      </Button>
    </form>
  );
}

function CreateLoadBalancer({ providers, servers, onCreated }: { providers: Provider[]; servers: ServerRow[]; onCreated: () => void }) {
  const [providerId, setProviderId] = useState(providers[0].id);
  const [name, setName] = useState('');
  const [type, setType] = useState('lb11');
  const [location, setLocation] = useState('fsn1');
  const [algorithm, setAlgorithm] = useState<LoadBalancerAlgorithm>('ROUND_ROBIN');
  const [protocol, setProtocol] = useState<LoadBalancerProtocol>('HTTP');
  const [listenPort, setListenPort] = useState('80');
  const [destinationPort, setDestinationPort] = useState('80');
  const [path, setPath] = useState('/');
  const [serverIds, setServerIds] = useState<string[]>([]);
  const [res, create] = useMutation(CreateLoadBalancerDocument);
  const errors = fieldErrors(res.error);
  // AWS: an ELBv2 application (HTTP) or network (TCP) load balancer in the account's region.
  const aws = providers.find((p) => p.id === providerId)?.kind === 'AWS';
  const chooseProvider = (id: string) => {
    setProviderId(id);
    const onAws = providers.find((p) => p.id === id)?.kind === 'AWS';
    setType(onAws ? 'application' : 'lb11');
    setLocation(onAws ? '' : 'fsn1');
    setProtocol(onAws ? 'HTTP' : protocol);
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const dest = Number(destinationPort);
    const service = {
      protocol,
      listenPort: Number(listenPort),
      destinationPort: dest,
      healthCheck: { protocol, port: dest, path: protocol === 'HTTP' ? path : null },
    };
    const r = await create({ input: { providerId, name, type, location, algorithm, services: [service], serverIds } });
    if (!r.error) {
      setName('');
      setServerIds([]);
      onCreated();
    }
  };
  const shown = ['input.name', 'input.type', 'input.location', 'input.services.0.listenPort', 'input.services.0.destinationPort', 'input.services.0.healthCheck.path'];
  return (
    <form className="card" aria-label="Create a load balancer" onSubmit={submit}>
      <h2>Create a load balancer</h2>
      <ProviderSelect providers={providers} value={providerId} onChange={chooseProvider} error={errors.providerId} />
      <div className="row">
        <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} error={errors['input.name']} required />
        <SelectField
          label="Type"
          value={type}
          onChange={(e) => {
            setType(e.target.value);
            if (e.target.value === 'application') setProtocol('HTTP');
            if (e.target.value === 'network') setProtocol('TCP');
          }}
          error={errors['input.type']}
        >
          {aws ? (
            <>
              <option value="application">Application (HTTP)</option>
              <option value="network">Network (TCP)</option>
            </>
          ) : (
            <>
              <option value="lb11">lb11 (5 services, 25 targets)</option>
              <option value="lb21">lb21 (15 services, 75 targets)</option>
              <option value="lb31">lb31 (30 services, 150 targets)</option>
            </>
          )}
        </SelectField>
        <Field
          label={aws ? 'Region' : 'Location'}
          value={location}
          onChange={(e) => setLocation(e.target.value)}
          error={errors['input.location']}
          hint={aws ? "The account's region, such as us-east-1" : undefined}
          required
        />
        <SelectField label="Algorithm" value={algorithm} onChange={(e) => setAlgorithm(e.target.value as LoadBalancerAlgorithm)}>
          {ALGORITHMS.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </SelectField>
      </div>
      <fieldset>
        <legend>Service</legend>
        <div className="row">
          <SelectField label="Protocol" value={protocol} onChange={(e) => setProtocol(e.target.value as LoadBalancerProtocol)}>
            <option value="HTTP">HTTP</option>
            <option value="TCP">TCP</option>
          </SelectField>
          <Field label="Listen port" type="number" value={listenPort} onChange={(e) => setListenPort(e.target.value)} error={errors['input.services.0.listenPort']} required />
          <Field label="Destination port" type="number" value={destinationPort} onChange={(e) => setDestinationPort(e.target.value)} error={errors['input.services.0.destinationPort']} required />
          {protocol === 'HTTP' && (
            <Field label="Health check path" value={path} onChange={(e) => setPath(e.target.value)} error={errors['input.services.0.healthCheck.path']} />
          )}
        </div>
      </fieldset>
      <ServerPicker servers={servers} providerId={providerId} value={serverIds} onChange={setServerIds} label="Targets" />
      <FormErrors errors={errors} shown={shown} />
      <Button type="submit" busy={res.fetching}>
        Create load balancer
      </Button>
    </form>
  );
}
