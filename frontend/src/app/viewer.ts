// The signed-in user and their organisations, shared by the shell, the dashboard and the
// organisation switcher (one query, one cache entry).
import { useQuery, useClient } from 'urql';
import { useCallback } from 'react';
import { ViewerDocument } from '../gql/graphql';

export const VIEWER_VARS = { first: 100 } as const;

export function useViewer() {
  const [res, reexecute] = useQuery({ query: ViewerDocument, variables: VIEWER_VARS });
  const client = useClient();
  /** Re-reads the viewer and their organisations from the server. */
  const refresh = useCallback(
    () => client.query(ViewerDocument, VIEWER_VARS, { requestPolicy: 'network-only' }).toPromise(),
    [client],
  );
  const viewer = res.data?.viewer ?? null;
  const tenants = viewer?.tenants.edges.map((e) => e.node) ?? [];
  return { viewer, tenants, fetching: res.fetching, error: res.error, refresh, reexecute };
}
