// Errors: every failure is an RnnError whose `code` a program can branch on and whose message names the tensor,
// the option or the file, and what was expected. NaN and Infinity are refused by default.
import assert from "node:assert/strict";
import { fromTorch, init, LSTM, RnnError, tensor } from "rnn-wasm";

await init();
const lstm = new LSTM({ inputSize: 3, hiddenSize: 4 });

// #region errors
function attempt(what, fn) {
  try {
    fn();
    console.log(`${what}: ok`);
  } catch (e) {
    if (!(e instanceof RnnError)) throw e;
    console.log(`${what}: RnnError ${e.code}: ${e.message}`);
    return e.code;
  }
}
attempt("wrong feature size", () => lstm.forward(tensor([5, 2, 7]))); // shape: input has shape [5, 2, 7], expected [*, *, 3]
attempt("float64 data", () => lstm.forward({ shape: [5, 2, 3], data: new Float64Array(30) })); // dtype
attempt("h0 for another batch size", () => lstm.forward(tensor([5, 2, 3]), { h0: tensor([1, 3, 4]) })); // shape: h0 has shape [1, 3, 4], expected [1, 2, 4]
attempt("incomplete state_dict", () => fromTorch({ weight_ih_l0: tensor([16, 3]) })); // missing: weight_hh_l0
// #endregion

// #region nan
const x = tensor([2, 1, 3]);
x.data[4] = NaN;
// nanPolicy 'error' (the default) checks inputs and states before running and names the tensor and flat index:
assert.equal(attempt("NaN in the input", () => lstm.forward(x)), "nonfinite"); // input holds NaN at flat index 4
// 'propagate' skips the check (saving its one pass over the data) and lets IEEE arithmetic carry the NaN on:
const loose = new LSTM({ inputSize: 3, hiddenSize: 4, nanPolicy: "propagate" });
console.log("with nanPolicy 'propagate', output.data[4] =", loose.forward(x).output.data[4]); // NaN
// Weights are checked once, when fromTorch loads them or a constructor takes them (with the policy given there).
loose.dispose();
// #endregion

// #region disposed
lstm.dispose();
lstm.dispose(); // a second dispose() does nothing
assert.equal(attempt("use after dispose", () => lstm.forward(tensor([1, 1, 3]))), "disposed");
// #endregion
