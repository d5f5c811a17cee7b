// The organisation's members at /o/:slug/members: invite people, change their role, suspend,
// reactivate or remove them, and the invitations sent (Invitations.tsx).
import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  ChangeMemberRoleDocument,
  ReactivateMemberDocument,
  RemoveMemberDocument,
  SuspendMemberDocument,
  TenantMembersDocument,
  type MemberStatus,
} from '../../gql/graphql';
import { errorMessage } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { useViewer } from '../../app/viewer';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, ConfirmButton, Field, formatDate, PageHeader, SelectField, useDebounced } from '../../ui';
import { ConnectionTable } from '../../ui/ConnectionTable';
import { useTenantRoles } from '../roles/hooks';
import { Invitations, InviteForm } from './Invitations';

export default function Members() {
  const tenant = useTenant();
  useDocumentTitle(`Members · ${tenant.name}`);
  const canManage = tenant.can('members.manage');
  const { viewer } = useViewer();
  const { roles } = useTenantRoles(tenant.id);
  const [search, setSearch] = useState('');
  const [roleFilter, setRoleFilter] = useState('');
  const [statusFilter, setStatusFilter] = useState('');
  const q = useDebounced(search.trim());
  const [members, refetchMembers] = useQuery({
    query: TenantMembersDocument,
    variables: {
      id: tenant.id,
      search: q || null,
      role: roleFilter || null,
      status: (statusFilter || null) as MemberStatus | null,
      first: 100,
    },
    requestPolicy: 'cache-and-network',
  });
  const [notice, setNotice] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const reload = () => refetchMembers({ requestPolicy: 'network-only' });

  const [changeRes, changeRole] = useMutation(ChangeMemberRoleDocument);
  const [suspendRes, suspend] = useMutation(SuspendMemberDocument);
  const [reactivateRes, reactivate] = useMutation(ReactivateMemberDocument);
  const [removeRes, remove] = useMutation(RemoveMemberDocument);
  const [pendingId, setPendingId] = useState<string | null>(null);
  const [invites, setInvites] = useState(0);

  async function act(id: string, label: string, run: () => Promise<{ error?: Parameters<typeof errorMessage>[0] }>) {
    setPendingId(id);
    setNotice(null);
    const r = await run();
    setPendingId(null);
    if (r.error) setNotice({ kind: 'error', text: errorMessage(r.error) ?? 'Failed.' });
    else {
      setNotice({ kind: 'success', text: label });
      reload();
    }
  }

  const busy = changeRes.fetching || suspendRes.fetching || reactivateRes.fetching || removeRes.fetching;

  return (
    <section className="page">
      <PageHeader title="Members" />
      {canManage && <InviteForm tenantId={tenant.id} roles={roles} onSent={() => setInvites((v) => v + 1)} />}

      <h2>People</h2>
      <div className="filters" role="search">
        <Field label="Search" type="search" placeholder="Name or e-mail" value={search} onChange={(e) => setSearch(e.target.value)} />
        <SelectField label="Role" value={roleFilter} onChange={(e) => setRoleFilter(e.target.value)}>
          <option value="">All roles</option>
          {roles.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </SelectField>
        <SelectField label="Status" value={statusFilter} onChange={(e) => setStatusFilter(e.target.value)}>
          <option value="">Any status</option>
          <option value="ACTIVE">Active</option>
          <option value="SUSPENDED">Suspended</option>
        </SelectField>
      </div>
      {notice && <Alert kind={notice.kind}>{notice.text}</Alert>}
      {members.error && !members.data && <Alert>{errorMessage(members.error)}</Alert>}
      <ConnectionTable
        caption={`Members of ${tenant.name}`}
        connection={members.data?.tenant.members}
        rowKey={(m) => m.id}
        loading={members.fetching && !members.data}
        loadingLabel="Loading members…"
        empty={q || roleFilter || statusFilter ? 'No member matches these filters.' : 'No members yet.'}
        columns={[
          {
            header: 'Name',
            rowHeader: true,
            cell: (m) => (
              <>
                {m.user.name}
                {m.user.id === viewer?.id && <span className="badge">you</span>}
              </>
            ),
          },
          { header: 'E-mail', cell: (m) => m.user.email ?? '—' },
          {
            header: 'Role',
            cell: (m) =>
              canManage && m.user.id !== viewer?.id ? (
                <>
                  <label className="sr-only" htmlFor={`role-${m.id}`}>
                    Role of {m.user.name}
                  </label>
                  <select
                    id={`role-${m.id}`}
                    value={m.role.id}
                    disabled={busy && pendingId === m.id}
                    onChange={(e) => {
                      const role = roles.find((r) => r.id === e.target.value);
                      void act(m.id, `${m.user.name} is now ${role?.name ?? 'changed'}.`, () =>
                        changeRole({ input: { membershipId: m.id, roleId: e.target.value } }),
                      );
                    }}
                  >
                    {roles.map((r) => (
                      <option key={r.id} value={r.id}>
                        {r.name}
                      </option>
                    ))}
                  </select>
                </>
              ) : (
                m.role.name
              ),
          },
          {
            header: 'Status',
            cell: (m) => <span className={`status status-${m.status.toLowerCase()}`}>{m.status === 'ACTIVE' ? 'Active' : 'Suspended'}</span>,
          },
          { header: 'Joined', cell: (m) => formatDate(m.createdAt, false) },
          canManage && {
            header: 'Actions',
            className: 'actions',
            cell: (m) => {
              const self = m.user.id === viewer?.id;
              const rowBusy = busy && pendingId === m.id;
              return (
                <>
                  {!self &&
                    (m.status === 'ACTIVE' ? (
                      <Button
                        variant="secondary"
                        busy={rowBusy && suspendRes.fetching}
                        disabled={busy}
                        onClick={() => act(m.id, `${m.user.name} is suspended.`, () => suspend({ membershipId: m.id }))}
                      >
                        Suspend<span className="sr-only"> {m.user.name}</span>
                      </Button>
                    ) : (
                      <Button
                        variant="secondary"
                        busy={rowBusy && reactivateRes.fetching}
                        disabled={busy}
                        onClick={() => act(m.id, `${m.user.name} is active again.`, () => reactivate({ membershipId: m.id }))}
                      >
                        Reactivate<span className="sr-only"> {m.user.name}</span>
                      </Button>
                    ))}
                  <ConfirmButton
                    busy={rowBusy && removeRes.fetching}
                    disabled={busy}
                    confirmLabel={self ? 'Leave' : 'Remove'}
                    onConfirm={() =>
                      act(m.id, self ? 'You left the organisation.' : `${m.user.name} was removed.`, () => remove({ membershipId: m.id }))
                    }
                  >
                    {self ? 'Leave' : 'Remove'}
                    <span className="sr-only"> {m.user.name}</span>
                  </ConfirmButton>
                </>
              );
            },
          },
        ]}
      />
      {members.data?.tenant.members && (
        <p className="muted">
          {members.data.tenant.members.totalCount} member{members.data.tenant.members.totalCount === 1 ? '' : 's'}
        </p>
      )}
      {canManage && <Invitations tenantId={tenant.id} version={invites} />}
    </section>
  );
}
