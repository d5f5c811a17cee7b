import { Outlet } from 'react-router';
export default function Shell() {
  return (
    <div>
      <Outlet />
    </div>
  );
}
