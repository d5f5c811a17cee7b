import { useEffect, useRef } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useMutation } from 'urql';
import { UnlockAccountDocument } from '../../gql/graphql';
import { errorMessage } from '../../app/client';
import { Alert, Loading } from '../../ui';
import { AuthLayout } from './AuthLayout';

export default function UnlockAccount() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [res, unlock] = useMutation(UnlockAccountDocument);
  const started = useRef(false);
  useEffect(() => {
    if (!token || started.current) return;
    started.current = true;
    void unlock({ token });
  }, [token, unlock]);
  return (
    <AuthLayout title="Unlock your account" footer={<Link to="/login">Go to log in</Link>}>
      {!token && <Alert>This link has no token. Open the link from the mail again.</Alert>}
      {token && !res.data && !res.error && <Loading label="Unlocking…" />}
      {res.error && <Alert>{errorMessage(res.error)} The link may have expired or been used already.</Alert>}
      {res.data && <Alert kind="success">Your account is unlocked. You can log in again.</Alert>}
    </AuthLayout>
  );
}
