#!/usr/bin/env python3
"""Generates test/fixtures/keras/ for test/keras-import.test.ts.

Run as `/usr/bin/python3 scripts/make_keras_fixtures.py` (h5py, numpy and zipfile only; Debian's
python3-h5py). Deterministic weights and inputs (numpy's seeded generator).

Neither TensorFlow nor Keras is installed where this runs, so the files are not written by Keras:
this is an independent writer of the layouts Keras documents and its saving code follows, and the
expected outputs are computed here in numpy with plain loops. The facts each file follows:

Keras 3 `.keras` (keras/src/saving/saving_lib.py, "The .keras format"):
  * a zip archive holding `metadata.json` ({"keras_version", "date_saved"}), `config.json` (the
    model's `serialize_keras_object` form: {"module", "class_name", "config", "registered_name",
    "build_config", "compile_config"}) and `model.weights.h5`. Keras opens the zip with
    `zipfile.ZipFile(f, "w")`, whose default compression is ZIP_STORED; we store config.json
    deflated anyway, so the reader is tested on both methods.
  * in config.json, a functional layer's `inbound_nodes` are Keras 3's call records:
    [{"args": [...], "kwargs": {}}], each tensor written as {"class_name": "__keras_tensor__",
    "config": {"shape", "dtype", "keras_history": [layer, node_index, tensor_index]}}; a merge
    layer's single argument is the list of its input tensors. `input_layers`/`output_layers` are
    [layer, node, tensor] triples. dtypes are DTypePolicy objects, InputLayer has `batch_shape`.
  * model.weights.h5 (H5IOStore): `_save_state` walks the model; a layer's variables are written
    by `Layer.save_own_variables` as `<path>/vars/<i>` for i over trainable then non-trainable
    variables in creation order (Dense: kernel, bias; Conv2D: kernel, bias; BatchNormalization:
    gamma, beta, moving_mean, moving_variance). `<path>` is `layers/<layer.name>` for a model's
    `layers` list (nested models: `layers/<outer>/layers/<inner>`); the model itself gets an empty
    root `vars` group, and so does every layer without variables (InputLayer, pooling, Flatten).
    Sequential's `layers` excludes its InputLayer; a Functional model's includes it. A recurrent
    layer's variables belong to its `cell` attribute: `layers/lstm/cell/vars/0..2` (kernel,
    recurrent_kernel, bias; gates i, f, c, o).

Legacy Keras 2 `.h5` (tf.keras `model.save('x.h5')`, keras/saving/legacy/hdf5_format.py):
  * root attributes `keras_version`, `backend` (strings) and `model_config` (the JSON of
    {"class_name", "config"} in Keras 2 spelling, stored as UTF-8 bytes);
  * group `model_weights` with attributes `layer_names` (array of byte strings, the model's
    `layers`; Sequential excludes its InputLayer), `backend`, `keras_version`; one group per layer
    with attribute `weight_names` (byte strings such as b'dense/kernel:0', in the layer's weight
    order; empty for a layer without weights), each weight a dataset at that path inside the
    layer's group (`model_weights/dense/dense/kernel:0`). A layer without weights (the Dropout here)
    still has its group, its `weight_names` an empty list, which h5py stores as an empty float64 array.

Layouts: Dense kernel [in, units]; Conv2D kernel [kh, kw, in, out] on NHWC inputs; Flatten keeps
NHWC's row-major order. Expected outputs go to expected.json with their inputs.
"""
import io
import json
import os
import zipfile

import h5py
import numpy as np

OUT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "keras"))
rng = np.random.default_rng(20261207)


def rand(*shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


# ---- numpy reference ops (float64 on float32 values) -------------------------------------------


def conv2d_valid(x, k, b):
    n, h, w, _ = x.shape
    kh, kw, _, co = k.shape
    out = np.zeros((n, h - kh + 1, w - kw + 1, co))
    for i in range(h - kh + 1):
        for j in range(w - kw + 1):
            patch = x[:, i : i + kh, j : j + kw, :].astype(np.float64)
            out[:, i, j, :] = np.tensordot(patch, k.astype(np.float64), axes=([1, 2, 3], [0, 1, 2]))
    return out + b


def max_pool_2x2(x):
    n, h, w, c = x.shape
    out = np.full((n, h // 2, w // 2, c), -np.inf)
    for i in range(h // 2):
        for j in range(w // 2):
            out[:, i, j, :] = x[:, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2, :].max(axis=(1, 2))
    return out


def dense(x, k, b):
    return x.astype(np.float64) @ k.astype(np.float64) + b


def relu(x):
    return np.maximum(x, 0)


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def batch_norm(x, gamma, beta, mean, var, eps):
    return (x - mean) / np.sqrt(var.astype(np.float64) + eps) * gamma + beta


# ---- config pieces ----------------------------------------------------------------------------


def policy():
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}


def initializer(name):
    return {"module": "keras.initializers", "class_name": name, "config": {"seed": None}, "registered_name": None}


def k3_layer(class_name, config, input_shape=None):
    entry = {"module": "keras.layers", "class_name": class_name, "config": config, "registered_name": None}
    if input_shape is not None:
        entry["build_config"] = {"input_shape": input_shape}
    return entry


def k3_dense(name, units, activation, input_shape):
    return k3_layer(
        "Dense",
        {
            "name": name,
            "trainable": True,
            "dtype": policy(),
            "units": units,
            "activation": activation,
            "use_bias": True,
            "kernel_initializer": initializer("GlorotUniform"),
            "bias_initializer": initializer("Zeros"),
            "kernel_regularizer": None,
            "bias_regularizer": None,
            "kernel_constraint": None,
            "bias_constraint": None,
        },
        input_shape,
    )


def k3_tensor(layer, shape):
    return {"class_name": "__keras_tensor__", "config": {"shape": shape, "dtype": "float32", "keras_history": [layer, 0, 0]}}


def write_keras(path, config, weights):
    """weights: h5 path of a layer ('layers/dense') -> list of arrays in save_own_variables order;
    every other layer path gets an empty vars group, as Keras writes them."""
    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:
        h5.create_group("vars")
        for layer_path, arrays in weights.items():
            group = h5.require_group(layer_path).create_group("vars")
            for i, a in enumerate(arrays):
                group.create_dataset(str(i), data=a)
    with zipfile.ZipFile(path, "w") as zf:
        # Fixed entry times keep the files the same from run to run.
        stamp = (2026, 12, 7, 6, 0, 0)
        zf.writestr(zipfile.ZipInfo("metadata.json", stamp), json.dumps({"keras_version": "3.6.0", "date_saved": "2026-12-07@06:00:00"}))
        zf.writestr(zipfile.ZipInfo("config.json", stamp), json.dumps(config), compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr(zipfile.ZipInfo("model.weights.h5", stamp), buf.getvalue())


# ---- model 1: Sequential Conv2D -> MaxPooling2D -> Flatten -> Dense (.keras) -------------------


def sequential_keras(expected):
    conv_k, conv_b = rand(3, 3, 2, 3), rand(3, scale=0.1)
    dense_k, dense_b = rand(12, 4), rand(4, scale=0.1)
    layers = [
        k3_layer("InputLayer", {"batch_shape": [None, 6, 6, 2], "dtype": "float32", "sparse": False, "name": "input_layer"}),
        k3_layer(
            "Conv2D",
            {
                "name": "conv2d",
                "trainable": True,
                "dtype": policy(),
                "filters": 3,
                "kernel_size": [3, 3],
                "strides": [1, 1],
                "padding": "valid",
                "data_format": "channels_last",
                "dilation_rate": [1, 1],
                "groups": 1,
                "activation": "relu",
                "use_bias": True,
                "kernel_initializer": initializer("GlorotUniform"),
                "bias_initializer": initializer("Zeros"),
                "kernel_regularizer": None,
                "bias_regularizer": None,
                "activity_regularizer": None,
                "kernel_constraint": None,
                "bias_constraint": None,
            },
            [None, 6, 6, 2],
        ),
        k3_layer(
            "MaxPooling2D",
            {
                "name": "max_pooling2d",
                "trainable": True,
                "dtype": policy(),
                "pool_size": [2, 2],
                "padding": "valid",
                "strides": [2, 2],
                "data_format": "channels_last",
            },
            [None, 4, 4, 3],
        ),
        k3_layer("Flatten", {"name": "flatten", "trainable": True, "dtype": policy(), "data_format": "channels_last"}, [None, 2, 2, 3]),
        k3_dense("dense", 4, "softmax", [None, 12]),
    ]
    config = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "sequential", "trainable": True, "dtype": policy(), "layers": layers, "build_input_shape": [None, 6, 6, 2]},
        "registered_name": None,
        "build_config": {"input_shape": [None, 6, 6, 2]},
        "compile_config": None,
    }
    write_keras(
        os.path.join(OUT, "sequential.keras"),
        config,
        {"layers/conv2d": [conv_k, conv_b], "layers/max_pooling2d": [], "layers/flatten": [], "layers/dense": [dense_k, dense_b]},
    )
    x = rand(2, 6, 6, 2, scale=1.0)
    h = max_pool_2x2(relu(conv2d_valid(x, conv_k, conv_b))).reshape(2, 12)
    expected["sequential.keras"] = {"input": x, "output": softmax(dense(h, dense_k, dense_b))}


# ---- model 2: Functional with Add and BatchNormalization (.keras) -----------------------------


def functional_keras(expected):
    k1, b1 = rand(5, 4), rand(4, scale=0.1)
    k2, b2 = rand(5, 4), rand(4, scale=0.1)
    gamma, beta = (1 + rand(4, scale=0.2)), rand(4, scale=0.2)
    mean, var = rand(4, scale=0.3), (0.5 + rng.random(4)).astype(np.float32)
    k3, b3 = rand(4, 3), rand(3, scale=0.1)
    layers = [
        {**k3_layer("InputLayer", {"batch_shape": [None, 5], "dtype": "float32", "sparse": False, "name": "input_layer"}), "name": "input_layer", "inbound_nodes": []},
    ]

    def called(entry, name, args):
        return {**entry, "name": name, "inbound_nodes": [{"args": args, "kwargs": {}}]}

    layers.append(called(k3_dense("left", 4, "relu", [None, 5]), "left", [k3_tensor("input_layer", [None, 5])]))
    layers.append(called(k3_dense("right", 4, "linear", [None, 5]), "right", [k3_tensor("input_layer", [None, 5])]))
    add = k3_layer("Add", {"name": "add", "trainable": True, "dtype": policy()}, [[None, 4], [None, 4]])
    layers.append(called(add, "add", [[k3_tensor("left", [None, 4]), k3_tensor("right", [None, 4])]]))
    bn = k3_layer(
        "BatchNormalization",
        {
            "name": "batch_normalization",
            "trainable": True,
            "dtype": policy(),
            "axis": -1,
            "momentum": 0.99,
            "epsilon": 0.001,
            "center": True,
            "scale": True,
            "beta_initializer": initializer("Zeros"),
            "gamma_initializer": initializer("Ones"),
            "moving_mean_initializer": initializer("Zeros"),
            "moving_variance_initializer": initializer("Ones"),
            "beta_regularizer": None,
            "gamma_regularizer": None,
            "beta_constraint": None,
            "gamma_constraint": None,
            "synchronized": False,
        },
        [None, 4],
    )
    layers.append(called(bn, "batch_normalization", [k3_tensor("add", [None, 4])]))
    layers.append(called(k3_dense("head", 3, "softmax", [None, 4]), "head", [k3_tensor("batch_normalization", [None, 4])]))
    config = {
        "module": "keras.src.models.functional",
        "class_name": "Functional",
        "config": {
            "name": "functional",
            "trainable": True,
            "layers": layers,
            "input_layers": [["input_layer", 0, 0]],
            "output_layers": [["head", 0, 0]],
        },
        "registered_name": "Functional",
        "build_config": {"input_shape": None},
        "compile_config": None,
    }
    write_keras(
        os.path.join(OUT, "functional.keras"),
        config,
        {
            "layers/input_layer": [],
            "layers/left": [k1, b1],
            "layers/right": [k2, b2],
            "layers/add": [],
            "layers/batch_normalization": [gamma, beta, mean, var],
            "layers/head": [k3, b3],
        },
    )
    x = rand(3, 5, scale=1.0)
    s = relu(dense(x, k1, b1)) + dense(x, k2, b2)
    expected["functional.keras"] = {"input": x, "output": softmax(dense(batch_norm(s, gamma, beta, mean, var, 1e-3), k3, b3))}


# ---- model 3: Sequential LSTM -> nested Functional (.keras): sub-layer and nested-model paths -----


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def lstm_last(x, kernel, recurrent, bias, units):
    """Keras's LSTM (gates i, f, c, o; tanh and sigmoid), returning the last step's output."""
    h = np.zeros((x.shape[0], units))
    c = np.zeros((x.shape[0], units))
    for t in range(x.shape[1]):
        z = x[:, t, :].astype(np.float64) @ kernel + h @ recurrent + bias
        i, f, g, o = (z[:, k * units : (k + 1) * units] for k in range(4))
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
    return h


def nested_keras(expected):
    units = 5
    kernel, recurrent, bias = rand(3, 4 * units), rand(units, 4 * units), rand(4 * units, scale=0.1)
    k, b = rand(units, 3), rand(3, scale=0.1)
    lstm = k3_layer(
        "LSTM",
        {
            "name": "lstm",
            "trainable": True,
            "dtype": policy(),
            "return_sequences": False,
            "return_state": False,
            "go_backwards": False,
            "stateful": False,
            "unroll": False,
            "zero_output_for_mask": False,
            "units": units,
            "activation": "tanh",
            "recurrent_activation": "sigmoid",
            "use_bias": True,
            "kernel_initializer": initializer("GlorotUniform"),
            "recurrent_initializer": initializer("Orthogonal"),
            "bias_initializer": initializer("Zeros"),
            "unit_forget_bias": True,
            "kernel_regularizer": None,
            "recurrent_regularizer": None,
            "bias_regularizer": None,
            "activity_regularizer": None,
            "kernel_constraint": None,
            "recurrent_constraint": None,
            "bias_constraint": None,
            "dropout": 0.0,
            "recurrent_dropout": 0.0,
            "seed": None,
        },
        [None, 4, 3],
    )
    inner = {
        "module": "keras.src.models.functional",
        "class_name": "Functional",
        "config": {
            "name": "head_block",
            "trainable": True,
            "layers": [
                {**k3_layer("InputLayer", {"batch_shape": [None, units], "dtype": "float32", "sparse": False, "name": "head_input"}), "name": "head_input", "inbound_nodes": []},
                {**k3_dense("inner_dense", 3, "softmax", [None, units]), "name": "inner_dense", "inbound_nodes": [{"args": [k3_tensor("head_input", [None, units])], "kwargs": {}}]},
            ],
            "input_layers": [["head_input", 0, 0]],
            "output_layers": [["inner_dense", 0, 0]],
        },
        "registered_name": "Functional",
        "build_config": {"input_shape": [None, units]},
    }
    config = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "name": "sequential_nested",
            "trainable": True,
            "dtype": policy(),
            "layers": [k3_layer("InputLayer", {"batch_shape": [None, 4, 3], "dtype": "float32", "sparse": False, "name": "input_layer"}), lstm, inner],
        },
        "registered_name": None,
        "build_config": {"input_shape": [None, 4, 3]},
        "compile_config": None,
    }
    # The LSTM's variables belong to its `cell` attribute (an LSTMCell layer), so they sit under
    # layers/lstm/cell/vars; the nested model's layers under layers/head_block/layers/<name>.
    write_keras(
        os.path.join(OUT, "nested.keras"),
        config,
        {
            "layers/lstm": [],
            "layers/lstm/cell": [kernel, recurrent, bias],
            "layers/head_block": [],
            "layers/head_block/layers/head_input": [],
            "layers/head_block/layers/inner_dense": [k, b],
        },
    )
    x = rand(2, 4, 3, scale=1.0)
    expected["nested.keras"] = {"input": x, "output": softmax(dense(lstm_last(x, kernel, recurrent, bias, units), k, b))}


# ---- model 4: legacy Keras 2 whole-model .h5 (Sequential Dense -> BN -> Dense) ----------------


def legacy_h5(expected):
    k1, b1 = rand(4, 6), rand(6, scale=0.1)
    gamma, beta = (1 + rand(6, scale=0.2)), rand(6, scale=0.2)
    mean, var = rand(6, scale=0.3), (0.5 + rng.random(6)).astype(np.float32)
    k2, b2 = rand(6, 2), rand(2, scale=0.1)

    def k2_dense(name, units, activation):
        return {
            "class_name": "Dense",
            "config": {
                "name": name,
                "trainable": True,
                "dtype": "float32",
                "units": units,
                "activation": activation,
                "use_bias": True,
                "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
                "bias_initializer": {"class_name": "Zeros", "config": {}},
                "kernel_regularizer": None,
                "bias_regularizer": None,
                "activity_regularizer": None,
                "kernel_constraint": None,
                "bias_constraint": None,
            },
        }

    model_config = {
        "class_name": "Sequential",
        "config": {
            "name": "sequential",
            "layers": [
                {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "dtype": "float32", "sparse": False, "ragged": False, "name": "dense_input"}},
                k2_dense("dense", 6, "relu"),
                {
                    "class_name": "BatchNormalization",
                    "config": {"name": "batch_normalization", "trainable": True, "dtype": "float32", "axis": [1], "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True},
                },
                {"class_name": "Dropout", "config": {"name": "dropout", "trainable": True, "dtype": "float32", "rate": 0.25, "noise_shape": None, "seed": None}},
                k2_dense("dense_1", 2, "softmax"),
            ],
        },
    }
    weights = {
        "dense": [("dense/kernel:0", k1), ("dense/bias:0", b1)],
        "batch_normalization": [
            ("batch_normalization/gamma:0", gamma),
            ("batch_normalization/beta:0", beta),
            ("batch_normalization/moving_mean:0", mean),
            ("batch_normalization/moving_variance:0", var),
        ],
        "dropout": [],
        "dense_1": [("dense_1/kernel:0", k2), ("dense_1/bias:0", b2)],
    }
    with h5py.File(os.path.join(OUT, "legacy.h5"), "w") as f:
        f.attrs["keras_version"] = "2.13.1"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(model_config).encode("utf8")
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = np.array([n.encode("utf8") for n in weights])
        g.attrs["backend"] = "tensorflow"
        g.attrs["keras_version"] = "2.13.1"
        for layer, named in weights.items():
            lg = g.create_group(layer)
            # Keras assigns the Python list; an empty one (a layer without weights) becomes an empty float64 array.
            lg.attrs["weight_names"] = [n.encode("utf8") for n, _ in named]
            for n, a in named:
                lg.create_dataset(n, data=a)
    x = rand(3, 4, scale=1.0)
    h = batch_norm(relu(dense(x, k1, b1)), gamma, beta, mean, var, 1e-3)
    expected["legacy.h5"] = {"input": x, "output": softmax(dense(h, k2, b2))}


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    sequential_keras(expected)
    functional_keras(expected)
    nested_keras(expected)
    legacy_h5(expected)
    out = {
        name: {k: {"shape": list(v.shape), "values": [float("%.9g" % e) for e in np.asarray(v, dtype=np.float64).ravel()]} for k, v in entry.items()}
        for name, entry in expected.items()
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
