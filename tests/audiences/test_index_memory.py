"""The index is built one tag at a time: the first count after a tag run holds the rows about once, not
a filtered and a sorted copy of every tag's rows besides."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import json
import numpy as np
import pyarrow as pa
from tagora.audiences import store

rng = np.random.default_rng(1)
people, tags = 60_000, 30
uid = np.tile(np.arange(people), tags)
tag = np.repeat(np.array([f"tag_{t:02d}" for t in range(tags)]), people)
order = rng.permutation(len(uid))  # the tag store returns rows in no particular order
values = pa.table({
    "uid": uid[order], "tag": tag[order], "value": rng.choice(["gold", "silver", "bronze"], len(uid)),
    "number": rng.normal(size=len(uid)), "weight": np.ones(len(uid)),
})
catalogue = {f"tag_{t:02d}": ("number" if t % 2 else "enum") for t in range(tags)}
pool = pa.default_memory_pool()
before = pool.bytes_allocated()
index = store.build_index(np.arange(people), catalogue, values, "v")
print(json.dumps({"table": values.nbytes, "peak": pool.max_memory() - before, "tags": len(index.tags)}))
"""


def test_building_the_index_holds_little_more_than_the_tag_rows_themselves() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert figures["tags"] == 30
    # A filtered copy and a sorted copy of every row were two tables more; one tag's rows are 1/30th.
    assert figures["peak"] < 0.5 * figures["table"]
