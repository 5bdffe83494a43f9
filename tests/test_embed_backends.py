"""Embedding backends: the ONNX export gives the torch model's vectors, and the CLI's light
commands never import torch."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

SENTENCES = [
    "Members asked about the bus subsidy for rural routes.",
    "The Cabinet Member confirmed that the budget would be reviewed in March.",
    "RESOLVED that the report be noted.",
    "What is being done about fly-tipping in country lanes?",
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx-cache")


def test_onnx_query_vectors_match_torch(cache, monkeypatch):
    np = pytest.importorskip("numpy")
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("MINUTES_CACHE", str(cache))
    from minutes.search.embed import Embedder, onnx_path_for, resolve_model_path

    torch_embedder = Embedder(backend="torch")
    st = torch_embedder._load()  # exports the ONNX copy as a side effect
    if not onnx_path_for(resolve_model_path("all-MiniLM-L6-v2")).is_file():
        pytest.skip("this torch cannot export ONNX")
    reference = st.encode(SENTENCES, normalize_embeddings=True)
    for backend in ("onnx", "torch"):  # torch: short inputs take the ONNX query path
        got = np.asarray(Embedder(backend=backend).encode(SENTENCES))
        cosines = (got * reference).sum(axis=1)
        assert cosines.min() > 0.9999, (backend, cosines)
    one = np.asarray(Embedder().encode([SENTENCES[0]])[0])
    assert float(one @ reference[0]) > 0.9999


@pytest.mark.parametrize("native, device, expected", [
    (True, None, "bf16"), (False, None, "torch"), (True, "cuda", "torch"), (True, "cpu", "bf16")])
def test_auto_backend_takes_bf16_only_on_a_cpu_that_computes_it(monkeypatch, native, device, expected):
    from minutes.search import embed

    monkeypatch.delenv(embed.ENV_BACKEND, raising=False)
    monkeypatch.setattr(embed, "cpu_has_bf16", lambda: native)
    assert embed.Embedder(device=device).backend == expected
    assert embed.Embedder(device=device, backend="torch").backend == "torch"


def test_bad_backend_is_a_model_error():
    from minutes.errors import ModelError
    from minutes.search.embed import Embedder

    with pytest.raises(ModelError):
        Embedder(backend="tensorflow")


PROBE = (
    "import sys, json\n"
    "from minutes.cli import main\n"
    "sys.argv = ['minutes', *json.loads(sys.argv[1])]\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    "print(json.dumps([m for m in ('torch', 'sentence_transformers', 'transformers', 'chromadb', 'spacy')"
    " if m in sys.modules]), file=sys.stderr)\n"
)


@pytest.mark.parametrize("argv", [["--help"], ["status", "--json"], ["search", "--help"]])
def test_light_commands_never_import_torch(argv, tmp_path):
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps([*argv, *(["--store", str(tmp_path / "s")]
                                                                          if argv[0] == "status" else [])])],
                         capture_output=True, text=True, timeout=120)
    imported = json.loads(out.stderr.strip().splitlines()[-1])
    assert "torch" not in imported and "sentence_transformers" not in imported, imported


def test_bf16_backend_is_within_rounding_of_torch():
    np = pytest.importorskip("numpy")
    from minutes.search.embed import SMALL_INPUT, Embedder

    texts = [f"{s} (item {i})" for i, s in enumerate(SENTENCES * 3)]
    assert len(texts) > SMALL_INPUT  # a batch, not the query path
    reference = np.asarray(Embedder(backend="torch").encode(texts))
    got = np.asarray(Embedder(backend="bf16").encode(texts))
    cosines = (got * reference).sum(axis=1)
    assert cosines.min() > 0.999, cosines
    assert not np.array_equal(got, reference)  # it really ran in bfloat16
