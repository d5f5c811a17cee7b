// The builder's toolbar: back to the list, the workflow's name, where saving stands, undo/redo,
// Validate, Publish, Save as template and Run; then the notices those actions leave.
import { useState, type Dispatch, type ReactNode } from 'react';
import { Link, useNavigate } from 'react-router';
import { useClient, useMutation } from 'urql';
import {
  ExecuteWorkflowDocument,
  PublishWorkflowVersionDocument,
  SaveWorkflowAsTemplateDocument,
  UpdateWorkflowDocument,
  ValidateWorkflowDocument,
  type WorkflowBuilderQuery,
} from '../../../gql/graphql';
import { useTenant } from '../../../app/tenant';
import { canRedo, canUndo, type CanvasAction, type CanvasState } from '../canvasReducer';
import { apiError } from '../common';
import { SaveIndicator, type BuilderSave } from './autosave';

export function Toolbar({
  workflow,
  name,
  setName,
  canEdit,
  canRun,
  canvas,
  dispatch,
  save,
  children,
}: {
  workflow: WorkflowBuilderQuery['workflow'];
  name: string;
  setName: (name: string) => void;
  canEdit: boolean;
  canRun: boolean;
  canvas: CanvasState;
  dispatch: Dispatch<CanvasAction>;
  save: BuilderSave;
  /** Shown right under the toolbar, above the actions' notices (the save alerts). */
  children?: ReactNode;
}) {
  const tenant = useTenant();
  const navigate = useNavigate();
  const client = useClient();

  // ---- Toolbar actions.
  const [, execute] = useMutation(ExecuteWorkflowDocument);
  const [, publish] = useMutation(PublishWorkflowVersionDocument);
  const [notice, setNotice] = useState<{ kind: 'error' | 'info'; text: string } | null>(null);
  const [busy, setBusy] = useState<'run' | 'publish' | 'validate' | null>(null);
  const [latestVersion, setLatestVersion] = useState(workflow.latestVersion ?? null);

  const run = async () => {
    setBusy('run');
    setNotice(null);
    const saved = await save.autosave.flush();
    if (!saved && canEdit) {
      setBusy(null);
      setNotice({ kind: 'error', text: 'Save the workflow before running it (see the notice above).' });
      return;
    }
    const r = await execute({ input: { workflowId: workflow.id } });
    setBusy(null);
    const err = apiError(r.error);
    if (err) {
      if (err.problems.length) save.setProblems(err.problems);
      setNotice({
        kind: 'error',
        text: err.code === 'WORKFLOW_INVALID' ? `The workflow cannot run yet: ${err.problems.length} problem(s), listed below.` : err.message,
      });
      return;
    }
    navigate(`/o/${tenant.slug}/executions/${r.data!.executeWorkflow.execution.id}`);
  };

  const doValidate = async () => {
    setBusy('validate');
    await save.autosave.flush();
    const r = await client.query(ValidateWorkflowDocument, { id: workflow.id }, { requestPolicy: 'network-only' }).toPromise();
    setBusy(null);
    if (r.error) return setNotice({ kind: 'error', text: apiError(r.error)!.message });
    const v = r.data!.validateWorkflow;
    save.setProblems(v.problems);
    setNotice(v.valid ? { kind: 'info', text: 'No problems: the workflow can run.' } : { kind: 'error', text: `${v.problems.length} problem(s) found.` });
  };

  const [publishOpen, setPublishOpen] = useState(false);
  const [publishNote, setPublishNote] = useState('');
  const doPublish = async () => {
    setBusy('publish');
    const saved = await save.autosave.flush();
    if (!saved) {
      setBusy(null);
      return;
    }
    const r = await publish({ input: { workflowId: workflow.id, note: publishNote } });
    setBusy(null);
    const err = apiError(r.error);
    if (err) {
      if (err.problems.length) save.setProblems(err.problems);
      setNotice({ kind: 'error', text: err.code === 'WORKFLOW_INVALID' ? `Cannot publish: ${err.problems.length} problem(s), listed below.` : err.message });
      return;
    }
    setPublishOpen(false);
    setPublishNote('');
    setLatestVersion(r.data!.publishWorkflowVersion.version.version);
    setNotice({ kind: 'info', text: `Published version ${r.data!.publishWorkflowVersion.version.version}.` });
  };

  const [templateOpen, setTemplateOpen] = useState(false);
  const [templateName, setTemplateName] = useState('');
  const [templateCategory, setTemplateCategory] = useState('');
  const [, saveAsTemplate] = useMutation(SaveWorkflowAsTemplateDocument);
  const doSaveTemplate = async () => {
    const saved = await save.autosave.flush();
    if (!saved) return;
    const r = await saveAsTemplate({ input: { workflowId: workflow.id, name: templateName.trim() || name, category: templateCategory.trim() } });
    const err = apiError(r.error);
    if (err) return setNotice({ kind: 'error', text: err.message });
    setTemplateOpen(false);
    setNotice({ kind: 'info', text: `Saved as the template “${r.data!.saveWorkflowAsTemplate.template.name}”.` });
  };

  const [, updateWorkflow] = useMutation(UpdateWorkflowDocument);
  const saveName = async () => {
    const n = name.trim();
    if (!n || n === workflow.name) return;
    const r = await updateWorkflow({ input: { id: workflow.id, name: n } });
    if (r.error) setNotice({ kind: 'error', text: apiError(r.error)!.message });
  };

  const base = `/o/${tenant.slug}`;
  return (
    <>
      <header className="wf-toolbar">
        <Link to={`${base}/workflows`} className="wf-back">
          ← Workflows
        </Link>
        <label className="wf-sr-only" htmlFor="wf-name">
          Workflow name
        </label>
        <input
          id="wf-name"
          className="wf-title-input"
          value={name}
          disabled={!canEdit}
          maxLength={200}
          onChange={(e) => setName(e.target.value)}
          onBlur={saveName}
          onKeyDown={(e) => e.key === 'Enter' && (e.target as HTMLInputElement).blur()}
        />
        {workflow.archived && <span className="wf-badge">Archived</span>}
        <SaveIndicator status={canEdit ? save.autosave.status : 'saved'} readOnly={!canEdit} />
        <div className="wf-toolbar-actions">
          {canEdit && (
            <>
              <button type="button" className="wf-btn" onClick={() => dispatch({ type: 'undo' })} disabled={!canUndo(canvas)} title="Undo (Ctrl+Z)" aria-keyshortcuts="Control+Z Meta+Z">
                Undo
              </button>
              <button type="button" className="wf-btn" onClick={() => dispatch({ type: 'redo' })} disabled={!canRedo(canvas)} title="Redo (Ctrl+Shift+Z)" aria-keyshortcuts="Control+Shift+Z Meta+Shift+Z">
                Redo
              </button>
            </>
          )}
          <button type="button" className="wf-btn" onClick={doValidate} disabled={busy !== null}>
            {busy === 'validate' ? 'Checking…' : 'Validate'}
          </button>
          <Link className="wf-btn" to={`${base}/workflows/${workflow.id}/executions`}>
            Executions
          </Link>
          {canEdit && (
            <button type="button" className="wf-btn" onClick={() => setPublishOpen((o) => !o)} aria-expanded={publishOpen}>
              Publish{latestVersion ? ` (v${latestVersion})` : ''}
            </button>
          )}
          {canEdit && (
            <button type="button" className="wf-btn" onClick={() => setTemplateOpen((o) => !o)} aria-expanded={templateOpen}>
              Save as template
            </button>
          )}
          {canRun && (
            <button type="button" className="wf-btn wf-btn-primary" onClick={run} disabled={busy !== null}>
              {busy === 'run' ? 'Starting…' : '▶ Run'}
            </button>
          )}
        </div>
      </header>
      {children}
      {notice && (
        <div className={`wf-alert ${notice.kind === 'error' ? 'wf-alert-error' : 'wf-alert-info'}`} role={notice.kind === 'error' ? 'alert' : 'status'}>
          <span>{notice.text}</span>
          <button type="button" className="wf-btn wf-btn-small" onClick={() => setNotice(null)} aria-label="Dismiss">
            ×
          </button>
        </div>
      )}
      {publishOpen && (
        <form
          className="wf-inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void doPublish();
          }}
        >
          <label htmlFor="wf-publish-note">Version note</label>
          <input id="wf-publish-note" value={publishNote} onChange={(e) => setPublishNote(e.target.value)} placeholder="What changed (optional)" />
          <button type="submit" className="wf-btn wf-btn-primary" disabled={busy !== null}>
            {busy === 'publish' ? 'Publishing…' : `Publish version ${(latestVersion ?? 0) + 1}`}
          </button>
          <button type="button" className="wf-btn" onClick={() => setPublishOpen(false)}>
            Cancel
          </button>
        </form>
      )}

      {templateOpen && (
        <form
          className="wf-inline-form"
          aria-label="Save as template"
          onSubmit={(e) => {
            e.preventDefault();
            void doSaveTemplate();
          }}
        >
          <label htmlFor="wf-template-name">Template name</label>
          <input id="wf-template-name" value={templateName} placeholder={name} onChange={(e) => setTemplateName(e.target.value)} />
          <label htmlFor="wf-template-category">Category</label>
          <input id="wf-template-category" value={templateCategory} placeholder="e.g. integration" onChange={(e) => setTemplateCategory(e.target.value)} />
          <button type="submit" className="wf-btn wf-btn-primary">
            Save template
          </button>
          <button type="button" className="wf-btn" onClick={() => setTemplateOpen(false)}>
            Cancel
          </button>
        </form>
      )}
    </>
  );
}
