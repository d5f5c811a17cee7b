import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { useDocumentTitle } from '../../app/theme';

export function AuthLayout({ title, children, footer }: { title: string; children: ReactNode; footer?: ReactNode }) {
  useDocumentTitle(title);
  return (
    <div className="auth-page">
      <main className="auth-card" id="main">
        <Link to="/" className="brand" aria-label="Zygo home">
          <span className="brand-mark" aria-hidden="true">Z</span> Zygo
        </Link>
        <h1>{title}</h1>
        {children}
        {footer && <div className="auth-footer">{footer}</div>}
      </main>
    </div>
  );
}
