// Inviting people to the organisation, and the invitations sent: resend or revoke them.
import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { InviteMemberDocument, ResendInvitationDocument, RevokeInvitationDocument, TenantInvitationsDocument } from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { Alert, Button, ConfirmButton, Field, formatDate, SelectField } from '../../ui';
import { ConnectionTable } from '../../ui/ConnectionTable';

export function InviteForm({
  tenantId,
  roles,
  onSent,
}: {
  tenantId: string;
  roles: { id: string; key: string; name: string }[];
  onSent: () => void;
}) {
  const [email, setEmail] = useState('');
  const [roleId, setRoleId] = useState('');
  const [res, invite] = useMutation(InviteMemberDocument);
  const [sent, setSent] = useState<string | null>(null);
  const errs = fieldErrors(res.error);
  const effectiveRole = roleId || roles.find((r) => r.key === 'member')?.id || '';

  async function submit(e: FormEvent) {
    e.preventDefault();
    setSent(null);
    const r = await invite({ input: { tenantId, email: email.trim(), roleId: effectiveRole } });
    if (r.data) {
      setSent(r.data.inviteMember.invitation.email);
      setEmail('');
      onSent();
    }
  }
  return (
    <form className="card inline-form" onSubmit={submit} noValidate aria-labelledby="invite-title">
      <h2 id="invite-title">Invite someone</h2>
      <div className="row">
        <Field label="E-mail address" type="email" name="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={errs.email} />
        <SelectField label="Role" name="role" value={effectiveRole} onChange={(e) => setRoleId(e.target.value)} error={errs.roleId}>
          {roles.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </SelectField>
        <Button type="submit" busy={res.fetching} busyLabel="Sending…" disabled={!effectiveRole}>
          Send invitation
        </Button>
      </div>
      <Alert>{errs['']}</Alert>
      {sent && <Alert kind="success">Invitation sent to {sent}.</Alert>}
    </form>
  );
}

export function Invitations({ tenantId, version }: { tenantId: string; version: number }) {
  const [res, reexecute] = useQuery({
    query: TenantInvitationsDocument,
    variables: { id: tenantId, first: 100 },
    requestPolicy: 'cache-and-network',
  });
  useEffect(() => {
    if (version > 0) reexecute({ requestPolicy: 'network-only' });
  }, [version, reexecute]);
  const [resendRes, resend] = useMutation(ResendInvitationDocument);
  const [revokeRes, revoke] = useMutation(RevokeInvitationDocument);
  const [message, setMessage] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const [pendingId, setPendingId] = useState<string | null>(null);

  async function run(id: string, ok: string, op: () => Promise<{ error?: Parameters<typeof errorMessage>[0] }>) {
    setPendingId(id);
    const r = await op();
    setPendingId(null);
    setMessage(r.error ? { kind: 'error', text: errorMessage(r.error) ?? 'Failed.' } : { kind: 'success', text: ok });
    reexecute({ requestPolicy: 'network-only' });
  }

  return (
    <>
      <h2>Invitations</h2>
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      <ConnectionTable
        caption="Invitations"
        connection={res.data?.tenant.invitations}
        newestFirst
        rowKey={(i) => i.id}
        loading={res.fetching && !res.data}
        loadingLabel="Loading invitations…"
        empty="No invitations sent yet."
        columns={[
          { header: 'E-mail', rowHeader: true, cell: (i) => i.email },
          { header: 'Role', cell: (i) => i.role.name },
          { header: 'Status', cell: (i) => <span className={`status status-${i.status.toLowerCase()}`}>{i.status.toLowerCase()}</span> },
          { header: 'Invited by', cell: (i) => i.invitedBy?.name ?? '—' },
          { header: 'Expires', cell: (i) => formatDate(i.expiresAt) },
          {
            header: 'Actions',
            className: 'actions',
            cell: (i) => (
              <>
                {(i.status === 'PENDING' || i.status === 'EXPIRED') && (
                  <Button
                    variant="secondary"
                    busy={pendingId === i.id && resendRes.fetching}
                    onClick={() => run(i.id, `Invitation to ${i.email} sent again.`, () => resend({ id: i.id }))}
                  >
                    Resend<span className="sr-only"> to {i.email}</span>
                  </Button>
                )}
                {i.status === 'PENDING' && (
                  <ConfirmButton
                    busy={pendingId === i.id && revokeRes.fetching}
                    confirmLabel="Revoke"
                    onConfirm={() => run(i.id, `Invitation to ${i.email} revoked.`, () => revoke({ id: i.id }))}
                  >
                    Revoke<span className="sr-only"> invitation to {i.email}</span>
                  </ConfirmButton>
                )}
              </>
            ),
          },
        ]}
      />
    </>
  );
}
