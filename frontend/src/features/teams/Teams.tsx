import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  CreateTeamDocument,
  DeleteTeamDocument,
  RemoveTeamMemberDocument,
  SetTeamMemberDocument,
  TenantMembersDocument,
  TenantTeamsDocument,
  UpdateTeamDocument,
  type TeamRole,
  type TenantTeamsQuery,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { useViewer } from '../../app/viewer';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, ConfirmButton, Empty, Field, Loading, PageHeader, SelectField, TextAreaField } from '../../ui';
import { ConnectionTable } from '../../ui/ConnectionTable';

type Team = TenantTeamsQuery['tenant']['teams']['edges'][number]['node'];
const TEAM_ROLES: { value: TeamRole; label: string }[] = [
  { value: 'OWNER', label: 'Owner' },
  { value: 'EDITOR', label: 'Editor' },
  { value: 'VIEWER', label: 'Viewer' },
];

export default function Teams() {
  const tenant = useTenant();
  useDocumentTitle(`Teams · ${tenant.name}`);
  const [res, reexecute] = useQuery({ query: TenantTeamsDocument, variables: { id: tenant.id }, requestPolicy: 'cache-and-network' });
  const reload = () => reexecute({ requestPolicy: 'network-only' });
  const teams = res.data?.tenant.teams.edges.map((e) => e.node) ?? [];
  const canManageAll = tenant.can('teams.manage');
  const [members] = useQuery({
    query: TenantMembersDocument,
    variables: { id: tenant.id, first: 100, status: 'ACTIVE' },
    pause: !tenant.can('members.read'),
  });
  const allMembers = members.data?.tenant.members?.edges.map((e) => e.node) ?? [];

  return (
    <section className="page">
      <PageHeader title="Teams" />
      {canManageAll && <CreateTeam tenantId={tenant.id} onCreated={reload} />}
      {res.error && !res.data && <Alert>{errorMessage(res.error)}</Alert>}
      {res.fetching && !res.data ? (
        <Loading label="Loading teams…" />
      ) : teams.length === 0 ? (
        <Empty>No teams yet.{canManageAll && ' Create the first one above.'}</Empty>
      ) : (
        teams.map((t) => <TeamCard key={t.id} team={t} members={allMembers} canManageAll={canManageAll} onChanged={reload} />)
      )}
    </section>
  );
}

function CreateTeam({ tenantId, onCreated }: { tenantId: string; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [res, create] = useMutation(CreateTeamDocument);
  const errs = fieldErrors(res.error);
  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await create({ input: { tenantId, name, description } });
    if (r.data) {
      setName('');
      setDescription('');
      onCreated();
    }
  }
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="new-team">
      <h2 id="new-team">New team</h2>
      <div className="row">
        <Field label="Team name" value={name} onChange={(e) => setName(e.target.value)} error={errs.name} required />
        <Field label="Team description" value={description} onChange={(e) => setDescription(e.target.value)} error={errs.description} />
        <Button type="submit" busy={res.fetching} busyLabel="Creating…">
          Create team
        </Button>
      </div>
      <Alert>{errs['']}</Alert>
    </form>
  );
}

function TeamCard({
  team,
  members,
  canManageAll,
  onChanged,
}: {
  team: Team;
  members: { id: string; user: { id: string; name: string } }[];
  canManageAll: boolean;
  onChanged: () => void;
}) {
  const { viewer } = useViewer();
  const teamMembers = team.members.edges.map((e) => e.node);
  const isOwner = teamMembers.some((m) => m.role === 'OWNER' && m.membership.user.id === viewer?.id);
  const canManage = canManageAll || isOwner;
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(team.name);
  const [description, setDescription] = useState(team.description);
  const [updateRes, update] = useMutation(UpdateTeamDocument);
  const [deleteRes, del] = useMutation(DeleteTeamDocument);
  const [setRes, setMember] = useMutation(SetTeamMemberDocument);
  const [removeRes, remove] = useMutation(RemoveTeamMemberDocument);
  const [addId, setAddId] = useState('');
  const [addRole, setAddRole] = useState<TeamRole>('EDITOR');
  const errs = fieldErrors(updateRes.error);
  const opError = deleteRes.error ?? setRes.error ?? removeRes.error;
  const candidates = members.filter((m) => !teamMembers.some((t) => t.membership.id === m.id));

  async function save(e: FormEvent) {
    e.preventDefault();
    const r = await update({ input: { id: team.id, name, description } });
    if (r.data) setEditing(false);
  }

  return (
    <article className="card" aria-labelledby={`team-${team.id}`}>
      {editing ? (
        <form onSubmit={save} noValidate>
          <Field label="Team name" value={name} onChange={(e) => setName(e.target.value)} error={errs.name} required autoFocus />
          <TextAreaField label="Team description" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} error={errs.description} />
          <Alert>{errs['']}</Alert>
          <div className="form-actions">
            <Button type="submit" busy={updateRes.fetching} busyLabel="Saving…">
              Save
            </Button>
            <Button variant="ghost" onClick={() => setEditing(false)}>
              Cancel
            </Button>
          </div>
        </form>
      ) : (
        <div className="page-header">
          <div>
            <h2 id={`team-${team.id}`}>{team.name}</h2>
            {team.description && <p className="muted">{team.description}</p>}
          </div>
          {canManage && (
            <div className="page-actions">
              <Button variant="secondary" onClick={() => setEditing(true)}>
                Rename<span className="sr-only"> {team.name}</span>
              </Button>
              {canManageAll && (
                <ConfirmButton
                  busy={deleteRes.fetching}
                  confirmLabel="Delete team"
                  onConfirm={async () => {
                    const r = await del({ id: team.id });
                    if (r.data) onChanged();
                  }}
                >
                  Delete<span className="sr-only"> {team.name}</span>
                </ConfirmButton>
              )}
            </div>
          )}
        </div>
      )}
      {opError && <Alert>{errorMessage(opError)}</Alert>}
      <ConnectionTable
        caption={`Members of ${team.name}`}
        connection={team.members}
        rowKey={(m) => m.membership.id}
        empty="No members in this team."
        columns={[
          { header: 'Member', rowHeader: true, cell: (m) => m.membership.user.name },
          {
            header: 'Team role',
            cell: (m) =>
              canManage ? (
                <>
                  <label className="sr-only" htmlFor={`tr-${team.id}-${m.membership.id}`}>
                    Team role of {m.membership.user.name}
                  </label>
                  <select
                    id={`tr-${team.id}-${m.membership.id}`}
                    value={m.role}
                    disabled={setRes.fetching}
                    onChange={async (e) => {
                      const r = await setMember({ input: { teamId: team.id, membershipId: m.membership.id, role: e.target.value as TeamRole } });
                      if (r.data) onChanged();
                    }}
                  >
                    {TEAM_ROLES.map((r) => (
                      <option key={r.value} value={r.value}>
                        {r.label}
                      </option>
                    ))}
                  </select>
                </>
              ) : (
                TEAM_ROLES.find((r) => r.value === m.role)?.label
              ),
          },
          canManage && {
            header: 'Actions',
            className: 'actions',
            cell: (m) => (
              <ConfirmButton
                busy={removeRes.fetching}
                confirmLabel="Remove"
                onConfirm={async () => {
                  const r = await remove({ input: { teamId: team.id, membershipId: m.membership.id } });
                  if (r.data) onChanged();
                }}
              >
                Remove<span className="sr-only"> {m.membership.user.name} from {team.name}</span>
              </ConfirmButton>
            ),
          },
        ]}
      />
      {canManage && candidates.length > 0 && (
        <form
          className="row"
          onSubmit={async (e) => {
            e.preventDefault();
            const id = addId || candidates[0]?.id;
            if (!id) return;
            const r = await setMember({ input: { teamId: team.id, membershipId: id, role: addRole } });
            if (r.data) {
              setAddId('');
              onChanged();
            }
          }}
        >
          <SelectField label={`Add to ${team.name}`} value={addId || candidates[0]?.id} onChange={(e) => setAddId(e.target.value)}>
            {candidates.map((m) => (
              <option key={m.id} value={m.id}>
                {m.user.name}
              </option>
            ))}
          </SelectField>
          <SelectField label="Team role" value={addRole} onChange={(e) => setAddRole(e.target.value as TeamRole)}>
            {TEAM_ROLES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </SelectField>
          <Button type="submit" variant="secondary" busy={setRes.fetching} busyLabel="Adding…">
            Add member
          </Button>
        </form>
      )}
    </article>
  );
}
