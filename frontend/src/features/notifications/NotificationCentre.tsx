// The notification centre: unread first, newest first within each; mark one or all read; new ones
// appear live.
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useSubscription } from 'urql';
import {
  MarkNotificationsReadDocument,
  NotificationAddedDocument,
  ViewerNotificationsDocument,
} from '../../gql/graphql';
import { errorMessage } from '../../app/client';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, Empty, Loading, PageHeader, formatDate } from '../../ui';

const PAGE = 20;

export default function NotificationCentre() {
  useDocumentTitle('Notifications');
  const [unreadOnly, setUnreadOnly] = useState(false);
  const [after, setAfter] = useState<string | null>(null);
  const [res, refetch] = useQuery({
    query: ViewerNotificationsDocument,
    variables: { first: PAGE, after, unreadOnly },
    requestPolicy: 'cache-and-network',
  });
  const [added] = useSubscription({ query: NotificationAddedDocument });
  const newest = added.data?.notificationAdded.id;
  useEffect(() => {
    if (newest) refetch({ requestPolicy: 'network-only' });
  }, [newest, refetch]);
  const [mark, markRead] = useMutation(MarkNotificationsReadDocument);
  const v = res.data?.viewer;
  const conn = v?.notifications;

  async function read(ids: string[] | null) {
    await markRead({ input: ids ? { ids } : { all: true } });
    refetch({ requestPolicy: 'network-only' });
  }

  return (
    <section className="page">
      <PageHeader title="Notifications">
        <Link to="/settings/notifications" className="btn btn-ghost">
          Notification settings
        </Link>
        <Button onClick={() => read(null)} disabled={!v?.unreadNotificationCount} busy={mark.fetching}>
          Mark all read
        </Button>
      </PageHeader>
      <label className="checkbox">
        <input
          type="checkbox"
          checked={unreadOnly}
          onChange={(e) => {
            setAfter(null);
            setUnreadOnly(e.target.checked);
          }}
        />{' '}
        Unread only
      </label>
      {res.error && <Alert>{errorMessage(res.error)}</Alert>}
      {mark.error && <Alert>{errorMessage(mark.error)}</Alert>}
      {!conn && res.fetching && <Loading />}
      {conn && conn.edges.length === 0 && <Empty>Nothing here yet.</Empty>}
      {conn && conn.edges.length > 0 && (
        <ul className="notification-list" aria-label="Notifications">
          {conn.edges.map(({ node: n }) => (
            <li key={n.id} className={n.read ? 'notification read' : 'notification unread'} data-kind={n.kind}>
              <div>
                <strong>{n.title}</strong>
                {n.body && <p>{n.body}</p>}
                <small>{formatDate(n.createdAt)}</small>
              </div>
              <div className="actions">
                {n.link && (
                  <Link to={n.link} onClick={() => !n.read && read([n.id])}>
                    Open
                  </Link>
                )}
                {!n.read && (
                  <Button variant="ghost" onClick={() => read([n.id])}>
                    Mark read
                  </Button>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
      <div className="pager">
        {after && <Button onClick={() => setAfter(null)}>First page</Button>}
        {conn?.pageInfo.hasNextPage && <Button onClick={() => setAfter(conn.pageInfo.endCursor ?? null)}>Older</Button>}
      </div>
    </section>
  );
}
