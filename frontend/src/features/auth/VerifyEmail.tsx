import { useEffect, useRef } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useMutation } from 'urql';
import { VerifyEmailDocument } from '../../gql/graphql';
import { errorMessage } from '../../app/client';
import { isSignedIn } from '../../app/session';
import { Alert, Loading } from '../../ui';
import { AuthLayout } from './AuthLayout';

export default function VerifyEmail() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [res, verify] = useMutation(VerifyEmailDocument);
  const started = useRef(false);
  useEffect(() => {
    if (!token || started.current) return;
    started.current = true;
    void verify({ token });
  }, [token, verify]);

  const user = res.data?.verifyEmail.user;
  return (
    <AuthLayout title="Confirm your e-mail">
      {!token && <Alert>This link has no token. Open the link from the mail again.</Alert>}
      {token && !user && !res.error && <Loading label="Confirming your address…" />}
      {res.error && (
        <Alert>
          {errorMessage(res.error)} The link may have expired or been used already.
        </Alert>
      )}
      {user && (
        <>
          <Alert kind="success">Your address {user.email} is confirmed.</Alert>
          <p>
            {isSignedIn() ? <Link to="/" className="btn btn-primary">Continue</Link> : <Link to={`/login?email=${encodeURIComponent(user.email ?? '')}`} className="btn btn-primary">Log in</Link>}
          </p>
        </>
      )}
    </AuthLayout>
  );
}
