import { describe, expect, it } from 'vitest';
import { compileNames, createAllowlist, DEFAULT_ARTIFACT_TOOLS } from '../../src/proxy/allowlist.js';

// SPEC "The built-in allowlist", copied from the contract so a drift in either shows up here.
const SPEC_LIST = `plot, analyze_dataset, export, export_executive_report, train, train_classifier, train_regressor,
train_baseline_model, train_decision_tree, train_knn, train_naive_bayes, train_svm,
smart_autogluon_automl, smart_autogluon_timeseries, auto_sklearn_classify, auto_sklearn_regress,
train_dl_classifier, train_dl_regressor, grid_search, optuna_tune, ensemble, smart_cluster,
kmeans_cluster, dbscan_cluster, hierarchical_cluster, isolation_forest_train, explain_model,
ge_auto_profile, ge_validate, mlflow_start_run, mlflow_log_metrics, mlflow_log_artifacts,
embed_and_index, summarize_chunks, ingest_mailbox, auto_clean_data, clean, impute_simple,
impute_knn, impute_iterative, scale_data, encode_data, expand_features, split_data, apply_pca,
select_features, recursive_select, sequential_select, auto_analyze_and_model`
  .split(',')
  .map((s) => s.trim());

const READ_ONLY = ['help', 'describe', 'sklearn_capabilities', 'suggest_next_steps', 'execute_next_step', 'list_data_files', 'save_uploaded_file',
  'list_available_models', 'get_workspace_info', 'stats', 'anomaly', 'text_to_features', 'predict', 'classify', 'load_model', 'accuracy',
  'evaluate', 'extract_text', 'chunk_text', 'semantic_search', 'classify_text'];

describe('the default allowlist', () => {
  it('is SPEC\'s 49 names, in order', () => {
    expect(SPEC_LIST).toHaveLength(49);
    expect([...DEFAULT_ARTIFACT_TOOLS]).toEqual(SPEC_LIST);
  });

  const m = compileNames(['@default']);
  it.each(SPEC_LIST)('routes %s', (name) => expect(m(name)).toBe(true));
  it.each(READ_ONLY)('does not route the read-only %s', (name) => expect(m(name)).toBe(false));
  it('is exact, not a prefix or case-insensitive match', () => {
    for (const n of ['plot2', 'Plot', 'train_', 'xplot', 'plot ']) expect(m(n)).toBe(false);
  });
});

describe('names and globs', () => {
  it.each([
    [['my_tool_*'], 'my_tool_a', true],
    [['my_tool_*'], 'my_tool_', true],
    [['my_tool_*'], 'other', false],
    [['train_?nn'], 'train_knn', true],
    [['export{,_executive_report}'], 'export_executive_report', true],
    [['*'], 'anything.at-all', true],
    [['exact'], 'exact', true],
    [['exact'], 'exactly', false],
    [[], 'plot', false],
    [['@default', 'custom_*'], 'custom_x', true],
    [['@default', 'custom_*'], 'plot', true],
  ])('%j matches %s: %s', (patterns, name, want) => {
    expect(compileNames(patterns)(name)).toBe(want);
  });
});

describe('per-server lists', () => {
  const a = createAllowlist(['@default'], { ds: ['describe'], empty: [] });
  it('a server\'s own list replaces the global one for its tools', () => {
    expect(a.routes('ds', 'describe')).toBe(true);
    expect(a.routes('ds', 'plot')).toBe(false);
    expect(a.routes('empty', 'plot')).toBe(false);
    expect(a.routes('other', 'plot')).toBe(true);
    expect(a.routes('other', 'describe')).toBe(false);
  });
  it('matches the exposed (prefixed) name too', () => {
    const b = createAllowlist(['ds__describe']);
    expect(b.routes('ds', 'describe', 'ds__describe')).toBe(true);
    expect(b.routes('x', 'describe', 'x__describe')).toBe(false);
  });
});
