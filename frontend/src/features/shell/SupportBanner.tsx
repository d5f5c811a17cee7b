// The developer-mode banner: while the viewer (a platform operator) has a live support
// session, a bar across the app names the organisation, says whether it is read-only and
// until when, and offers to open it and to exit (ending the session at once).
import { Link, useNavigate } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { AdminEndSupportSessionDocument, ViewerSupportSessionsDocument } from '../../gql/graphql';
import { errorMessage } from '../../app/client';
import { Button, formatDate } from '../../ui';

export function SupportBanner({ operator }: { operator: boolean }) {
  const navigate = useNavigate();
  const [res, refetch] = useQuery({ query: ViewerSupportSessionsDocument, pause: !operator, requestPolicy: 'cache-and-network' });
  const [endRes, end] = useMutation(AdminEndSupportSessionDocument);
  const live = res.data?.viewer?.supportSessions.filter((s) => s.status === 'ACTIVE') ?? [];
  if (!operator || live.length === 0) return null;
  return (
    <>
      {live.map((s) => (
        <div key={s.id} className="alert alert-warning support-banner" role="status" aria-label="Developer mode">
          <strong>Developer mode</strong> in {s.tenantName}
          {s.readOnly ? ' (read-only)' : ''} until {formatDate(s.expiresAt)}: every request is audited.{' '}
          <Link to={`/o/${s.tenantSlug}`}>Open {s.tenantName}</Link>{' '}
          <Button
            variant="secondary"
            busy={endRes.fetching}
            onClick={async () => {
              const r = await end({ id: s.id });
              if (!r.error) {
                refetch({ requestPolicy: 'network-only' });
                navigate('/admin/support');
              }
            }}
          >
            Exit developer mode
          </Button>
          {endRes.error && <span role="alert"> {errorMessage(endRes.error)}</span>}
        </div>
      ))}
    </>
  );
}
