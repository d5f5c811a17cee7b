// Volumes: create, attach to a server of the same provider account, detach, grow, delete.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  AttachVolumeDocument,
  CreateVolumeDocument,
  DeleteVolumeDocument,
  DetachVolumeDocument,
  ResizeVolumeDocument,
  TenantServersDocument,
  TenantVolumesDocument,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { Alert, Button, ConfirmButton, Empty, Field, Loading } from '../../ui';
import { ProviderSelect, type Provider } from './Infrastructure';
import { useLiveResources } from './Servers';

export function Volumes({ providers }: { providers: Provider[] }) {
  const tenant = useTenant();
  const [res, reexecute] = useQuery({ query: TenantVolumesDocument, variables: { id: tenant.id, first: 100 } });
  const [servers] = useQuery({ query: TenantServersDocument, variables: { id: tenant.id, first: 100 } });
  const reload = () => reexecute({ requestPolicy: 'network-only' });
  useLiveResources(reload);
  const [attachRes, attach] = useMutation(AttachVolumeDocument);
  const [detachRes, detach] = useMutation(DetachVolumeDocument);
  const [resizeRes, resize] = useMutation(ResizeVolumeDocument);
  const [delRes, del] = useMutation(DeleteVolumeDocument);
  if (res.error && !res.data) return <Alert>{errorMessage(res.error)}</Alert>;
  if (!res.data?.tenant) return <Loading label="Loading volumes…" />;
  const volumes = (res.data.tenant.volumes?.edges ?? []).map((e) => e.node).filter((v) => v.status !== 'DELETED');
  const serverList = (servers.data?.tenant?.servers?.edges ?? []).map((e) => e.node).filter((s) => s.status !== 'DELETED');
  const manage = tenant.can('infrastructure.manage');
  const error = attachRes.error ?? detachRes.error ?? resizeRes.error ?? delRes.error;
  return (
    <>
      <div className="card">
        <h2>Volumes</h2>
        {volumes.length === 0 ? (
          <Empty>No volumes yet.</Empty>
        ) : (
          <table className="table" aria-label="Volumes">
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th>Size</th>
                <th>Location</th>
                <th>Attached to</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {volumes.map((v) => (
                <tr key={v.id}>
                  <th scope="row">{v.name}</th>
                  <td>
                    <span className={`status status-${v.status.toLowerCase()}`}>{v.status.toLowerCase()}</span>
                  </td>
                  <td>{v.sizeGb} GB</td>
                  <td>{v.location}</td>
                  <td>
                    {v.serverId ? (
                      (serverList.find((s) => s.id === v.serverId)?.name ?? 'a server')
                    ) : manage ? (
                      <select
                        aria-label={`Attach ${v.name} to`}
                        value=""
                        onChange={(e) => e.target.value && attach({ input: { volumeId: v.id, serverId: e.target.value } })}
                      >
                        <option value="">Attach to…</option>
                        {serverList
                          .filter((s) => s.providerId === v.providerId)
                          .map((s) => (
                            <option key={s.id} value={s.id}>
                              {s.name}
                            </option>
                          ))}
                      </select>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td className="actions">
                    {manage && v.serverId && (
                      <Button variant="secondary" busy={detachRes.fetching} onClick={() => detach({ volumeId: v.id })}>
                        Detach
                      </Button>
                    )}
                    {manage && (
                      <Button variant="secondary" busy={resizeRes.fetching} onClick={() => resize({ input: { volumeId: v.id, sizeGb: v.sizeGb + 10 } })}>
                        Grow by 10 GB
                      </Button>
                    )}
                    {manage && (
                      <ConfirmButton busy={delRes.fetching} confirmLabel={`Delete ${v.name}`} onConfirm={() => del({ id: v.id })}>
                        Delete
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
      {manage && providers.length > 0 && <CreateVolume providers={providers} onCreated={reload} />}
    </>
  );
}

function CreateVolume({ providers, onCreated }: { providers: Provider[]; onCreated: () => void }) {
  const [providerId, setProviderId] = useState(providers[0].id);
  const [name, setName] = useState('');
  const [sizeGb, setSize] = useState(10);
  const [location, setLocation] = useState('fsn1');
  const [res, create] = useMutation(CreateVolumeDocument);
  const errors = fieldErrors(res.error);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await create({ input: { providerId, name, sizeGb, location } });
    if (!r.error) {
      setName('');
      onCreated();
    }
  };
  return (
    <form className="card" aria-label="Create a volume" onSubmit={submit}>
      <h2>Create a volume</h2>
      <ProviderSelect providers={providers} value={providerId} onChange={setProviderId} error={errors.providerId} />
      <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} required />
      <div className="row">
        <Field label="Size (GB)" type="number" min={10} max={10240} value={sizeGb} onChange={(e) => setSize(Number(e.target.value))} error={errors.sizeGb} required />
        <Field label="Location" value={location} onChange={(e) => setLocation(e.target.value)} error={errors.location} required />
      </div>
      {errors[''] && <Alert>{errors['']}</Alert>}
      <Button type="submit" busy={res.fetching}>
        Create volume
      </Button>
    </form>
  );
}
