import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useMutation } from 'urql';
import { LogInDocument, ResendVerificationDocument, SignUpDocument } from '../../gql/graphql';
import { fieldErrors } from '../../app/client';
import { saveTokens, tokensFrom } from '../../app/session';
import { safeNext } from '../../app/navigation';
import { Alert, Button, Field } from '../../ui';
import { AuthLayout } from './AuthLayout';
import { OAuthButtons } from './Login';

export default function Signup() {
  const [params] = useSearchParams();
  const rawNext = params.get('next');
  const next = safeNext(rawNext);
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [email, setEmail] = useState(params.get('email') ?? '');
  const [password, setPassword] = useState('');
  const [sent, setSent] = useState(false);
  const [signup, runSignup] = useMutation(SignUpDocument);
  const [login, runLogin] = useMutation(LogInDocument);
  const [resend, runResend] = useMutation(ResendVerificationDocument);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await runSignup({ input: { name, email, password } });
    if (!r.data?.signUp) return;
    if (rawNext) {
      // Coming from a link (an invitation): sign straight in and go back there.
      const l = await runLogin({ input: { email, password } });
      if (l.data?.logIn.tokens) {
        saveTokens(tokensFrom(l.data.logIn.tokens));
        navigate(next, { replace: true });
        return;
      }
    }
    setSent(true);
  }

  if (sent)
    return (
      <AuthLayout title="Check your inbox" footer={<Link to={`/login?email=${encodeURIComponent(email)}`}>Go to log in</Link>}>
        <p>
          We sent a confirmation link to <strong>{email}</strong>. Open it to confirm your address, then log in.
        </p>
        <Button variant="secondary" busy={resend.fetching} onClick={() => runResend({ email })}>
          Send the mail again
        </Button>
        {resend.data && <Alert kind="success">A new mail is on its way.</Alert>}
        <Alert>{fieldErrors(resend.error)['']}</Alert>
      </AuthLayout>
    );

  const errs = fieldErrors(signup.error ?? login.error);
  return (
    <AuthLayout
      title="Create your account"
      footer={
        <span>
          Already have an account? <Link to={`/login${rawNext ? `?next=${encodeURIComponent(next)}` : ''}`}>Log in</Link>
        </span>
      }
    >
      <form onSubmit={submit} noValidate>
        <Field label="Name" name="name" autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} error={errs.name} />
        <Field
          label="E-mail"
          type="email"
          name="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={errs.email}
        />
        <Field
          label="Password"
          type="password"
          name="password"
          autoComplete="new-password"
          required
          minLength={8}
          hint="At least 8 characters; not a common password, not your name or e-mail."
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={errs.password}
        />
        <Alert>{errs['']}</Alert>
        <Button type="submit" busy={signup.fetching || login.fetching} busyLabel="Creating account…" className="wide">
          Create account
        </Button>
      </form>
      <OAuthButtons next={next} />
    </AuthLayout>
  );
}
