import { useEffect, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { useMutation, useQuery } from 'urql';
import {
  CancelTenantDeletionDocument,
  DeleteTenantDocument,
  RequestDataExportDocument,
  ReactivateTenantDocument,
  SuspendTenantDocument,
  TenantSettingsDocument,
  UpdateTenantDocument,
  UpdateTenantSettingsDocument,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { useViewer } from '../../app/viewer';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, Field, Loading, PageHeader, TextAreaField, TimeZoneList } from '../../ui';

type Settings = NonNullable<ReturnType<typeof useSettings>['settings']>;

function useSettings(id: string) {
  const [res, reexecute] = useQuery({ query: TenantSettingsDocument, variables: { id } });
  return { settings: res.data?.tenant ?? null, fetching: res.fetching, error: res.error, reexecute };
}

export default function GeneralSettings() {
  const tenant = useTenant();
  useDocumentTitle(`Settings · ${tenant.name}`);
  const { settings, fetching, error } = useSettings(tenant.id);
  const canEdit = tenant.can('tenant.update');
  return (
    <section className="page">
      <PageHeader title="Organisation settings" />
      {!canEdit && <Alert kind="info">You can see these settings but not change them.</Alert>}
      {error && !settings && <Alert>{errorMessage(error)}</Alert>}
      {!settings ? (
        fetching && <Loading label="Loading settings…" />
      ) : (
        <>
          <GeneralForm settings={settings} disabled={!canEdit} />
          <BrandingForm settings={settings} disabled={!canEdit} />
          <RetentionForm settings={settings} disabled={!canEdit} />
          {tenant.can('tenant.delete') && <OrganisationExport />}
          {tenant.can('tenant.delete') && <DangerZone status={settings.status} deletionDueAt={settings.deletionDueAt ?? null} />}
        </>
      )}
    </section>
  );
}

function GeneralForm({ settings, disabled }: { settings: Settings; disabled: boolean }) {
  const tenant = useTenant();
  const navigate = useNavigate();
  const g = settings.settings.general;
  const [form, setForm] = useState({
    name: settings.name,
    slug: settings.slug,
    description: g.description ?? '',
    website: g.website ?? '',
    defaultLocale: g.defaultLocale ?? '',
    defaultTimeZone: g.defaultTimeZone ?? '',
  });
  const [tenantRes, updateTenant] = useMutation(UpdateTenantDocument);
  const [settingsRes, updateSettings] = useMutation(UpdateTenantSettingsDocument);
  const [saved, setSaved] = useState(false);
  const { refresh } = useViewer();
  const errs = { ...fieldErrors(settingsRes.error), ...fieldErrors(tenantRes.error) };
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => {
    setSaved(false);
    setForm({ ...form, [k]: e.target.value });
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    if (form.name !== settings.name || form.slug !== settings.slug) {
      const r = await updateTenant({
        input: {
          id: settings.id,
          ...(form.name !== settings.name ? { name: form.name } : {}),
          ...(form.slug !== settings.slug ? { slug: form.slug } : {}),
        },
      });
      if (r.error) return;
      void refresh();
    }
    const changed =
      form.description !== (g.description ?? '') ||
      form.website !== (g.website ?? '') ||
      form.defaultLocale !== (g.defaultLocale ?? '') ||
      form.defaultTimeZone !== (g.defaultTimeZone ?? '');
    if (changed) {
      const r = await updateSettings({
        input: {
          tenantId: settings.id,
          general: {
            description: form.description || null,
            website: form.website || null,
            defaultLocale: form.defaultLocale || null,
            defaultTimeZone: form.defaultTimeZone || null,
          },
        },
      });
      if (r.error) return;
    }
    setSaved(true);
    if (form.slug !== tenant.slug) navigate(`/o/${form.slug}/settings`, { replace: true });
  }

  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="general-title">
      <h2 id="general-title">General</h2>
      <fieldset disabled={disabled} className="plain">
        <div className="row">
          <Field label="Organisation name" value={form.name} onChange={set('name')} error={errs.name} required />
          <Field label="URL name" value={form.slug} onChange={set('slug')} error={errs.slug} hint="Changing it changes every link to this organisation." required />
        </div>
        <TextAreaField label="Description" rows={2} value={form.description} onChange={set('description')} error={errs.description} />
        <Field label="Website" type="url" placeholder="https://example.com" value={form.website} onChange={set('website')} error={errs.website} />
        <div className="row">
          <Field label="Default language" placeholder="en-GB" value={form.defaultLocale} onChange={set('defaultLocale')} error={errs.defaultLocale} />
          <Field
            label="Default time zone"
            placeholder="Europe/Berlin"
            list="time-zones"
            value={form.defaultTimeZone}
            onChange={set('defaultTimeZone')}
            error={errs.defaultTimeZone}
          />
        </div>
        <TimeZoneList />
        <Alert>{errs['']}</Alert>
        {saved && <Alert kind="success">Saved.</Alert>}
        <Button type="submit" busy={tenantRes.fetching || settingsRes.fetching} busyLabel="Saving…">
          Save general settings
        </Button>
      </fieldset>
    </form>
  );
}

function BrandingForm({ settings, disabled }: { settings: Settings; disabled: boolean }) {
  const b = settings.settings.branding;
  const [form, setForm] = useState({ logoUrl: b.logoUrl ?? '', primaryColor: b.primaryColor ?? '', accentColor: b.accentColor ?? '' });
  const [res, update] = useMutation(UpdateTenantSettingsDocument);
  const [saved, setSaved] = useState(false);
  const errs = fieldErrors(res.error);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => {
    setSaved(false);
    setForm({ ...form, [k]: e.target.value });
  };
  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await update({
      input: {
        tenantId: settings.id,
        branding: {
          logoUrl: form.logoUrl || null,
          primaryColor: form.primaryColor || null,
          accentColor: form.accentColor || null,
        },
      },
    });
    if (!r.error) setSaved(true);
  }
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="branding-title">
      <h2 id="branding-title">Branding</h2>
      <fieldset disabled={disabled} className="plain">
        <Field label="Logo URL" type="url" placeholder="https://example.com/logo.svg" value={form.logoUrl} onChange={set('logoUrl')} error={errs.logoUrl} />
        {form.logoUrl && /^https?:\/\//.test(form.logoUrl) && <img src={form.logoUrl} alt="Logo preview" className="logo-preview" />}
        <div className="row">
          <ColorField label="Primary colour" value={form.primaryColor} onChange={(v) => set('primaryColor')({ target: { value: v } })} error={errs.primaryColor} />
          <ColorField label="Accent colour" value={form.accentColor} onChange={(v) => set('accentColor')({ target: { value: v } })} error={errs.accentColor} />
        </div>
        <Alert>{errs['']}</Alert>
        {saved && <Alert kind="success">Saved.</Alert>}
        <Button type="submit" busy={res.fetching} busyLabel="Saving…">
          Save branding
        </Button>
      </fieldset>
    </form>
  );
}

function RetentionForm({ settings, disabled }: { settings: Settings; disabled: boolean }) {
  const r = settings.settings.retention;
  const [form, setForm] = useState({
    auditDays: String(r.auditDays),
    executionDays: String(r.executionDays),
    webhookDeliveryDays: String(r.webhookDeliveryDays),
  });
  const [res, update] = useMutation(UpdateTenantSettingsDocument);
  const [saved, setSaved] = useState(false);
  const errs = fieldErrors(res.error);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => {
    setSaved(false);
    setForm({ ...form, [k]: e.target.value });
  };
  const days = (v: string) => (v.trim() === '' ? null : Number(v));
  async function submit(e: FormEvent) {
    e.preventDefault();
    const result = await update({
      input: {
        tenantId: settings.id,
        retention: { auditDays: days(form.auditDays), executionDays: days(form.executionDays), webhookDeliveryDays: days(form.webhookDeliveryDays) },
      },
    });
    if (!result.error) setSaved(true);
  }
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="retention-title">
      <h2 id="retention-title">Data retention</h2>
      <p className="muted">Older entries are removed every hour. Leave a field empty for the platform's maximum.</p>
      <fieldset disabled={disabled} className="plain">
        <div className="row">
          <Field label="Audit log (days)" type="number" min={1} max={r.maxAuditDays} value={form.auditDays} onChange={set('auditDays')} error={errs.auditDays} hint={`At most ${r.maxAuditDays}.`} />
          <Field label="Workflow runs (days)" type="number" min={1} max={r.maxExecutionDays} value={form.executionDays} onChange={set('executionDays')} error={errs.executionDays} hint={`At most ${r.maxExecutionDays}.`} />
          <Field
            label="Webhook deliveries (days)"
            type="number"
            min={1}
            max={r.maxWebhookDeliveryDays}
            value={form.webhookDeliveryDays}
            onChange={set('webhookDeliveryDays')}
            error={errs.webhookDeliveryDays}
            hint={`At most ${r.maxWebhookDeliveryDays}.`}
          />
        </div>
        <Alert>{errs['']}</Alert>
        {saved && <Alert kind="success">Saved.</Alert>}
        <Button type="submit" busy={res.fetching} busyLabel="Saving…">
          Save retention
        </Button>
      </fieldset>
    </form>
  );
}

function ColorField({ label, value, onChange, error }: { label: string; value: string; onChange: (v: string) => void; error?: string }) {
  return (
    <div className="color-field">
      <Field label={label} placeholder="#4338CA" value={value} onChange={(e) => onChange(e.target.value)} error={error} />
      <input
        type="color"
        aria-label={`${label} picker`}
        value={/^#[0-9a-f]{6}$/i.test(value) ? value : '#000000'}
        onChange={(e) => onChange(e.target.value.toUpperCase())}
      />
    </div>
  );
}

// An owner's export of the whole organisation: prepared in the background, mailed as a link and
// listed under Settings → Privacy for seven days.
function OrganisationExport() {
  const tenant = useTenant();
  const [res, request] = useMutation(RequestDataExportDocument);
  return (
    <section className="card" aria-labelledby="org-export-title">
      <h2 id="org-export-title">Export the organisation's data</h2>
      <p className="muted">
        A ZIP of JSON files with everything the organisation owns and its members' names and addresses. We mail you a link when it is ready; it is also listed
        under Settings → Privacy for seven days.
      </p>
      {res.error && <Alert>{errorMessage(res.error)}</Alert>}
      {res.data && <Alert kind="success">The export is being prepared; we will mail you a link.</Alert>}
      <Button variant="secondary" busy={res.fetching} onClick={() => request({ input: { organisationId: tenant.id } })}>
        Export organisation data
      </Button>
    </section>
  );
}

function DangerZone({ status, deletionDueAt }: { status: string; deletionDueAt: string | null }) {
  const tenant = useTenant();
  const { refresh } = useViewer();
  const [confirm, setConfirm] = useState('');
  const [suspendRes, suspend] = useMutation(SuspendTenantDocument);
  const [reactivateRes, reactivate] = useMutation(ReactivateTenantDocument);
  const [deleteRes, del] = useMutation(DeleteTenantDocument);
  const [cancelRes, cancel] = useMutation(CancelTenantDeletionDocument);
  const error = suspendRes.error ?? reactivateRes.error ?? deleteRes.error ?? cancelRes.error;
  const ok = confirm === tenant.slug;
  useEffect(() => setConfirm(''), [status, deletionDueAt]);
  if (deletionDueAt) {
    return (
      <div className="danger-zone">
        <h2>Scheduled for deletion</h2>
        <p>
          This organisation is read-only. Its data will be removed on <strong>{new Date(deletionDueAt).toLocaleDateString()}</strong>. Until then an owner can take the
          deletion back. Type <code>{tenant.slug}</code> to confirm.
        </p>
        <Field label="Type the URL name to confirm" value={confirm} onChange={(e) => setConfirm(e.target.value)} autoComplete="off" />
        <div className="form-actions">
          <Button
            variant="secondary"
            disabled={!ok}
            busy={cancelRes.fetching}
            onClick={async () => {
              const r = await cancel({ id: tenant.id, confirmSlug: confirm });
              if (r.data) await refresh();
            }}
          >
            Cancel deletion
          </Button>
        </div>
        {error && <Alert>{errorMessage(error)}</Alert>}
      </div>
    );
  }
  return (
    <div className="danger-zone">
      <h2>Danger zone</h2>
      <p className="muted">
        Suspending keeps read access only. Deleting makes the organisation read-only at once and removes it with everything it owns after a grace period, during
        which an owner can take it back. Type <code>{tenant.slug}</code> to confirm.
      </p>
      <Field label="Type the URL name to confirm" value={confirm} onChange={(e) => setConfirm(e.target.value)} autoComplete="off" />
      <div className="form-actions">
        {status === 'active' ? (
          <Button variant="secondary" disabled={!ok} busy={suspendRes.fetching} onClick={() => suspend({ id: tenant.id, confirmSlug: confirm })}>
            Suspend organisation
          </Button>
        ) : (
          <Button variant="secondary" disabled={!ok} busy={reactivateRes.fetching} onClick={() => reactivate({ id: tenant.id, confirmSlug: confirm })}>
            Reactivate organisation
          </Button>
        )}
        <Button
          variant="danger"
          disabled={!ok}
          busy={deleteRes.fetching}
          onClick={async () => {
            const r = await del({ id: tenant.id, confirmSlug: confirm });
            if (r.data) await refresh();
          }}
        >
          Delete organisation
        </Button>
      </div>
      {error && <Alert>{errorMessage(error)}</Alert>}
    </div>
  );
}
