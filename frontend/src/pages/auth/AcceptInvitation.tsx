import { useState } from 'react';
import { Link, useLocation, useNavigate, useSearchParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { JoinOrganisationDocument, ViewerAccountDocument } from '../../gql/graphql';
import { errorCode, errorMessage } from '../../app/client';
import { isSignedIn, saveTokens } from '../../app/session';
import { Alert, Button, Loading } from '../../ui';
import { AuthLayout } from './AuthLayout';

export default function AcceptInvitation() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const location = useLocation();
  const here = location.pathname + location.search;
  const navigate = useNavigate();
  const [signedIn] = useState(isSignedIn);
  const [viewer] = useQuery({ query: ViewerAccountDocument, pause: !signedIn });
  const [res, accept] = useMutation(JoinOrganisationDocument);

  if (!token)
    return (
      <AuthLayout title="Invitation">
        <Alert>This link has no token. Open the link from the invitation mail again.</Alert>
      </AuthLayout>
    );

  if (!signedIn)
    return (
      <AuthLayout title="You are invited">
        <p>You have been invited to join an organisation on Zygo. Log in, or create an account with the address the invitation was sent to, to accept it.</p>
        <div className="stack">
          <Link className="btn btn-primary wide" to={`/signup?next=${encodeURIComponent(here)}`}>
            Create an account
          </Link>
          <Link className="btn btn-secondary wide" to={`/login?next=${encodeURIComponent(here)}`}>
            Log in
          </Link>
        </div>
      </AuthLayout>
    );

  const joined = res.data?.acceptInvitation;
  const code = errorCode(res.error);
  return (
    <AuthLayout title={joined ? `Welcome to ${joined.tenant.name}` : 'Accept the invitation'}>
      {viewer.fetching && <Loading />}
      {viewer.data?.viewer && !joined && (
        <p>
          You are signed in as <strong>{viewer.data.viewer.email}</strong>.
        </p>
      )}
      {res.error && (
        <Alert>
          {errorMessage(res.error)}
          {code === 'INVITATION_EMAIL_MISMATCH' && ' Log in with the invited address instead.'}
        </Alert>
      )}
      {joined ? (
        <>
          <Alert kind="success">
            You joined {joined.tenant.name} as {joined.membership.role.name}.
          </Alert>
          <Button onClick={() => navigate(`/o/${joined.tenant.slug}`)}>Open {joined.tenant.name}</Button>
        </>
      ) : (
        <div className="stack">
          <Button busy={res.fetching} busyLabel="Joining…" className="wide" onClick={() => accept({ token })}>
            Accept invitation
          </Button>
          {res.error && (
            <Button
              variant="secondary"
              className="wide"
              onClick={() => {
                saveTokens(null);
                navigate(`/login?next=${encodeURIComponent(here)}`);
              }}
            >
              Log in as someone else
            </Button>
          )}
        </div>
      )}
    </AuthLayout>
  );
}
