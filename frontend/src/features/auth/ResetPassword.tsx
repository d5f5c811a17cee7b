import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useMutation } from 'urql';
import { ResetPasswordDocument } from '../../gql/graphql';
import { fieldErrors } from '../../app/client';
import { saveTokens } from '../../app/session';
import { Alert, Button, Field } from '../../ui';
import { AuthLayout } from './AuthLayout';

export default function ResetPassword() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const [res, reset] = useMutation(ResetPasswordDocument);
  const errs = fieldErrors(res.error);
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (password !== confirm) return setMismatch(true);
    setMismatch(false);
    const r = await reset({ token, newPassword: password });
    if (r.data) saveTokens(null); // every session ended
  }
  return (
    <AuthLayout title="Choose a new password" footer={<Link to="/login">Back to log in</Link>}>
      {!token && <Alert>This link has no token. Open the link from the mail again.</Alert>}
      {res.data ? (
        <>
          <Alert kind="success">Your password is changed. Every session was signed out.</Alert>
          <Link to="/login" className="btn btn-primary">Log in</Link>
        </>
      ) : (
        <form onSubmit={submit} noValidate>
          <Field label="New password" type="password" autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.target.value)} error={errs.newPassword} />
          <Field label="Repeat the new password" type="password" autoComplete="new-password" required value={confirm} onChange={(e) => setConfirm(e.target.value)} error={mismatch ? 'The passwords differ.' : undefined} />
          <Alert>{errs.token ?? errs['']}</Alert>
          <Button type="submit" busy={res.fetching} busyLabel="Saving…" className="wide" disabled={!token}>
            Set password
          </Button>
        </form>
      )}
    </AuthLayout>
  );
}
