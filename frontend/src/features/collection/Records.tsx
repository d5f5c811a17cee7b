// A folder's records: filters (words with suggestions from the caller's history, platform,
// author, hashtag, likes, posting dates), sort, highlighted matches, the project's saved
// searches (save the current one, apply, delete), export buttons and CSV import (RecordsIo).
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  CopyCollectedRecordsDocument,
  CreateSavedSearchDocument,
  DeleteSavedSearchDocument,
  FolderRecordsDocument,
  MoveCollectedRecordsDocument,
  SavedSearchesDocument,
  type RecordFilterInput,
  type RecordSortField,
  type RecordSortInput,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useDebounced } from '../../ui';
import { Alert, Button, Field, formatDate, SelectField } from '../../ui';
import { useJobEvents } from './Jobs';
import { ExportButtons, ImportCsv } from './RecordsIo';

type Metric = 'likes' | 'comments' | 'shares' | 'views';
/** The engagement columns of each service type. */
const COLUMNS: Record<string, [Metric, string][]> = {
  posts: [['likes', 'Likes'], ['comments', 'Comments'], ['shares', 'Shares']],
  reels: [['likes', 'Likes'], ['comments', 'Comments'], ['views', 'Views']],
  comments: [['likes', 'Likes']],
  profiles: [['views', 'Followers']],
};

const SORTS: [RecordSortField, string][] = [
  ['COLLECTED', 'Collection order'],
  ['POSTED_AT', 'Posted'],
  ['LIKES', 'Likes'],
  ['COMMENTS', 'Comments'],
  ['VIEWS', 'Views'],
  ['RELEVANCE', 'Best match'],
];

type Form = {
  search: string;
  platform: string;
  serviceType: string;
  author: string;
  hashtag: string;
  url: string;
  minLikes: string;
  maxLikes: string;
  minComments: string;
  minViews: string;
  postedFrom: string;
  postedTo: string;
};
const EMPTY: Form = {
  search: '',
  platform: '',
  serviceType: '',
  author: '',
  hashtag: '',
  url: '',
  minLikes: '',
  maxLikes: '',
  minComments: '',
  minViews: '',
  postedFrom: '',
  postedTo: '',
};
const NUMBERS = ['minLikes', 'maxLikes', 'minComments', 'minViews'] as const;

/** The API's filter from the form (empty fields left out; dates as whole days). */
export function toFilter(f: Form): RecordFilterInput | null {
  const out: RecordFilterInput = {};
  if (f.search.trim()) out.search = f.search.trim();
  if (f.platform.trim()) out.platform = f.platform.trim().toLowerCase();
  if (f.author.trim()) out.author = f.author.trim();
  if (f.serviceType) out.serviceType = f.serviceType;
  if (f.hashtag.trim()) out.hashtag = f.hashtag.trim().replace(/^#/, '');
  if (f.url.trim()) out.url = f.url.trim();
  for (const k of NUMBERS) if (f[k].trim()) out[k] = Number(f[k]);
  if (f.postedFrom) out.postedFrom = new Date(`${f.postedFrom}T00:00:00Z`).toISOString();
  if (f.postedTo) out.postedTo = new Date(`${f.postedTo}T23:59:59Z`).toISOString();
  return Object.keys(out).length ? out : null;
}

/** The form showing a saved filter. */
function toForm(f: RecordFilterInput | null | undefined): Form {
  return {
    search: f?.search ?? '',
    platform: f?.platform ?? '',
    author: f?.author ?? '',
    serviceType: f?.serviceType ?? '',
    hashtag: f?.hashtag ?? '',
    url: f?.url ?? '',
    minLikes: f?.minLikes != null ? String(f.minLikes) : '',
    maxLikes: f?.maxLikes != null ? String(f.maxLikes) : '',
    minComments: f?.minComments != null ? String(f.minComments) : '',
    minViews: f?.minViews != null ? String(f.minViews) : '',
    postedFrom: f?.postedFrom ? f.postedFrom.slice(0, 10) : '',
    postedTo: f?.postedTo ? f.postedTo.slice(0, 10) : '',
  };
}

export function Records({
  projectId,
  folderId,
  folders,
  canEdit,
}: {
  projectId: string;
  folderId: string;
  folders: { id: string; name: string }[];
  canEdit: boolean;
}) {
  const [form, setForm] = useState<Form>(EMPTY);
  const [sortField, setSortField] = useState<RecordSortField>('COLLECTED');
  const [descending, setDescending] = useState(false);
  const [applied, setApplied] = useState<{ filter: RecordFilterInput | null; sort: RecordSortInput | null }>({ filter: null, sort: null });
  const [res, reexecute] = useQuery({
    query: FolderRecordsDocument,
    variables: { id: folderId, first: 50, filter: applied.filter, sort: applied.sort },
    requestPolicy: 'cache-and-network',
  });
  const prefix = useDebounced(form.search, 250);
  const [saved, reloadSaved] = useQuery({ query: SavedSearchesDocument, variables: { projectId, prefix: prefix || null } });
  const suggestions = saved.data?.project.searchSuggestions ?? [];
  const folder = res.data?.collectionFolder;
  const reload = () => reexecute({ requestPolicy: 'network-only' });
  // Live rows: a job of the project ingesting reads the page again.
  useJobEvents(projectId, reload);
  const [selected, setSelected] = useState<string[]>([]);
  const kind = folder?.records.edges[0]?.node.serviceType ?? 'posts';
  const columns = COLUMNS[kind] ?? COLUMNS.posts;
  const set = (k: keyof Form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  function apply(ev?: FormEvent) {
    ev?.preventDefault();
    const sort = sortField === 'COLLECTED' && !descending ? null : { field: sortField, direction: descending ? ('DESC' as const) : ('ASC' as const) };
    setApplied({ filter: toFilter(form), sort });
  }
  return (
    <section aria-label="Records">
      <form className="filters" onSubmit={apply} aria-label="Record filters">
        <Field label="Search records" value={form.search} onChange={set('search')} list="search-suggestions" />
        <datalist id="search-suggestions">
          {suggestions.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
        <Field label="Platform" value={form.platform} onChange={set('platform')} />
        <SelectField label="Service" value={form.serviceType} onChange={set('serviceType')}>
          <option value="">Any</option>
          {Object.keys(COLUMNS).map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </SelectField>
        <Field label="Author" value={form.author} onChange={set('author')} />
        <Field label="Hashtag" value={form.hashtag} onChange={set('hashtag')} />
        <Field label="URL contains" value={form.url} onChange={set('url')} />
        <Field label="At least likes" type="number" min={0} value={form.minLikes} onChange={set('minLikes')} />
        <Field label="At most likes" type="number" min={0} value={form.maxLikes} onChange={set('maxLikes')} />
        <Field label="At least comments" type="number" min={0} value={form.minComments} onChange={set('minComments')} />
        <Field label="At least views" type="number" min={0} value={form.minViews} onChange={set('minViews')} />
        <Field label="Posted from" type="date" value={form.postedFrom} onChange={set('postedFrom')} />
        <Field label="Posted to" type="date" value={form.postedTo} onChange={set('postedTo')} />
        <SelectField label="Sort by" value={sortField} onChange={(e) => setSortField(e.target.value as RecordSortField)}>
          {SORTS.map(([v, label]) => (
            <option key={v} value={v}>
              {label}
            </option>
          ))}
        </SelectField>
        <label>
          <input type="checkbox" checked={descending} onChange={(e) => setDescending(e.target.checked)} /> Highest first
        </label>
        <Button type="submit" variant="secondary">
          Search
        </Button>
      </form>
      <SavedSearches
        projectId={projectId}
        folderId={folderId}
        current={applied}
        list={saved.data?.project.savedSearches ?? []}
        onChanged={() => reloadSaved({ requestPolicy: 'network-only' })}
        onApply={(filter, sort) => {
          setForm(toForm(filter));
          setSortField(sort?.field ?? 'COLLECTED');
          setDescending(sort?.direction === 'DESC');
          setApplied({ filter, sort });
        }}
      />
      <ExportButtons folderId={folderId} filter={applied.filter} />
      {canEdit && <ImportCsv folderId={folderId} onImported={reload} />}
      {canEdit && selected.length > 0 && (
        <CopyOrMove
          ids={selected}
          folders={folders.filter((f) => f.id !== folderId)}
          onDone={() => {
            setSelected([]);
            reload();
          }}
        />
      )}
      {res.error && <Alert>{errorMessage(res.error)}</Alert>}
      {folder && (
        <>
          <p className="muted">
            {folder.records.totalCount} of {folder.recordCount} records in {folder.name}
          </p>
          <table aria-label="Collected records">
            <thead>
              <tr>
                {canEdit && <th aria-label="Selected" />}
                <th>Author</th>
                <th>Text</th>
                <th>Posted</th>
                {columns.map(([k, label]) => (
                  <th key={k}>{label}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {folder.records.edges.map(({ node: r, snippet }) => (
                <tr key={r.id}>
                  {canEdit && (
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Select ${r.author}: ${r.text.slice(0, 40)}`}
                        checked={selected.includes(r.id)}
                        onChange={(e) => setSelected(e.target.checked ? [...selected, r.id] : selected.filter((x) => x !== r.id))}
                      />
                    </td>
                  )}
                  <td>{r.author}</td>
                  <td>
                    <a href={r.url} target="_blank" rel="noreferrer">
                      {snippet ? snippet.map((p, i) => (p.highlighted ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>)) : r.text}
                    </a>
                  </td>
                  <td>{formatDate(r.postedAt, false)}</td>
                  {columns.map(([k]) => (
                    <td key={k}>{r[k]}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

type Saved = { id: string; name: string; folderId?: string | null; filter?: RecordFilterInput | null; sort?: RecordSortInput | null };

function SavedSearches({
  projectId,
  folderId,
  current,
  list,
  onChanged,
  onApply,
}: {
  projectId: string;
  folderId: string;
  current: { filter: RecordFilterInput | null; sort: RecordSortInput | null };
  list: Saved[];
  onChanged: () => void;
  onApply: (filter: RecordFilterInput | null, sort: RecordSortInput | null) => void;
}) {
  const [name, setName] = useState('');
  const [createRes, create] = useMutation(CreateSavedSearchDocument);
  const [, remove] = useMutation(DeleteSavedSearchDocument);
  const errs = fieldErrors(createRes.error);
  async function save(ev: FormEvent) {
    ev.preventDefault();
    const r = await create({ input: { projectId, folderId, name, filter: current.filter, sort: current.sort } });
    if (r.data) {
      setName('');
      onChanged();
    }
  }
  const here = list.filter((s) => !s.folderId || s.folderId === folderId);
  return (
    <div className="card" aria-label="Saved searches">
      <strong>Saved searches</strong>
      {here.length === 0 && <p className="muted small">None yet: search, then save it here.</p>}
      <ul>
        {here.map((s) => (
          <li key={s.id}>
            <Button variant="ghost" onClick={() => onApply(strip(s.filter), s.sort ? { field: s.sort.field, direction: s.sort.direction } : null)}>
              {s.name}
            </Button>
            <Button
              variant="ghost"
              aria-label={`Delete saved search ${s.name}`}
              onClick={async () => {
                await remove({ id: s.id });
                onChanged();
              }}
            >
              ×
            </Button>
          </li>
        ))}
      </ul>
      <form className="row" onSubmit={save} noValidate>
        <Field label="Save this search as" value={name} onChange={(e) => setName(e.target.value)} error={errs.name} />
        <Button type="submit" variant="secondary" busy={createRes.fetching} busyLabel="Saving…">
          Save search
        </Button>
      </form>
    </div>
  );
}

/** A saved filter as an input (the query's `__typename` and nulls left out). */
function strip(f: RecordFilterInput | null | undefined): RecordFilterInput | null {
  if (!f) return null;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) if (v != null && k !== '__typename') out[k] = v;
  return Object.keys(out).length ? (out as RecordFilterInput) : null;
}

/** Copies or moves the selected records into another folder of the project. */
function CopyOrMove({ ids, folders, onDone }: { ids: string[]; folders: { id: string; name: string }[]; onDone: () => void }) {
  const [target, setTarget] = useState('');
  const [copyRes, copy] = useMutation(CopyCollectedRecordsDocument);
  const [moveRes, move] = useMutation(MoveCollectedRecordsDocument);
  const chosen = target || folders[0]?.id || '';
  const error = copyRes.error ?? moveRes.error;
  const run = async (how: 'copy' | 'move') => {
    const input = { recordIds: ids, folderId: chosen };
    const r = how === 'copy' ? await copy({ input }) : await move({ input });
    if (r.data) onDone();
  };
  return (
    <div className="row" role="group" aria-label="Selected records">
      <span className="muted">{ids.length} selected</span>
      <SelectField label="To folder" value={chosen} onChange={(e) => setTarget(e.target.value)}>
        {folders.map((f) => (
          <option key={f.id} value={f.id}>
            {f.name}
          </option>
        ))}
      </SelectField>
      <Button variant="secondary" disabled={!chosen} onClick={() => run('copy')}>
        Copy to folder
      </Button>
      <Button variant="secondary" disabled={!chosen} onClick={() => run('move')}>
        Move to folder
      </Button>
      {error && <Alert>{errorMessage(error)}</Alert>}
    </div>
  );
}
