// The permission-matrix editor: the catalog grouped by resource (rows) × action (columns), one
// checkbox per permission. Inherited permissions show as checked and locked; built-in roles are
// read-only; permissions the editor does not hold cannot be granted.
import { useId } from 'react';

export interface PermissionInfoLike {
  permission: string;
  key: string;
  area: string;
  description: string;
}

const AREA_LABELS: Record<string, string> = {
  tenant: 'Organisation',
  members: 'Members',
  roles: 'Roles',
  audit: 'Audit log',
  api_keys: 'API keys',
  teams: 'Teams',
  workflow: 'Workflows',
  secret: 'Secrets',
};

export function areaLabel(area: string): string {
  return AREA_LABELS[area] ?? area.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/** The action part of a key: `members.manage` → `manage`. */
export function actionOf(key: string): string {
  return key.slice(key.lastIndexOf('.') + 1);
}

/** Groups the catalog into areas (in catalog order) and the actions used by any area. */
export function groupPermissions(permissions: PermissionInfoLike[]) {
  const areas: { area: string; items: Map<string, PermissionInfoLike> }[] = [];
  const actions: string[] = [];
  for (const p of permissions) {
    let group = areas.find((a) => a.area === p.area);
    if (!group) {
      group = { area: p.area, items: new Map() };
      areas.push(group);
    }
    const action = actionOf(p.key);
    group.items.set(action, p);
    if (!actions.includes(action)) actions.push(action);
  }
  return { areas, actions };
}

export interface PermissionMatrixProps {
  permissions: PermissionInfoLike[];
  /** Permissions granted directly (enum values, e.g. `MEMBERS_MANAGE`). */
  value: string[];
  onChange?: (next: string[]) => void;
  /** Held through a parent role: shown checked, cannot be unticked here. */
  inherited?: string[];
  /** Nothing can change (built-in roles, or a viewer without `roles.manage`). */
  readOnly?: boolean;
  /** What the editor may grant (their own permissions); others are locked. Default: anything. */
  grantable?: string[];
  caption?: string;
}

export function PermissionMatrix({
  permissions,
  value,
  onChange,
  inherited = [],
  readOnly = false,
  grantable,
  caption = 'Permissions',
}: PermissionMatrixProps) {
  const { areas, actions } = groupPermissions(permissions);
  const uid = useId();
  const selected = new Set(value);
  const inheritedSet = new Set(inherited);

  const lockedReason = (p: PermissionInfoLike): string | null => {
    if (readOnly) return 'read-only';
    if (inheritedSet.has(p.permission) && !selected.has(p.permission)) return 'inherited from the parent role';
    if (grantable && !grantable.includes(p.permission) && !selected.has(p.permission)) return 'you do not hold this permission';
    return null;
  };

  const toggle = (perm: string, on: boolean) => {
    if (!onChange) return;
    const next = new Set(selected);
    if (on) next.add(perm);
    else next.delete(perm);
    // Keep catalog order, so the value is stable.
    onChange(permissions.map((p) => p.permission).filter((p) => next.has(p)));
  };

  const toggleArea = (items: PermissionInfoLike[], on: boolean) => {
    if (!onChange) return;
    const next = new Set(selected);
    for (const p of items) {
      if (lockedReason(p)) continue;
      if (on) next.add(p.permission);
      else next.delete(p.permission);
    }
    onChange(permissions.map((p) => p.permission).filter((p) => next.has(p)));
  };

  return (
    <div className="matrix-wrap">
      <table className={`matrix${readOnly ? ' read-only' : ''}`} aria-describedby={readOnly ? `${uid}-ro` : undefined}>
        <caption>
          {caption}
          {readOnly && (
            <span id={`${uid}-ro`} className="badge">
              read-only
            </span>
          )}
        </caption>
        <thead>
          <tr>
            <th scope="col">Resource</th>
            {actions.map((a) => (
              <th scope="col" key={a}>
                {a}
              </th>
            ))}
            {!readOnly && (
              <th scope="col">
                <span className="sr-only">Whole row</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {areas.map(({ area, items }) => {
            const list = [...items.values()];
            const editable = list.filter((p) => !lockedReason(p));
            const allOn = editable.length > 0 && editable.every((p) => selected.has(p.permission));
            return (
              <tr key={area} data-area={area}>
                <th scope="row">{areaLabel(area)}</th>
                {actions.map((action) => {
                  const p = items.get(action);
                  if (!p) return <td key={action} className="na" aria-hidden="true" />;
                  const isInherited = inheritedSet.has(p.permission);
                  const checked = selected.has(p.permission) || isInherited;
                  const locked = lockedReason(p);
                  return (
                    <td key={action} className={isInherited && !selected.has(p.permission) ? 'inherited' : undefined}>
                      <input
                        type="checkbox"
                        aria-label={`${areaLabel(area)}: ${action}`}
                        title={`${p.key} — ${p.description}${locked ? ` (${locked})` : ''}`}
                        data-permission={p.permission}
                        checked={checked}
                        disabled={!!locked}
                        onChange={(e) => toggle(p.permission, e.target.checked)}
                      />
                    </td>
                  );
                })}
                {!readOnly && (
                  <td>
                    <button
                      type="button"
                      className="btn btn-ghost btn-small"
                      disabled={editable.length === 0}
                      onClick={() => toggleArea(list, !allOn)}
                      aria-label={`${allOn ? 'Clear' : 'Grant'} all ${areaLabel(area)} permissions`}
                    >
                      {allOn ? 'Clear' : 'All'}
                    </button>
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      {inherited.length > 0 && !readOnly && (
        <p className="hint">Shaded, ticked and locked: held through the parent role.</p>
      )}
      <details className="matrix-legend">
        <summary>What each permission allows</summary>
        <ul>
          {permissions.map((p) => (
            <li key={p.permission}>
              <code>{p.key}</code> {p.description}
            </li>
          ))}
        </ul>
      </details>
    </div>
  );
}
