// The organisation's side of developer mode: whether platform support sessions need an
// owner's approval, and every session with approve, deny and end (holders of tenant.update).
import { useMutation, useQuery } from 'urql';
import {
  ApproveSupportSessionDocument,
  DenySupportSessionDocument,
  EndSupportSessionDocument,
  SetSupportAccessApprovalDocument,
  TenantSupportSessionsDocument,
} from '../../gql/graphql';
import { errorMessage } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, Empty, Loading, PageHeader, formatDate } from '../../ui';

const STATUS_LABEL: Record<string, string> = {
  PENDING_APPROVAL: 'Waiting for approval',
  ACTIVE: 'Active',
  ENDED: 'Ended',
  DENIED: 'Denied',
  EXPIRED: 'Expired',
};

export default function SupportAccess() {
  const tenant = useTenant();
  useDocumentTitle(`Support access · ${tenant.name}`);
  const [res, refetch] = useQuery({ query: TenantSupportSessionsDocument, variables: { id: tenant.id }, requestPolicy: 'cache-and-network' });
  const [approvalRes, setApproval] = useMutation(SetSupportAccessApprovalDocument);
  const [approveRes, approve] = useMutation(ApproveSupportSessionDocument);
  const [denyRes, deny] = useMutation(DenySupportSessionDocument);
  const [endRes, end] = useMutation(EndSupportSessionDocument);
  const canEdit = tenant.can('tenant.update');
  const t = res.data?.tenant;
  const error = approvalRes.error ?? approveRes.error ?? denyRes.error ?? endRes.error;
  const again = () => refetch({ requestPolicy: 'network-only' });

  return (
    <section className="page">
      <PageHeader title="Support access" />
      <p className="muted">
        Platform support can enter the organisation for a limited time, with a written reason, to help you. Every request they make is in the audit log.
      </p>
      {res.error && <Alert>{errorMessage(res.error)}</Alert>}
      {error && <Alert>{errorMessage(error)}</Alert>}
      {!t && !res.error && <Loading />}
      {t && (
        <>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={t.supportRequiresApproval}
              disabled={!canEdit || approvalRes.fetching}
              onChange={(e) => void setApproval({ tenantId: tenant.id, required: e.target.checked }).then(again)}
            />{' '}
            Support sessions need an owner's approval first
          </label>
          {t.supportSessions.length === 0 ? (
            <Empty>Platform support has never entered this organisation.</Empty>
          ) : (
            <table className="table" aria-label="Support sessions">
              <thead>
                <tr>
                  <th scope="col">Operator</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Status</th>
                  <th scope="col">Requested</th>
                  <th scope="col">Until</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {t.supportSessions.map((s) => (
                  <tr key={s.id}>
                    <td>{s.operatorName || s.operatorEmail}</td>
                    <td>
                      {s.reason} {s.readOnly && <span className="badge">Read-only</span>}
                    </td>
                    <td>
                      <span className={s.status === 'ACTIVE' ? 'badge badge-success' : 'badge'}>{STATUS_LABEL[s.status] ?? s.status}</span>
                    </td>
                    <td>{formatDate(s.requestedAt)}</td>
                    <td>{s.expiresAt ? formatDate(s.expiresAt) : '—'}</td>
                    <td>
                      {canEdit && s.status === 'PENDING_APPROVAL' && (
                        <>
                          <Button variant="secondary" onClick={() => void approve({ id: s.id }).then(again)}>
                            Approve
                          </Button>
                          <Button variant="ghost" onClick={() => void deny({ id: s.id }).then(again)}>
                            Deny
                          </Button>
                        </>
                      )}
                      {canEdit && s.status === 'ACTIVE' && (
                        <Button variant="ghost" onClick={() => void end({ id: s.id }).then(again)}>
                          End now
                        </Button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
