// A real, tiny classifier: multinomial logistic regression trained by full-batch gradient descent,
// with standardised numeric features and one-hot categorical features, on a seeded train/test split.
import { UserError, getColumn, round } from './data.mjs';

const MAX_CLASSES = 20;
const MAX_LEVELS = 30;

/** Small deterministic PRNG (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled(n, seed) {
  const idx = Array.from({ length: n }, (_, i) => i);
  const rand = rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}

function targetLabels(ds, col) {
  const present = col.values.filter((v) => v !== null);
  const distinct = [...new Set(present)];
  if (col.type === 'numeric') {
    const integral = present.every((v) => Number.isInteger(v));
    if (!integral || distinct.length > MAX_CLASSES) {
      const candidates = ds.columns.filter((c) => c.type === 'categorical' && c !== col).map((c) => c.name);
      throw new UserError(
        `target '${col.name}' is a continuous numeric column (${distinct.length} distinct values); ` +
          `train_classifier needs a categorical target` +
          (candidates.length ? ` such as: ${candidates.join(', ')}` : ''),
      );
    }
  } else if (distinct.length > MAX_CLASSES) {
    throw new UserError(`target '${col.name}' has ${distinct.length} distinct values; at most ${MAX_CLASSES} classes are supported`);
  }
  if (distinct.length < 2) throw new UserError(`target '${col.name}' has only ${distinct.length} distinct value(s); a classifier needs at least 2 classes`);
  return col.values.map((v) => (v === null ? null : String(v)));
}

/**
 * @param {import('./data.mjs').Dataset} ds
 * @param {string} target
 * @param {string[] | undefined} features
 */
export function trainClassifier(ds, target, features, opts = {}) {
  const testSize = opts.testSize ?? 0.25;
  const seed = opts.seed ?? 42;
  const epochs = opts.epochs ?? 1500;
  const lr = opts.learningRate ?? 0.3;
  const l2 = opts.l2 ?? 1e-3;

  const targetCol = getColumn(ds, target, 'target');
  const labels = targetLabels(ds, targetCol);
  const featureNames = features && features.length ? [...new Set(features)] : ds.columns.filter((c) => c !== targetCol).map((c) => c.name);
  if (featureNames.length === 0) throw new UserError('no feature columns: the CSV has only the target column');
  const featureCols = featureNames.map((f) => {
    const col = getColumn(ds, f, 'feature');
    if (col === targetCol) throw new UserError(`feature '${f}' is the target itself`);
    return col;
  });

  const rows = [];
  for (let i = 0; i < ds.rows; i++) if (labels[i] !== null) rows.push(i);
  if (rows.length < 4) throw new UserError(`only ${rows.length} rows have a value for '${target}'; at least 4 are needed to train and test`);
  const order = shuffled(rows.length, seed).map((k) => rows[k]);
  const nTest = Math.min(rows.length - 2, Math.max(1, Math.round(rows.length * testSize)));
  const testRows = order.slice(0, nTest);
  const trainRows = order.slice(nTest);

  // Encoding fitted on the training rows only.
  const encoding = featureCols.map((col) => {
    if (col.type === 'numeric') {
      const xs = trainRows.map((i) => col.values[i]).filter((v) => v !== null);
      const m = xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
      const s = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length) : 0;
      return { feature: col.name, kind: 'numeric', mean: m, std: s > 0 ? s : 1 };
    }
    const counts = new Map();
    for (const i of trainRows) if (col.values[i] !== null) counts.set(col.values[i], (counts.get(col.values[i]) ?? 0) + 1);
    const categories = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, MAX_LEVELS).map(([v]) => v);
    return { feature: col.name, kind: 'one_hot', categories };
  });
  const encodedNames = encoding.flatMap((e) => (e.kind === 'numeric' ? [e.feature] : e.categories.map((c) => `${e.feature}=${c}`)));
  const D = encodedNames.length;
  const encodeRow = (i) => {
    const x = [];
    encoding.forEach((e, j) => {
      const v = featureCols[j].values[i];
      if (e.kind === 'numeric') x.push(v === null ? 0 : (v - e.mean) / e.std);
      else for (const c of e.categories) x.push(v === c ? 1 : 0);
    });
    return x;
  };

  const classes = [...new Set(labels.filter((v) => v !== null))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const K = classes.length;
  const classIndex = new Map(classes.map((c, k) => [c, k]));
  const Xtr = trainRows.map(encodeRow);
  const ytr = trainRows.map((i) => classIndex.get(labels[i]));
  const W = Array.from({ length: K }, () => new Array(D).fill(0));
  const b = new Array(K).fill(0);

  const probs = (x) => {
    const z = b.map((bk, k) => bk + W[k].reduce((a, w, d) => a + w * x[d], 0));
    const zmax = Math.max(...z);
    const e = z.map((v) => Math.exp(v - zmax));
    const s = e.reduce((a, v) => a + v, 0);
    return e.map((v) => v / s);
  };

  const n = Xtr.length;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const gW = Array.from({ length: K }, () => new Array(D).fill(0));
    const gb = new Array(K).fill(0);
    for (let r = 0; r < n; r++) {
      const p = probs(Xtr[r]);
      for (let k = 0; k < K; k++) {
        const err = p[k] - (ytr[r] === k ? 1 : 0);
        gb[k] += err;
        const row = gW[k];
        const x = Xtr[r];
        for (let d = 0; d < D; d++) row[d] += err * x[d];
      }
    }
    for (let k = 0; k < K; k++) {
      b[k] -= (lr * gb[k]) / n;
      for (let d = 0; d < D; d++) W[k][d] -= lr * (gW[k][d] / n + l2 * W[k][d]);
    }
  }

  const predict = (i) => {
    const p = probs(encodeRow(i));
    return classes[p.indexOf(Math.max(...p))];
  };
  const accuracyOn = (idx) => idx.filter((i) => predict(i) === labels[i]).length / idx.length;
  const trainCounts = new Map();
  for (const i of trainRows) trainCounts.set(labels[i], (trainCounts.get(labels[i]) ?? 0) + 1);
  const majority = [...trainCounts.entries()].sort((a, c) => c[1] - a[1])[0][0];
  const confusion = Object.fromEntries(classes.map((a) => [a, Object.fromEntries(classes.map((p) => [p, 0]))]));
  for (const i of testRows) confusion[labels[i]][predict(i)]++;

  const metrics = {
    accuracy: round(accuracyOn(testRows), 4),
    train_accuracy: round(accuracyOn(trainRows), 4),
    baseline_accuracy: round(testRows.filter((i) => labels[i] === majority).length / testRows.length, 4),
    n_train: trainRows.length,
    n_test: testRows.length,
    target,
    classes,
    features: featureNames,
    confusion_matrix: confusion,
  };
  const model = {
    format: 'ds-server/logistic-regression@1',
    model_type: 'multinomial_logistic_regression',
    target,
    classes,
    features: featureNames,
    encoding: encoding.map((e) => (e.kind === 'numeric' ? { ...e, mean: round(e.mean, 8), std: round(e.std, 8) } : e)),
    encoded_features: encodedNames,
    intercepts: b.map((v) => round(v, 8)),
    weights: W.map((row) => row.map((v) => round(v, 8))),
    training: { epochs, learning_rate: lr, l2, seed, test_size: testSize, n_train: trainRows.length, n_test: testRows.length },
  };
  return { model, metrics };
}
