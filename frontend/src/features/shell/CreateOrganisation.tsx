import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { useMutation } from 'urql';
import { CreateTenantDocument, SetActiveTenantDocument } from '../../gql/graphql';
import { fieldErrors } from '../../app/client';
import { useViewer } from '../../app/viewer';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, Field, PageHeader } from '../../ui';

export function slugify(name: string) {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
}

export default function CreateOrganisation() {
  useDocumentTitle('New organisation');
  const navigate = useNavigate();
  const { viewer, tenants, refresh } = useViewer();
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [slugTouched, setSlugTouched] = useState(false);
  const [res, create] = useMutation(CreateTenantDocument);
  const [, setActive] = useMutation(SetActiveTenantDocument);
  const errs = fieldErrors(res.error);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await create({ input: { name, slug } });
    const t = r.data?.createTenant.tenant;
    if (t) {
      await refresh();
      void setActive({ tenantId: t.id });
      navigate(`/o/${t.slug}`);
    }
  }

  return (
    <section className="page narrow">
      <PageHeader title={tenants.length ? 'New organisation' : 'Create your first organisation'} />
      <p>An organisation holds your members, roles and workflows. You will be its owner.</p>
      {viewer && !viewer.emailVerified && (
        <Alert kind="warning">Confirm your e-mail address first: creating an organisation needs a verified address.</Alert>
      )}
      <form onSubmit={submit} noValidate className="card">
        <Field
          label="Name"
          name="name"
          required
          maxLength={100}
          value={name}
          onChange={(e) => {
            setName(e.target.value);
            if (!slugTouched) setSlug(slugify(e.target.value));
          }}
          error={errs.name}
        />
        <Field
          label="URL name"
          name="slug"
          required
          hint="3–40 characters: a–z, 0–9 and '-'."
          value={slug}
          onChange={(e) => {
            setSlugTouched(true);
            setSlug(e.target.value);
          }}
          error={errs.slug}
        />
        <Alert>{errs['']}</Alert>
        <Button type="submit" busy={res.fetching} busyLabel="Creating…">
          Create organisation
        </Button>
      </form>
    </section>
  );
}
