// Sub-navigation of the workflow area: workflows, templates, secrets, environment.
import { NavLink } from 'react-router';
import { useTenant } from '../../app/tenant';

export function WorkflowTabs() {
  const { slug } = useTenant();
  const base = `/o/${slug}`;
  const cls = ({ isActive }: { isActive: boolean }) => `wf-tab${isActive ? ' wf-tab-active' : ''}`;
  return (
    <nav className="wf-tabs" aria-label="Workflow area">
      <NavLink end to={`${base}/workflows`} className={cls}>
        Workflows
      </NavLink>
      <NavLink to={`${base}/workflows/templates`} className={cls}>
        Templates
      </NavLink>
      <NavLink to={`${base}/secrets`} className={cls}>
        Secrets
      </NavLink>
      <NavLink to={`${base}/environment`} className={cls}>
        Environment
      </NavLink>
    </nav>
  );
}
