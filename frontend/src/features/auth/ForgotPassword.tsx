import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation } from 'urql';
import { RequestPasswordResetDocument } from '../../gql/graphql';
import { fieldErrors } from '../../app/client';
import { Alert, Button, Field } from '../../ui';
import { AuthLayout } from './AuthLayout';

export default function ForgotPassword() {
  const [email, setEmail] = useState('');
  const [res, request] = useMutation(RequestPasswordResetDocument);
  const errs = fieldErrors(res.error);
  async function submit(e: FormEvent) {
    e.preventDefault();
    await request({ email });
  }
  return (
    <AuthLayout title="Reset your password" footer={<Link to="/login">Back to log in</Link>}>
      {res.data ? (
        <Alert kind="success">If {email} has an account, a mail with a reset link is on its way.</Alert>
      ) : (
        <form onSubmit={submit} noValidate>
          <p>Enter your e-mail address and we will send you a link to choose a new password.</p>
          <Field label="E-mail" type="email" name="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={errs.email} />
          <Alert>{errs['']}</Alert>
          <Button type="submit" busy={res.fetching} busyLabel="Sending…" className="wide">
            Send reset link
          </Button>
        </form>
      )}
    </AuthLayout>
  );
}
