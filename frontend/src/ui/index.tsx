// Small building blocks shared by the pages: labelled fields with their error, buttons that
// show progress, alerts, loading and empty states.
import {
  useId,
  useState,
  useEffect,
  type ButtonHTMLAttributes,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from 'react';

interface FieldBase {
  label: ReactNode;
  /** Error shown under the field (and announced). */
  error?: string;
  hint?: ReactNode;
}

export function Field({ label, error, hint, id, className, ...input }: FieldBase & InputHTMLAttributes<HTMLInputElement>) {
  const auto = useId();
  const fid = id ?? auto;
  return (
    <div className={`field${error ? ' has-error' : ''}${className ? ` ${className}` : ''}`}>
      <label htmlFor={fid}>{label}</label>
      <input
        id={fid}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${fid}-err` : hint ? `${fid}-hint` : undefined}
        {...input}
      />
      {hint && !error && (
        <small id={`${fid}-hint`} className="hint">
          {hint}
        </small>
      )}
      {error && (
        <small id={`${fid}-err`} className="field-error" role="alert">
          {error}
        </small>
      )}
    </div>
  );
}

export function SelectField({
  label,
  error,
  hint,
  id,
  children,
  className,
  ...select
}: FieldBase & SelectHTMLAttributes<HTMLSelectElement>) {
  const auto = useId();
  const fid = id ?? auto;
  return (
    <div className={`field${error ? ' has-error' : ''}${className ? ` ${className}` : ''}`}>
      <label htmlFor={fid}>{label}</label>
      <select id={fid} aria-invalid={error ? true : undefined} aria-describedby={error ? `${fid}-err` : undefined} {...select}>
        {children}
      </select>
      {hint && !error && <small className="hint">{hint}</small>}
      {error && (
        <small id={`${fid}-err`} className="field-error" role="alert">
          {error}
        </small>
      )}
    </div>
  );
}

export function TextAreaField({ label, error, hint, id, ...ta }: FieldBase & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const auto = useId();
  const fid = id ?? auto;
  return (
    <div className={`field${error ? ' has-error' : ''}`}>
      <label htmlFor={fid}>{label}</label>
      <textarea id={fid} aria-invalid={error ? true : undefined} aria-describedby={error ? `${fid}-err` : undefined} {...ta} />
      {hint && !error && <small className="hint">{hint}</small>}
      {error && (
        <small id={`${fid}-err`} className="field-error" role="alert">
          {error}
        </small>
      )}
    </div>
  );
}

type Variant = 'primary' | 'secondary' | 'danger' | 'ghost';

export function Button({
  busy,
  busyLabel,
  variant = 'primary',
  className,
  children,
  disabled,
  type = 'button',
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & { busy?: boolean; busyLabel?: string; variant?: Variant }) {
  return (
    <button
      type={type}
      className={`btn btn-${variant}${className ? ` ${className}` : ''}`}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
      {...rest}
    >
      {busy && <span className="spinner" aria-hidden="true" />}
      {busy && busyLabel ? busyLabel : children}
    </button>
  );
}

/** A destructive button that asks once more before acting. */
export function ConfirmButton({
  onConfirm,
  children,
  confirmLabel = 'Confirm',
  busy,
  variant = 'danger',
  disabled,
  title,
}: {
  onConfirm: () => void;
  children: ReactNode;
  confirmLabel?: string;
  busy?: boolean;
  variant?: Variant;
  disabled?: boolean;
  title?: string;
}) {
  const [asking, setAsking] = useState(false);
  useEffect(() => {
    if (!asking) return;
    const t = setTimeout(() => setAsking(false), 5000);
    return () => clearTimeout(t);
  }, [asking]);
  if (!asking)
    return (
      <Button variant={variant === 'danger' ? 'secondary' : variant} onClick={() => setAsking(true)} busy={busy} disabled={disabled} title={title}>
        {children}
      </Button>
    );
  return (
    <span className="confirm">
      <Button
        variant={variant}
        autoFocus
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirmLabel}
      </Button>
      <Button variant="ghost" onClick={() => setAsking(false)}>
        Cancel
      </Button>
    </span>
  );
}

export function Alert({ kind = 'error', children }: { kind?: 'error' | 'success' | 'info' | 'warning'; children: ReactNode }) {
  if (!children) return null;
  return (
    <div className={`alert alert-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function PageHeader({ title, children }: { title: ReactNode; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      {children && <div className="page-actions">{children}</div>}
    </header>
  );
}

/** Formats an ISO date for people. */
export function formatDate(iso: string | null | undefined, withTime = true): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return withTime ? d.toLocaleString() : d.toLocaleDateString();
}

/** Copies text to the clipboard, with a fallback for browsers that refuse. */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <Button
      variant="secondary"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
        } catch {
          const ta = document.createElement('textarea');
          ta.value = text;
          document.body.appendChild(ta);
          ta.select();
          document.execCommand('copy');
          ta.remove();
        }
        setDone(true);
        setTimeout(() => setDone(false), 2000);
      }}
    >
      {done ? 'Copied' : label}
    </Button>
  );
}

/** The browser's time zones, as a datalist (`list="time-zones"`) for time-zone fields. */
export function TimeZoneList() {
  const zones: string[] =
    typeof Intl !== 'undefined' && 'supportedValuesOf' in Intl
      ? (Intl as unknown as { supportedValuesOf: (k: string) => string[] }).supportedValuesOf('timeZone')
      : [];
  return (
    <datalist id="time-zones">
      {zones.map((z) => (
        <option key={z} value={z} />
      ))}
    </datalist>
  );
}

export { useDebounced } from './hooks';
