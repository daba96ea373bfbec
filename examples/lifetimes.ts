// Lifetimes in TypeScript: `using` disposes a layer when its block ends, even when the block throws.
// Run with `npx tsx examples/lifetimes.ts` (Node 20 runs `using` once TypeScript or tsx has compiled it).
import { createRuntime, LSTM, tensor } from "rnn-wasm";

const runtime = await createRuntime();
{
  using lstm = new LSTM({ inputSize: 8, hiddenSize: 16, runtime });
  const { output } = lstm.forward(tensor([10, 1, 8]));
  console.log(`output [${output.shape.join(", ")}], wasm bytes in use: ${runtime.bytesInUse}`);
} // lstm.dispose() runs here
console.log(`after the block: ${runtime.bytesInUse} bytes in use`);
if (runtime.bytesInUse !== 0) throw new Error("the layer was not disposed");
