"""save/load: .npz without pickle, atomic writes, and all-or-nothing loading."""

from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import nn
from autograd_lite.io import CheckpointError, read_state


def _net(seed=0):
    return nn.MLP(4, [5, 3], activation="tanh", seed=seed)


def _snapshot(module):
    return {k: v.copy() for k, v in module.state_dict().items()}


def _assert_unchanged(module, snapshot):
    state = module.state_dict()
    assert list(state) == list(snapshot)
    for k in snapshot:
        np.testing.assert_array_equal(state[k], snapshot[k])


def test_roundtrip_restores_outputs(tmp_path):
    a, b = _net(0), _net(1)
    X = np.random.default_rng(0).normal(size=(3, 4))
    path = tmp_path / "model.npz"
    assert al.save(a, path) == str(path)
    assert not np.allclose(a(X).data, b(X).data)
    assert al.load(b, path) is b
    np.testing.assert_array_equal(a(X).data, b(X).data)
    with np.load(path, allow_pickle=False) as f:
        assert sorted(f.files) == sorted(name for name, _ in a.named_parameters())


def test_scalar_parameters_and_float32_roundtrip(tmp_path):
    p = nn.Perceptron(3, seed=0)
    p.bias.data = 0.75
    al.save(p, tmp_path / "p.npz")
    q = nn.Perceptron(3, seed=1)
    al.load(q, tmp_path / "p.npz")
    assert isinstance(q.bias.data, float) and q.bias.data == 0.75
    f32 = nn.Linear(2, 2, seed=0, dtype=np.float32)
    al.save(f32, tmp_path / "f.npz")
    target = nn.Linear(2, 2, seed=1, dtype=np.float32)
    al.load(target, tmp_path / "f.npz")
    assert target.weight.dtype == np.float32
    np.testing.assert_array_equal(target.weight.data, f32.weight.data)


def test_save_writes_exact_path_and_leaves_no_temp_files(tmp_path):
    al.save(_net(), tmp_path / "weights.bin")
    assert os.listdir(tmp_path) == ["weights.bin"]
    assert zipfile.is_zipfile(tmp_path / "weights.bin")


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    al.save(_net(0), path)
    before = path.read_bytes()

    def broken_savez(f, **arrays):
        f.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        al.save(_net(1), path)
    assert path.read_bytes() == before  # the old checkpoint survives intact
    assert os.listdir(tmp_path) == ["model.npz"]  # the temp file was removed


def test_save_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"folder .*nope.* does not exist"):
        al.save(_net(), tmp_path / "nope" / "m.npz")
    with pytest.raises(TypeError, match="expected a Module with state_dict"):
        al.save([1, 2], tmp_path / "m.npz")


@pytest.mark.parametrize("call", ["save", "load", "save_checkpoint", "load_checkpoint"])
def test_a_path_that_is_no_path_or_a_folder_names_the_function(tmp_path, call):
    # os.fspath's "expected str, bytes or os.PathLike object, not NoneType" named no function
    net = _net(0)
    opt = al.optim.SGD(net.parameters(), lr=0.1)
    args = (net, opt) if "checkpoint" in call else (net,)
    snap = _snapshot(net)
    with pytest.raises(
        TypeError, match=rf"^{call}: path must be a str or os.PathLike, got NoneType"
    ):
        getattr(al, call)(*args, None)
    if call.startswith("save"):  # a folder was replaced by os.replace's IsADirectoryError
        with pytest.raises(IsADirectoryError, match=rf"^{call}: .* is a folder"):
            getattr(al, call)(*args, tmp_path)
        assert tmp_path.is_dir() and os.listdir(tmp_path) == []
    _assert_unchanged(net, snap)


def test_missing_key_names_it_and_leaves_module_unchanged(tmp_path):
    state = _net(1).state_dict()
    del state["2.bias"]
    np.savez(tmp_path / "m.npz", **state)
    net = _net(0)
    snap = _snapshot(net)
    with pytest.raises(CheckpointError, match=r"m\.npz: .*missing key\(s\) \['2\.bias'\]"):
        al.load(net, tmp_path / "m.npz")
    _assert_unchanged(net, snap)


def test_wrong_shape_names_key_and_shapes(tmp_path):
    al.save(nn.MLP(4, [6, 3], activation="tanh", seed=1), tmp_path / "m.npz")
    net = _net(0)
    snap = _snapshot(net)
    with pytest.raises(
        CheckpointError,
        match=r"key '0\.weight' has shape \(6, 4\), but the parameter has shape \(5, 4\)",
    ):
        al.load(net, tmp_path / "m.npz")
    _assert_unchanged(net, snap)


def test_extra_keys_rejected_unless_not_strict(tmp_path):
    state = _net(1).state_dict()
    np.savez(tmp_path / "m.npz", **state, optimizer_step=np.array(3))
    net = _net(0)
    snap = _snapshot(net)
    with pytest.raises(CheckpointError, match=r"unexpected key\(s\) \['optimizer_step'\]"):
        al.load(net, tmp_path / "m.npz")
    _assert_unchanged(net, snap)
    al.load(net, tmp_path / "m.npz", strict=False)
    np.testing.assert_array_equal(net[0].weight.data, state["0.weight"])


def test_random_bytes_file_is_rejected(tmp_path):
    path = tmp_path / "garbage.npz"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    net = _net(0)
    snap = _snapshot(net)
    with pytest.raises(CheckpointError, match=r"garbage\.npz is not a valid \.npz checkpoint"):
        al.load(net, path)
    _assert_unchanged(net, snap)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_truncated_npz_is_rejected(tmp_path, keep):
    good = tmp_path / "good.npz"
    al.save(nn.MLP(4, [50, 3], seed=1), good)
    data = good.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: int(len(data) * keep)])
    net = nn.MLP(4, [50, 3], seed=0)
    snap = _snapshot(net)
    with pytest.raises(CheckpointError, match=r"cut\.npz is not a valid \.npz checkpoint"):
        al.load(net, cut)
    _assert_unchanged(net, snap)


def test_pickled_content_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"0.weight": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(
        CheckpointError,
        match=r"evil\.npz contains pickled objects, which are refused \(allow_pickle=False\)",
    ):
        read_state(path)


def test_single_npy_file_and_missing_file(tmp_path):
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(CheckpointError, match=r"holds a single array, not an \.npz checkpoint"):
        al.load(_net(), tmp_path / "one.npy")
    with pytest.raises(FileNotFoundError, match=r"no checkpoint file at .*absent\.npz"):
        al.load(_net(), tmp_path / "absent.npz")
    with pytest.raises(TypeError, match="expected a Module with load_state_dict"):
        al.load("net", tmp_path / "one.npy")
