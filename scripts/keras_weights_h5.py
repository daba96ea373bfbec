"""Writes a Keras 3 model.weights.h5 with h5py, for scripts/make_keras_fixtures.mjs (which writes everything else).

Reads JSON from stdin: {"groups": [paths of empty groups], "datasets": [{"path", "shape", "dtype", "data",
"gzip"}]} and writes the HDF5 file named by argv[1]. Keras 3's saving_lib creates a `vars` group for every saveable
object and one dataset per variable (`vars/0`, `vars/1`, ...) with plain `group[key] = value` (contiguous, no
filters); "gzip" makes a dataset chunked and gzip-compressed instead, to check that the reader handles them too.
Needs Debian's python3-h5py (apt-get install python3-h5py); run through /usr/bin/python3.
"""
import json
import sys

import h5py
import numpy as np


def main():
    spec = json.load(sys.stdin)
    with h5py.File(sys.argv[1], "w") as f:
        for path in spec["groups"]:
            f.require_group(path)
        for d in spec["datasets"]:
            value = np.array(d["data"], dtype=d["dtype"]).reshape(d["shape"])
            if d.get("gzip"):
                chunks = tuple(max(1, s // 2) for s in value.shape) or None
                f.create_dataset(d["path"], data=value, chunks=chunks, compression="gzip", shuffle=True)
            else:
                f[d["path"]] = value


if __name__ == "__main__":
    main()
