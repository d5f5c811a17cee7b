// Which kinds of notification reach you where: in the app, by mail soon after, in the daily digest.
import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  NotificationSettingsDocument,
  UpdateNotificationSettingsDocument,
  type NotificationChannel,
  type NotificationKind,
} from '../../gql/graphql';
import { errorMessage } from '../../app/client';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Loading, PageHeader } from '../../ui';
import { SettingsNav } from '../account/SettingsNav';

const CHANNELS: [NotificationChannel, 'inApp' | 'email' | 'digest', string][] = [
  ['IN_APP', 'inApp', 'In the app'],
  ['EMAIL', 'email', 'E-mail'],
  ['DIGEST', 'digest', 'Daily digest'],
];

export default function NotificationSettings() {
  useDocumentTitle('Notification settings');
  const [res] = useQuery({ query: NotificationSettingsDocument, variables: {} });
  const [upd, update] = useMutation(UpdateNotificationSettingsDocument);
  const rows = upd.data?.updateNotificationSettings.settings ?? res.data?.viewer?.notificationSettings;
  // A click shows at once; a refused save puts the box back.
  const [pending, setPending] = useState<Record<string, boolean>>({});

  async function toggle(kind: NotificationKind, channel: NotificationChannel, enabled: boolean) {
    const key = `${kind}:${channel}`;
    setPending((p) => ({ ...p, [key]: enabled }));
    await update({ input: { settings: [{ kind, channel, enabled }] } });
    setPending(({ [key]: _, ...rest }) => rest);
  }

  return (
    <section className="page narrow">
      <PageHeader title="Settings" />
      <SettingsNav />
      <h2>Notifications</h2>
      {res.error && <Alert>{errorMessage(res.error)}</Alert>}
      {upd.error && <Alert>{errorMessage(upd.error)}</Alert>}
      {!rows && <Loading />}
      {rows && (
        <table className="table" aria-label="Notification settings">
          <thead>
            <tr>
              <th scope="col">Notification</th>
              {CHANNELS.map(([c, , label]) => (
                <th scope="col" key={c}>
                  {label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.kind}>
                <th scope="row">{r.description}</th>
                {CHANNELS.map(([c, field, label]) => (
                  <td key={c}>
                    <input
                      type="checkbox"
                      aria-label={`${r.description}: ${label}`}
                      checked={pending[`${r.kind}:${c}`] ?? r[field]}
                      onChange={(e) => toggle(r.kind, c, e.target.checked)}
                    />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
