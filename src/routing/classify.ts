// Which run folder an artifact belongs in, and the canonical type recorded in the manifest.
// Pure: plain strings in, plain strings out.
import path from 'node:path';
import type { TargetSubdir } from '../workspace/types.js';

// Declared types (and the plural/alias spellings tools actually use) → folder.
const TYPE_DIRS: Readonly<Record<string, TargetSubdir>> = {
  model: 'models', models: 'models',
  report: 'reports', reports: 'reports',
  plot: 'plots', plots: 'plots', image: 'plots', images: 'plots', figure: 'plots', figures: 'plots',
  metrics: 'metrics', metric: 'metrics',
  data: 'data', dataset: 'data', datasets: 'data',
  upload: 'uploads', uploads: 'uploads',
  index: 'indexes', indexes: 'indexes', indices: 'indexes',
  log: 'logs', logs: 'logs',
  tmp: 'tmp', temp: 'tmp',
};

// README "Where artifacts are found, and where they go": the fallback guess from the file extension.
const EXT_DIRS: Readonly<Record<string, TargetSubdir>> = {
  ...Object.fromEntries(['.png', '.jpg', '.svg', '.gif', '.webp'].map((e) => [e, 'plots'])),
  ...Object.fromEntries(['.pdf', '.html', '.md', '.docx'].map((e) => [e, 'reports'])),
  ...Object.fromEntries(
    ['.pkl', '.joblib', '.pt', '.pth', '.h5', '.onnx', '.pb', '.safetensors', '.keras'].map((e) => [e, 'models']),
  ),
  ...Object.fromEntries(['.csv', '.parquet', '.feather', '.xlsx'].map((e) => [e, 'data'])),
  '.faiss': 'indexes',
  '.index': 'indexes',
  '.log': 'logs',
};

// The manifest's `type` is the singular name of the folder the file went to.
const CANONICAL: Readonly<Record<TargetSubdir, string>> = {
  models: 'model', reports: 'report', plots: 'plot', metrics: 'metrics', data: 'data',
  uploads: 'upload', indexes: 'index', logs: 'log', tmp: 'tmp',
};

// Result keys that name artifacts (README "Where artifacts are found, and where they go"),
// singular and plural, snake_case and camelCase. '' means "an output, typed by its extension".
const SNAKE_KEY_TYPES: Readonly<Record<string, string>> = {
  model_path: 'model', model_paths: 'model',
  report_path: 'report', report_paths: 'report', pdf_path: 'report',
  plot_path: 'plot', plot_paths: 'plot', image_path: 'plot', image_paths: 'plot',
  metrics_path: 'metrics', metrics_paths: 'metrics',
  index_path: 'index', index_paths: 'index',
  data_path: 'data', data_paths: 'data',
  output_path: '', output_paths: '', output_file: '', output_files: '', file_path: '', file_paths: '', saved_path: '', saved_paths: '',
};
const camel = (k: string): string => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const KEY_TYPES: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(SNAKE_KEY_TYPES).flatMap(([k, t]) => [[k, t], [camel(k), t]]));

/** Result keys a config adds (`routing.resultKeys`): name → type, or '' to type by extension. */
export type ResultKeys = Readonly<Record<string, string>>;

const own = <T>(rec: Readonly<Record<string, T>>, key: string): T | undefined =>
  Object.prototype.hasOwnProperty.call(rec, key) ? rec[key] : undefined;

/** The folder for a known type name, or undefined when the type is unknown. */
export function subdirForType(type: string | undefined): TargetSubdir | undefined {
  return type === undefined ? undefined : own(TYPE_DIRS, type.trim().toLowerCase());
}

/** Type → folder (README "Where artifacts are found, and where they go"): the declared type wins; else the extension; else `data`. */
export function subdirFor(type: string | undefined, fileName: string): TargetSubdir {
  const byType = subdirForType(type);
  if (byType) return byType;
  // `.jpeg` is the same format as `.jpg`; tools write both.
  const ext = path.extname(fileName).toLowerCase();
  return own(EXT_DIRS, ext === '.jpeg' ? '.jpg' : ext) ?? 'data';
}

/**
 * The type a result key implies (`plot_paths` → plot, `imagePath` → plot, `outputPath` → '' for
 * "by extension"), or undefined for any other key. Keys the config adds come first.
 */
export function typeForKey(key: string, extra?: ResultKeys): string | undefined {
  return (extra && own(extra, key)) ?? own(KEY_TYPES, key);
}

/** The canonical manifest type: a declared type maps to its folder's name; unknown types follow the folder. */
export function normaliseType(type: string | undefined, subdir: TargetSubdir): string {
  const byType = subdirForType(type);
  return CANONICAL[byType ?? subdir];
}
