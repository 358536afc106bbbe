/**
 * Effective samples per second and per gradient (or density) evaluation of
 * infer.nuts against a plain random-walk Metropolis written here with
 * chainrule (a jitted, vmapped kernel doing `thin` proposals per call as a
 * lax.scan), on a 100-d Gaussian with AR(1) correlations and a logistic
 * regression with 1,000 rows and 20 features.
 *
 *   npx tsx bench/infer.ts [--quick]
 */
import {
  type Array as NdArray,
  infer,
  jit,
  lax,
  nn,
  np,
  random,
  stats,
  vmap,
} from "../src/index.js";

type A = NdArray;
const quick = process.argv.includes("--quick");

interface Model {
  name: string;
  d: number;
  logp: (x: A) => A;
}

function gaussian(): Model {
  const d = 100;
  const rho = 0.5;
  const sd = np.array(Array.from({ length: d }, (_, i) => 0.5 + (i % 10) / 4));
  const logp = (x: A) => {
    const z = np.divide(x, sd);
    const q = np.add(
      np.subtract(
        np.sum(np.square(z)),
        np.multiply(2 * rho, np.sum(np.multiply(np.slice(z, [0, d - 1]), np.slice(z, [1, d])))),
      ),
      np.multiply(rho * rho, np.sum(np.square(np.slice(z, [1, d - 1])))),
    );
    return np.multiply(-0.5 / (1 - rho * rho), q);
  };
  return { name: "100-d AR(1) Gaussian", d, logp };
}

function logistic(): Model {
  const n = 1000;
  const p = 20;
  const key = random.key(7);
  const X = random.normal(random.foldIn(key, 0), [n, p]);
  const wTrue = np.multiply(0.5, random.normal(random.foldIn(key, 1), [p]));
  const probs = nn.sigmoid(np.matmul(X, wTrue));
  const y = np.astype(np.less(random.uniform(random.foldIn(key, 2), [n]), probs), "float64");
  const logp = (w: A) => {
    const logits = np.matmul(X, w);
    // Bernoulli log-likelihood y·l − log(1 + eˡ), prior N(0, 1)
    const ll = np.sum(np.subtract(np.multiply(y, logits), nn.softplus(logits)));
    return np.add(ll, np.sum(stats.normalLogPdf(w, 0, 1)));
  };
  return { name: "logistic regression 1000x20", d: p, logp };
}

/** Random-walk Metropolis, all chains in one jitted vmapped kernel of `thin` proposals. */
function rwm(model: Model, chains: number, numWarmup: number, numSamples: number, thin: number) {
  const { d, logp } = model;
  const kernel = jit(
    vmap((x: A, lp: A, scale: A, z: A, u: A) => {
      type C = [A, A, A];
      const [[xs, lps, acc]] = lax.scan(
        (c: C, noise: [A, A]): [C, null] => {
          const prop = np.add(c[0], np.multiply(scale, noise[0]));
          const lpProp = logp(prop);
          const accept = np.less(np.log(noise[1]), np.subtract(lpProp, c[1]));
          return [
            [
              np.where(accept, prop, c[0]),
              np.where(accept, lpProp, c[1]),
              np.add(c[2], np.astype(accept, "float64")),
            ],
            null,
          ];
        },
        [x, lp, np.array(0)],
        [z, u],
      ) as [C, unknown];
      return [xs, lps, np.divide(acc, thin)];
    }),
  );
  let x = np.zeros([chains, d]);
  let lp = vmap(logp)(x);
  // proposal scale adapted toward acceptance 0.234 during warm-up (Robbins–Monro on log scale)
  const logScale = new Float64Array(chains).fill(Math.log(2.38 / Math.sqrt(d)));
  const draws: A[] = [];
  let key = random.key(3);
  const t0 = performance.now();
  for (let t = 0; t < numWarmup + numSamples; t++) {
    const ks = random.split(key, 3);
    key = np.take(ks, 0, 0);
    const z = random.normal(np.take(ks, 1, 0), [chains, thin, d]);
    const u = random.uniform(np.take(ks, 2, 0), [chains, thin]);
    const [xn, lpn, acc] = kernel(x, lp, np.exp(np.array(logScale)), z, u) as [A, A, A];
    x = xn;
    lp = lpn;
    if (t < numWarmup) {
      const a = acc.data();
      for (let c = 0; c < chains; c++)
        logScale[c] = logScale[c]! + (a[c]! - 0.234) / Math.sqrt(t + 1);
    } else draws.push(x);
  }
  const seconds = (performance.now() - t0) / 1000;
  const samples = np.stack(draws, 1); // [chains, numSamples, d]
  return { samples, seconds, evals: chains * (numWarmup + numSamples) * thin };
}

function summarize(name: string, samples: A, seconds: number, evals: number) {
  const essArr = (infer.ess(samples) as A).data() as Float64Array;
  const minEss = Math.min(...essArr);
  const meanEss = essArr.reduce((a, b) => a + b, 0) / essArr.length;
  return {
    name,
    seconds,
    evals,
    minEss,
    meanEss,
    perSecond: minEss / seconds,
    perEval: minEss / evals,
  };
}

const rows: ReturnType<typeof summarize>[] = [];
const chains = 4;
const [warm, samp] = quick ? [200, 200] : [500, 1000];
for (const model of [gaussian(), logistic()]) {
  for (const chainMethod of ["vectorized", "sequential"] as const) {
    const t0 = performance.now();
    const r = infer.nuts(model.logp, np.zeros([model.d]), {
      key: random.key(1),
      numWarmup: warm,
      numSamples: samp,
      chains,
      chainMethod,
    });
    const seconds = (performance.now() - t0) / 1000;
    const name = `${model.name}, NUTS ${chainMethod}`;
    rows.push(summarize(name, r.samples as A, seconds, r.stats.totalGradEvals));
  }
  const thin = model.d >= 100 ? 50 : 20;
  const m = rwm(model, chains, warm, samp, thin);
  rows.push(summarize(`${model.name}, RWM (thin ${thin})`, m.samples, m.seconds, m.evals));
}
console.log(
  "| model, sampler | time (s) | evaluations | min ESS (bulk) | mean ESS | min ESS / s | min ESS / evaluation |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const r of rows) {
  console.log(
    `| ${r.name} | ${r.seconds.toFixed(1)} | ${r.evals.toExponential(2)} | ${r.minEss.toFixed(0)} | ` +
      `${r.meanEss.toFixed(0)} | ${r.perSecond.toFixed(1)} | ${r.perEval.toExponential(2)} |`,
  );
}
