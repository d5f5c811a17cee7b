import { useQuery } from 'urql';
import { PermissionsDocument, TenantRolesDocument } from '../../gql/graphql';

export function useTenantRoles(tenantId: string) {
  const [res, reexecute] = useQuery({
    query: TenantRolesDocument,
    variables: { id: tenantId },
    requestPolicy: 'cache-and-network',
  });
  const roles = res.data?.tenant.roles.edges.map((e) => e.node) ?? [];
  return {
    roles,
    fetching: res.fetching || res.stale,
    error: res.error,
    refetch: () => reexecute({ requestPolicy: 'network-only' }),
  };
}

export function usePermissionCatalog() {
  const [res] = useQuery({ query: PermissionsDocument });
  return { permissions: res.data?.permissions ?? [], fetching: res.fetching, error: res.error };
}
