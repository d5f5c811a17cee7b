// The page a share link opens, signed in or not: the file's name, size and expiry, and its
// download (asking for the link's password when it has one).
import { useState, type FormEvent } from 'react';
import { useParams } from 'react-router';
import { useQuery } from 'urql';
import { SharedResourceDocument } from '../../gql/graphql';
import { errorMessage } from '../../app/client';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, Field, formatDate } from '../../ui';
import { formatBytes } from './upload';

export default function SharedFile() {
  const { token = '' } = useParams();
  const [res] = useQuery({ query: SharedResourceDocument, variables: { token } });
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const s = res.data?.sharedResource;
  useDocumentTitle(s ? `${s.name} · shared file` : 'Shared file');

  async function download(ev: FormEvent) {
    ev.preventDefault();
    if (!s) return;
    setBusy(true);
    setError(null);
    try {
      const resp = await fetch(s.downloadPath, { headers: password ? { 'x-share-password': password } : {} });
      if (resp.status === 401) setError('The password is not right.');
      else if (!resp.ok) setError('This link has expired or was revoked.');
      else {
        const url = URL.createObjectURL(await resp.blob());
        const a = document.createElement('a');
        a.href = url;
        a.download = s.filename;
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      }
    } catch {
      setError('The server cannot be reached. Check your connection and try again.');
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="auth-page">
      <section className="card">
        <h1>Shared file</h1>
        {res.error && <Alert>{errorMessage(res.error)}</Alert>}
        {res.data && !s && <Alert>This link has expired or was revoked.</Alert>}
        {s && (
          <form onSubmit={download} noValidate>
            <h2 data-testid="shared-name">{s.name}</h2>
            <p className="muted">
              {s.filename} · {s.mimeType} · {formatBytes(s.sizeBytes)} · available until {formatDate(s.expiresAt)}
            </p>
            {s.passwordRequired && (
              <Field label="Password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} required />
            )}
            {error && <Alert>{error}</Alert>}
            <Button type="submit" busy={busy} busyLabel="Downloading…">
              Download
            </Button>
          </form>
        )}
      </section>
    </main>
  );
}
