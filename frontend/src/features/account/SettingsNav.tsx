import { NavLink } from 'react-router';

export function SettingsNav() {
  return (
    <nav className="tabs" aria-label="Settings">
      <NavLink to="/settings/profile">Profile</NavLink>
      <NavLink to="/settings/security">Security</NavLink>
      <NavLink to="/settings/preferences">Preferences</NavLink>
      <NavLink to="/settings/notifications">Notifications</NavLink>
      <NavLink to="/settings/privacy">Privacy</NavLink>
    </nav>
  );
}
