// A drop target for one file (or a click to choose one), with the progress of the upload
// under way.
import { useRef, useState, type DragEvent } from 'react';

export function DropZone({
  label,
  busy,
  progress,
  onFile,
}: {
  label: string;
  busy: boolean;
  /** 0 to 1 while uploading. */
  progress: number | null;
  onFile: (file: File) => void;
}) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const take = (files: FileList | null) => {
    const f = files?.[0];
    if (f && !busy) onFile(f);
  };
  return (
    <div
      className={`dropzone${over ? ' dropzone-over' : ''}`}
      role="button"
      tabIndex={0}
      aria-label={label}
      aria-busy={busy || undefined}
      onClick={() => input.current?.click()}
      onKeyDown={(e) => {
        if (e.key === 'Enter' || e.key === ' ') input.current?.click();
      }}
      onDragOver={(e: DragEvent) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e: DragEvent) => {
        e.preventDefault();
        setOver(false);
        take(e.dataTransfer.files);
      }}
    >
      <input
        ref={input}
        type="file"
        hidden
        data-testid="file-input"
        onChange={(e) => {
          take(e.target.files);
          e.target.value = '';
        }}
      />
      <p>{busy ? 'Uploading…' : `${label}: drop a file here or click to choose one`}</p>
      {progress != null && (
        <progress className="upload-progress" max={1} value={progress} aria-label="Upload progress">
          {Math.round(progress * 100)} %
        </progress>
      )}
    </div>
  );
}
