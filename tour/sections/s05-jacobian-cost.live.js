// Section 5, live: what a Jacobian costs in forward and reverse mode. The section times
// jacobian(f)(x) for both modes at every size below (fastest of `reps` runs). Edit and Run.

// f: R^m -> R^n, f(x) = sum(x) * ones(n); its Jacobian is the n x m matrix of ones.
const makeF = (nOutputs) => (x) => np.multiply(np.sum(x), np.ones([nOutputs]));
const jacobianByHand = (nOutputs, nInputs) => np.ones([nOutputs, nInputs]);

// The two modes: one pass per input (forward) or one pass per output (reverse).
const modes = { "forward (jacfwd)": jacfwd, "reverse (jacrev)": jacrev };

// Sizes doubling (evenly spaced on the log axis); the other dimension stays at `small`.
const sizes = quick ? [128, 256, 512, 1024] : [128, 256, 512, 1024, 2048];
const small = 10;
const reps = quick ? 3 : 7;
