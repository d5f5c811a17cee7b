import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { PermissionMatrix, groupPermissions, type PermissionInfoLike } from './PermissionMatrix';

const catalog: PermissionInfoLike[] = [
  { permission: 'TENANT_READ', key: 'tenant.read', area: 'tenant', description: 'See the organisation' },
  { permission: 'TENANT_UPDATE', key: 'tenant.update', area: 'tenant', description: 'Change the organisation' },
  { permission: 'MEMBERS_READ', key: 'members.read', area: 'members', description: 'See members' },
  { permission: 'MEMBERS_MANAGE', key: 'members.manage', area: 'members', description: 'Manage members' },
  { permission: 'AUDIT_READ', key: 'audit.read', area: 'audit', description: 'Read the audit log' },
  { permission: 'WORKFLOW_READ', key: 'workflow.read', area: 'workflow', description: 'See workflows' },
  { permission: 'WORKFLOW_EDIT', key: 'workflow.edit', area: 'workflow', description: 'Edit workflows' },
  { permission: 'WORKFLOW_EXECUTE', key: 'workflow.execute', area: 'workflow', description: 'Run workflows' },
];

function Controlled(props: { initial?: string[]; inherited?: string[]; grantable?: string[]; onChange?: (v: string[]) => void }) {
  const [value, setValue] = useState<string[]>(props.initial ?? []);
  return (
    <PermissionMatrix
      permissions={catalog}
      value={value}
      inherited={props.inherited}
      grantable={props.grantable}
      onChange={(v) => {
        setValue(v);
        props.onChange?.(v);
      }}
    />
  );
}

describe('groupPermissions', () => {
  it('groups the catalog by area (rows) and action (columns), in catalog order', () => {
    const { areas, actions } = groupPermissions(catalog);
    expect(areas.map((a) => a.area)).toEqual(['tenant', 'members', 'audit', 'workflow']);
    expect(actions).toEqual(['read', 'update', 'manage', 'edit', 'execute']);
    expect([...areas[3].items.keys()]).toEqual(['read', 'edit', 'execute']);
  });
});

describe('PermissionMatrix', () => {
  it('renders one row per resource and one column per action', () => {
    render(<PermissionMatrix permissions={catalog} value={[]} onChange={() => {}} />);
    const table = screen.getByRole('table');
    const headers = within(table).getAllByRole('columnheader').map((h) => h.textContent);
    expect(headers).toEqual(expect.arrayContaining(['Resource', 'read', 'update', 'manage', 'edit', 'execute']));
    const rowHeaders = within(table).getAllByRole('rowheader').map((h) => h.textContent);
    expect(rowHeaders).toEqual(['Organisation', 'Members', 'Audit log', 'Workflows']);
    // A cell only where the catalog has that permission.
    const workflows = within(table).getByRole('row', { name: /Workflows/ });
    expect(within(workflows).getAllByRole('checkbox')).toHaveLength(3);
    const audit = within(table).getByRole('row', { name: /Audit log/ });
    expect(within(audit).getAllByRole('checkbox')).toHaveLength(1);
    expect(screen.getAllByRole('checkbox')).toHaveLength(catalog.length);
  });

  it('toggles permissions on and off, keeping catalog order', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    render(<Controlled onChange={onChange} />);
    await user.click(screen.getByRole('checkbox', { name: 'Workflows: execute' }));
    await user.click(screen.getByRole('checkbox', { name: 'Members: read' }));
    expect(onChange).toHaveBeenLastCalledWith(['MEMBERS_READ', 'WORKFLOW_EXECUTE']);
    expect(screen.getByRole('checkbox', { name: 'Workflows: execute' })).toBeChecked();

    await user.click(screen.getByRole('checkbox', { name: 'Workflows: execute' }));
    expect(onChange).toHaveBeenLastCalledWith(['MEMBERS_READ']);
    expect(screen.getByRole('checkbox', { name: 'Workflows: execute' })).not.toBeChecked();
  });

  it('toggles a whole resource row', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    render(<Controlled onChange={onChange} />);
    await user.click(screen.getByRole('button', { name: 'Grant all Workflows permissions' }));
    expect(onChange).toHaveBeenLastCalledWith(['WORKFLOW_READ', 'WORKFLOW_EDIT', 'WORKFLOW_EXECUTE']);
    await user.click(screen.getByRole('button', { name: 'Clear all Workflows permissions' }));
    expect(onChange).toHaveBeenLastCalledWith([]);
  });

  it('is read-only for built-in roles: everything checked as granted, nothing editable', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    render(<PermissionMatrix permissions={catalog} value={['TENANT_READ', 'MEMBERS_READ', 'WORKFLOW_READ']} readOnly onChange={onChange} />);
    expect(screen.getByText('read-only')).toBeInTheDocument();
    const boxes = screen.getAllByRole('checkbox');
    boxes.forEach((b) => expect(b).toBeDisabled());
    expect(screen.getByRole('checkbox', { name: 'Members: read' })).toBeChecked();
    expect(screen.getByRole('checkbox', { name: 'Members: manage' })).not.toBeChecked();
    expect(screen.queryByRole('button', { name: /Grant all/ })).not.toBeInTheDocument();
    await user.click(screen.getByRole('checkbox', { name: 'Members: manage' }));
    expect(onChange).not.toHaveBeenCalled();
  });

  it('shows inherited permissions checked and locked', () => {
    render(<Controlled inherited={['TENANT_READ', 'MEMBERS_READ']} />);
    const inherited = screen.getByRole('checkbox', { name: 'Members: read' });
    expect(inherited).toBeChecked();
    expect(inherited).toBeDisabled();
    expect(screen.getByRole('checkbox', { name: 'Members: manage' })).toBeEnabled();
  });

  it('locks permissions the editor does not hold', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    render(<Controlled grantable={['TENANT_READ', 'WORKFLOW_READ']} onChange={onChange} />);
    expect(screen.getByRole('checkbox', { name: 'Members: manage' })).toBeDisabled();
    await user.click(screen.getByRole('button', { name: 'Grant all Workflows permissions' }));
    expect(onChange).toHaveBeenLastCalledWith(['WORKFLOW_READ']);
  });
});
