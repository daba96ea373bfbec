// cli/src/serve/answer-slots.ts: a bounded pool of reusable answer buffers shared by the HTTP thread and the workers.
// Without it every answer crossed threads in an ArrayBuffer of its own (128 KiB for a T=128 x 256 float32 output),
// and that stream of fresh external memory drove a mark-compact of the HTTP thread every 200-300 ms under load.
//   layout   one SharedArrayBuffer of `count` slots of `slotBytes` each; slot k is bytes [k*slotBytes, (k+1)*slotBytes)
//   owner    the HTTP thread alone takes and gives slots (no atomics needed): it takes one per request when the
//            request's batch goes to a worker, the worker only writes the encoded answer into it and says how long
//            it is, and the HTTP thread writes a Buffer view of those bytes to the socket and gives the slot back
//            when the response closes (after its last byte was handed to the kernel, or the connection was lost),
//            never earlier. A slot the worker did not use (an answer larger than a slot) is given back at once.
//   bounded  when no slot is free a request gets none and its answer is transferred as before: nothing waits.
// Untouched slots cost no memory: a SharedArrayBuffer's pages are committed when first written, and the free slots are a
// stack, so under steady load the same few are reused.

/** What a worker needs to write into the pool: its memory and the size of one slot. */
export interface AnswerSlotsShared {
  buffer: SharedArrayBuffer;
  slotBytes: number;
}

/** The HTTP thread's side: which slots are free. */
export class AnswerSlots {
  readonly shared: AnswerSlotsShared;
  /** Answers that went through a slot, and those transferred instead (no slot free, or larger than a slot). */
  written = 0;
  fallbacks = 0;
  private readonly free: number[];
  private readonly taken: Uint8Array;

  /** `count` slots of `slotBytes` each; count 0 turns the pool off (every answer is transferred). */
  constructor(readonly count: number, readonly slotBytes: number) {
    this.shared = { buffer: new SharedArrayBuffer(count * slotBytes), slotBytes };
    // A stack: the slot given back last is lent first, so the slots in use (and the pages touched) stay as few as the
    // requests in flight, whatever the count.
    this.free = Array.from({ length: count }, (_, k) => count - 1 - k);
    this.taken = new Uint8Array(count);
  }

  /** Slots taken and not yet given back. */
  get inUse(): number {
    return this.count - this.free.length;
  }

  /** A free slot's index, or -1 when none is free. */
  take(): number {
    const slot = this.free.pop();
    if (slot === undefined) return -1;
    this.taken[slot] = 1;
    return slot;
  }

  /** Gives a taken slot back; -1 and a slot already given back are ignored (so every path may call it). */
  give(slot: number): void {
    if (slot < 0 || this.taken[slot] !== 1) return;
    this.taken[slot] = 0;
    this.free.push(slot);
  }

  /** The first `length` bytes of a slot, as a Buffer over the shared memory (no copy). */
  view(slot: number, length: number): Buffer {
    return Buffer.from(this.shared.buffer, slot * this.slotBytes, length);
  }
}

/**
 * The worker's side: copies `bytes` into `slot` (unless they are there already: a raw answer's output, which the
 * model wrote into the slot) and returns their length, or returns -1 when there is no slot or the bytes do not fit
 * (the caller then transfers them).
 */
export function writeToSlot(shared: AnswerSlotsShared, slot: number, bytes: Uint8Array): number {
  if (slot < 0 || bytes.byteLength > shared.slotBytes) return -1;
  if (bytes.buffer === shared.buffer && bytes.byteOffset === slot * shared.slotBytes) return bytes.byteLength; // written there already
  new Uint8Array(shared.buffer, slot * shared.slotBytes, bytes.byteLength).set(bytes);
  return bytes.byteLength;
}
