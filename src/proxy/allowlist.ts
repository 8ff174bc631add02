// Which tools are artifact-generating (README "The built-in allowlist"): names and globs, with
// "@default" standing for the 49 built-in names. A server entry's own `routing.tools` replaces the
// global list for that server's tools. Pure: compiled once per catalog, matched per call.
import picomatch from 'picomatch';

/** The original design's list, verbatim and in its order (its heading says 44; it names 49); README lists them. */
export const DEFAULT_ARTIFACT_TOOLS: readonly string[] = [
  'plot', 'analyze_dataset', 'export', 'export_executive_report', 'train', 'train_classifier', 'train_regressor',
  'train_baseline_model', 'train_decision_tree', 'train_knn', 'train_naive_bayes', 'train_svm',
  'smart_autogluon_automl', 'smart_autogluon_timeseries', 'auto_sklearn_classify', 'auto_sklearn_regress',
  'train_dl_classifier', 'train_dl_regressor', 'grid_search', 'optuna_tune', 'ensemble', 'smart_cluster',
  'kmeans_cluster', 'dbscan_cluster', 'hierarchical_cluster', 'isolation_forest_train', 'explain_model',
  'ge_auto_profile', 'ge_validate', 'mlflow_start_run', 'mlflow_log_metrics', 'mlflow_log_artifacts',
  'embed_and_index', 'summarize_chunks', 'ingest_mailbox', 'auto_clean_data', 'clean', 'impute_simple',
  'impute_knn', 'impute_iterative', 'scale_data', 'encode_data', 'expand_features', 'split_data', 'apply_pca',
  'select_features', 'recursive_select', 'sequential_select', 'auto_analyze_and_model',
];

export const DEFAULT_TOKEN = '@default';

export type NameMatcher = (name: string) => boolean;

/** Compiles names and globs (and "@default") into one predicate. Tool names are case-sensitive. */
export function compileNames(patterns: readonly string[]): NameMatcher {
  const exact = new Set<string>();
  const globs: string[] = [];
  for (const p of patterns) {
    if (p === DEFAULT_TOKEN) DEFAULT_ARTIFACT_TOOLS.forEach((n) => exact.add(n));
    else if (picomatch.scan(p).isGlob) globs.push(p);
    else exact.add(p);
  }
  // `dot` so a glob like `*` also covers names starting with '.'; tool names are not paths.
  const glob = globs.length ? picomatch(globs, { dot: true }) : undefined;
  return (name) => exact.has(name) || (glob?.(name) ?? false);
}

export interface Allowlist {
  /** Whether `tool` (its downstream name, or the name the host sees) on `server` is routed. */
  routes(server: string, tool: string, exposed?: string): boolean;
  /** Why it is: the entry that matched and the list it is in (for `check`), or undefined. */
  why(server: string, tool: string, exposed?: string): string | undefined;
}

/** The first pattern of `patterns` that matches `name`: "@default", the name itself, or a glob. */
export function matchingPattern(patterns: readonly string[], name: string): string | undefined {
  for (const p of patterns) {
    if (p === DEFAULT_TOKEN ? DEFAULT_ARTIFACT_TOOLS.includes(name) : picomatch.scan(p).isGlob ? picomatch(p, { dot: true })(name) : p === name) return p;
  }
  return undefined;
}

export function createAllowlist(global: readonly string[], perServer: Readonly<Record<string, readonly string[] | undefined>> = {}): Allowlist {
  const base = compileNames(global);
  const own = new Map<string, NameMatcher>();
  for (const [server, list] of Object.entries(perServer)) if (list) own.set(server, compileNames(list));
  return {
    routes(server, tool, exposed) {
      const m = own.get(server) ?? base;
      return m(tool) || (exposed !== undefined && exposed !== tool && m(exposed));
    },
    why(server, tool, exposed) {
      const list = perServer[server] ?? global;
      const where = perServer[server] ? `mcpServers.${server}.routing.tools` : 'routing.tools';
      const hit = matchingPattern(list, tool) ?? (exposed !== undefined ? matchingPattern(list, exposed) : undefined);
      return hit === undefined ? undefined : `${hit === DEFAULT_TOKEN ? '@default (the built-in list)' : JSON.stringify(hit)} in ${where}`;
    },
  };
}
