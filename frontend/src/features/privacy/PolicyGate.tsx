// Asks the signed-in person to accept the platform's current policies (terms, privacy policy)
// before anything else, when the operator published versions they have not accepted yet.
import { useMutation, useQuery } from 'urql';
import { AcceptPoliciesDocument, PoliciesToAcceptDocument } from '../../gql/graphql';
import { errorMessage } from '../../app/client';
import { Alert, Button } from '../../ui';

const NAMES: Record<string, string> = { TERMS: 'Terms of service', PRIVACY: 'Privacy policy' };

export function PolicyGate() {
  const [res, refetch] = useQuery({ query: PoliciesToAcceptDocument });
  const [acc, accept] = useMutation(AcceptPoliciesDocument);
  const pending = res.data?.viewer?.policiesToAccept ?? [];
  if (!pending.length) return null;
  async function agree() {
    const r = await accept({ input: { policies: pending.map((p) => ({ kind: p.kind, version: p.version })) } });
    if (!r.error) refetch({ requestPolicy: 'network-only' });
  }
  return (
    <div className="modal-backdrop">
      <div className="modal card" role="dialog" aria-modal="true" aria-labelledby="policy-title">
        <h2 id="policy-title">Please review our policies</h2>
        <p>To go on using Zygo, read and accept:</p>
        <ul>
          {pending.map((p) => (
            <li key={p.kind}>
              <a href={p.url} target="_blank" rel="noreferrer">
                {NAMES[p.kind] ?? p.kind}
              </a>{' '}
              (version {p.version})
            </li>
          ))}
        </ul>
        {acc.error && <Alert>{errorMessage(acc.error)}</Alert>}
        <Button onClick={agree} busy={acc.fetching}>
          I accept
        </Button>
      </div>
    </div>
  );
}
