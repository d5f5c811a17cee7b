import { useState } from 'react';
import { Link, useLocation, useNavigate, useSearchParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { InvitationPreviewDocument, JoinOrganisationDocument, ViewerAccountDocument } from '../../gql/graphql';
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
  const [preview] = useQuery({ query: InvitationPreviewDocument, variables: { token }, pause: !token });

  if (!token)
    return (
      <AuthLayout title="Invitation">
        <Alert>This link has no token. Open the link from the invitation mail again.</Alert>
      </AuthLayout>
    );

  const invitation = preview.data?.invitationPreview;
  const joined = res.data?.acceptInvitation;
  if (preview.fetching && !preview.data) return <Loading />;
  if (!joined && preview.data && invitation?.status !== 'PENDING')
    return (
      <AuthLayout title="Invitation">
        <Alert>
          {!invitation
            ? 'This invitation link is not valid. If you were sent a newer one, use that; otherwise ask for a new invitation.'
            : invitation.status === 'ACCEPTED'
              ? 'This invitation was already used.'
              : invitation.status === 'REVOKED'
                ? 'This invitation was withdrawn. Ask the organisation for a new one.'
                : 'This invitation has expired. Ask the organisation for a new one.'}
        </Alert>
        <Link className="btn btn-secondary wide" to="/">
          Go to Zygo
        </Link>
      </AuthLayout>
    );
  const who = invitation ? (
    <p>
      {invitation.invitedByName ? <strong>{invitation.invitedByName}</strong> : 'Someone'} invited{' '}
      <strong>{invitation.invitedEmailHint}</strong> to join <strong>{invitation.organisationName}</strong> as{' '}
      <strong>{invitation.roleName}</strong>.
    </p>
  ) : null;

  if (!signedIn)
    return (
      <AuthLayout title="You are invited">
        {who}
        <p>Log in, or create an account with the address the invitation was sent to, to accept it.</p>
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

  const code = errorCode(res.error);
  const otherAddress = invitation?.forViewer === false;
  return (
    <AuthLayout title={joined ? `Welcome to ${joined.tenant.name}` : 'Accept the invitation'}>
      {viewer.fetching && <Loading />}
      {!joined && who}
      {viewer.data?.viewer && !joined && (
        <p>
          You are signed in as <strong>{viewer.data.viewer.email}</strong>.
        </p>
      )}
      {otherAddress && !joined && !res.error && (
        <Alert>The invitation was sent to another address ({invitation?.invitedEmailHint}): log in with it to accept.</Alert>
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
