// The bell in the top bar: the live unread count (re-read whenever notificationAdded says
// something arrived) and the way into the notification centre.
import { useEffect } from 'react';
import { Link } from 'react-router';
import { useQuery, useSubscription } from 'urql';
import { NotificationAddedDocument, UnreadNotificationCountDocument } from '../../gql/graphql';

export function Bell() {
  const [count, refetch] = useQuery({ query: UnreadNotificationCountDocument, requestPolicy: 'cache-and-network' });
  const [added] = useSubscription({ query: NotificationAddedDocument });
  const newest = added.data?.notificationAdded.id;
  useEffect(() => {
    if (newest) refetch({ requestPolicy: 'network-only' });
  }, [newest, refetch]);
  const unread = count.data?.viewer?.unreadNotificationCount ?? 0;
  return (
    <Link to="/notifications" className="btn btn-ghost bell" aria-label={`Notifications, ${unread} unread`}>
      <span aria-hidden="true">🔔</span>
      {unread > 0 && (
        <span className="badge bell-count" data-testid="unread-count">
          {unread > 99 ? '99+' : unread}
        </span>
      )}
    </Link>
  );
}
