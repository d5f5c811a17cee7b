// The DNS propagation checker: asks every authoritative name server of a record's zone for it
// now and shows what each answers.
import { useQuery } from 'urql';
import { DnsPropagationDocument } from '../../gql/graphql';
import { errorMessage } from '../../app/client';
import { Alert, Button, Loading, formatDate } from '../../ui';

const STATUS: Record<string, string> = {
  PROPAGATED: 'has it',
  OUTDATED: 'has another value',
  MISSING: 'does not have it',
  UNREACHABLE: 'could not be asked',
};

export function Propagation({ recordId, onClose }: { recordId: string; onClose: () => void }) {
  const [res, recheck] = useQuery({ query: DnsPropagationDocument, variables: { id: recordId }, requestPolicy: 'network-only' });
  const node = res.data?.node?.__typename === 'DnsRecord' ? res.data.node : null;
  const p = node?.propagation;
  return (
    <section className="card" aria-label="Propagation">
      <h3>Propagation{p ? ` of ${p.fqdn} (${node.type})` : ''}</h3>
      {res.error && <Alert>{errorMessage(res.error)}</Alert>}
      {!p && !res.error && <Loading label="Asking the name servers…" />}
      {p && p.nameServers.length === 0 && (
        <Alert kind="info">No authoritative name server is known for this zone: add NS records at its apex (@) naming them.</Alert>
      )}
      {p && p.nameServers.length > 0 && (
        <>
          <p>{p.propagated ? <span className="status status-active">propagated</span> : <span className="status status-pending">not everywhere yet</span>} checked {formatDate(p.checkedAt)}</p>
          <table className="table" aria-label="Name servers">
            <thead>
              <tr>
                <th>Name server</th>
                <th>Address</th>
                <th>Answer</th>
                <th>Values</th>
              </tr>
            </thead>
            <tbody>
              {p.nameServers.map((s) => (
                <tr key={s.nameServer}>
                  <th scope="row">{s.nameServer}</th>
                  <td className="mono">{s.address ?? '—'}</td>
                  <td>
                    <span className={`status status-${s.status === 'PROPAGATED' ? 'active' : s.status === 'UNREACHABLE' ? 'failed' : 'pending'}`}>{STATUS[s.status]}</span>
                    {s.error && <div className="muted">{s.error}</div>}
                  </td>
                  <td className="mono">{s.values.join(', ') || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <div className="row">
        <Button variant="secondary" busy={res.fetching} onClick={() => recheck({ requestPolicy: 'network-only' })}>
          Check again
        </Button>
        <Button variant="ghost" onClick={onClose}>
          Close
        </Button>
      </div>
    </section>
  );
}
