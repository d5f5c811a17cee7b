// The organisation of the current `/o/:slug` route, and rendering by permission.
//
//   const tenant = useTenant();            // { id, slug, name, viewerPermissions, can }
//   tenant.can('workflow.edit')            // or can(tenant, 'WORKFLOW_EDIT')
//   <RequirePermission permission="workflow.edit" fallback={…}>…</RequirePermission>
//
// Permissions may be given as catalog keys (`workflow.edit`) or as the API's enum values
// (`WORKFLOW_EDIT`); `viewerPermissions` holds the enum values.
import { createContext, useContext, useEffect, type ReactNode } from 'react';
import { useClient, useQuery, useSubscription } from 'urql';
import { Outlet, useParams } from 'react-router';
import { TenantBySlugDocument, TenantEventsDocument, ViewerDocument } from '../gql/graphql';
import { VIEWER_VARS } from './viewer';

export interface CurrentTenant {
  id: string;
  slug: string;
  name: string;
  status: string;
  /** Enum values of the `Permission` type, e.g. `WORKFLOW_EDIT`. */
  viewerPermissions: string[];
  viewerRole: { id: string; key: string; name: string } | null;
  /** Whether the viewer holds `permission` here (key or enum form). */
  can: (permission: string) => boolean;
}

/** `workflow.edit` → `WORKFLOW_EDIT`; enum values are left as they are. */
export function permissionEnum(permission: string): string {
  return permission.replace(/\./g, '_').toUpperCase();
}

/** Whether `tenant` grants the viewer `permission` (key such as `workflow.edit` or enum value). */
export function can(
  tenant: { viewerPermissions: readonly string[] } | null | undefined,
  permission: string,
): boolean {
  return !!tenant && tenant.viewerPermissions.includes(permissionEnum(permission));
}

const TenantContext = createContext<CurrentTenant | null>(null);

/** Provides a tenant object directly (tests, stories). */
export function TenantProvider({
  tenant,
  children,
}: {
  tenant: Omit<CurrentTenant, 'can' | 'status' | 'viewerRole'> & Partial<Pick<CurrentTenant, 'status' | 'viewerRole'>>;
  children: ReactNode;
}) {
  const value: CurrentTenant = {
    status: 'active',
    viewerRole: null,
    ...tenant,
    can: (p) => can(tenant, p),
  };
  return <TenantContext.Provider value={value}>{children}</TenantContext.Provider>;
}

/** The organisation of the enclosing `/o/:slug` route. Throws outside of it. */
export function useTenant(): CurrentTenant {
  const t = useContext(TenantContext);
  if (!t) throw new Error('useTenant() used outside of an /o/:slug route');
  return t;
}

/** Like `useTenant`, but null outside of an organisation route. */
export function useOptionalTenant(): CurrentTenant | null {
  return useContext(TenantContext);
}

/** `const can = useCan(); can('members.manage')` */
export function useCan(): (permission: string) => boolean {
  const t = useContext(TenantContext);
  return (p) => can(t, p);
}

/** Renders its children only when the viewer holds `permission` in the current organisation. */
export function RequirePermission({
  permission,
  children,
  fallback = null,
}: {
  permission: string;
  children: ReactNode;
  fallback?: ReactNode;
}) {
  const t = useContext(TenantContext);
  return <>{can(t, permission) ? children : fallback}</>;
}

/** Route element of `/o/:slug`: loads the organisation and provides it to the pages below. */
export function TenantRoute() {
  const { slug = '' } = useParams();
  const [{ data, fetching, error }, reexecute] = useQuery({ query: TenantBySlugDocument, variables: { slug } });
  const t = data?.tenant;
  // Role, status and name changes reach the open page: re-read what the viewer may do.
  const [events] = useSubscription({ query: TenantEventsDocument, variables: { tenantId: t?.id ?? '' }, pause: !t });
  const client = useClient();
  useEffect(() => {
    if (!events.data) return;
    reexecute({ requestPolicy: 'network-only' });
    // The shell's navigation reads the same permissions from the viewer's organisation list.
    void client.query(ViewerDocument, VIEWER_VARS, { requestPolicy: 'network-only' }).toPromise();
  }, [events.data, reexecute, client]);
  if (!t) {
    if (fetching) return <p className="loading" role="status">Loading organisation…</p>;
    return (
      <section className="page">
        <h1>Organisation not found</h1>
        <p>{error ? 'This organisation does not exist or you are not a member of it.' : ''}</p>
      </section>
    );
  }
  return (
    <TenantProvider
      tenant={{
        id: t.id,
        slug: t.slug,
        name: t.name,
        status: t.status,
        viewerPermissions: t.viewerPermissions as string[],
        viewerRole: t.viewerRole,
      }}
    >
      <Outlet />
    </TenantProvider>
  );
}
