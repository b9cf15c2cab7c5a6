"""The textual-inversion fixtures of the integration tests: small random embeddings for the diffusers-tiny sd-tiny
text encoder (vector size 32), in both file layouts, with their vectors as .npy for the tests to feed directly.

    /usr/bin/python3 tools/textual-inversion/make_fixtures.py OUT_DIR

Writes OUT_DIR/tiny-pair.safetensors (A1111: emb_params [2, 32]) and OUT_DIR/learned_embeds.safetensors (diffusers:
{"<tiny-toy>": [32]}), and tiny-pair.npy, tiny-toy.npy.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lora"))
from lora_merge import write_safetensors  # noqa: E402


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1313)
    # ten times the size of sd-tiny's own token vectors (std 0.02), as trained embeddings often are
    pair = (rng.standard_normal((2, 32)) * 0.2).astype(np.float32)
    toy = (rng.standard_normal(32) * 0.2).astype(np.float32)
    write_safetensors(os.path.join(out, "tiny-pair.safetensors"), {"emb_params": pair},
                      {"format": "pt", "name": "tiny-pair"})
    write_safetensors(os.path.join(out, "learned_embeds.safetensors"), {"<tiny-toy>": toy})
    np.save(os.path.join(out, "tiny-pair.npy"), pair)
    np.save(os.path.join(out, "tiny-toy.npy"), toy)


if __name__ == "__main__":
    main()
