#!/usr/bin/python3
"""PyTorch side of `npm run bench`: the same measurements as bench/suite.ts, printed as JSON.

Run by bench/run.ts with /usr/bin/python3 (Debian's python3-torch). Progress goes to stderr,
the result to stdout. Models are NCHW here; the work per step is the same as Strata's NHWC.
"""
import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError as e:  # run.ts reports this and carries on with Strata only
    print(json.dumps({"error": f"PyTorch is not importable: {e}"}))
    sys.exit(0)


def log(msg):
    print(f"[torch] {msg}", file=sys.stderr, flush=True)


def now_ms():
    return time.perf_counter_ns() / 1e6


def time_it(fn, warmup=2, budget_seconds=2.0, min_reps=3, max_reps=15, inner=1):
    """Mirror of bench/measure.ts timeIt: warm-up, then adaptive repetitions; per-call ms."""
    estimate = 0.0
    for _ in range(max(1, warmup)):
        t0 = now_ms()
        for _ in range(inner):
            fn()
        estimate = (now_ms() - t0) / inner
    reps = max(min_reps, min(max_reps, int(budget_seconds * 1000 / max(estimate * inner, 1e-3))))
    samples = []
    for _ in range(reps):
        t0 = now_ms()
        for _ in range(inner):
            fn()
        samples.append((now_ms() - t0) / inner)
    return {"median": statistics.median(samples), "min": min(samples), "samples": samples}


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def resident_parts():
    """The resident set's anonymous and file-backed parts in MB, as bench/measure.ts residentParts."""
    try:
        with open("/proc/self/status") as f:
            kb = {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in f) if v.strip().endswith("kB")}
        return {"anonMB": kb["RssAnon"] / 1024, "fileMB": (kb["RssFile"] + kb.get("RssShmem", 0)) / 1024}
    except (OSError, KeyError, ValueError):
        return {"anonMB": None, "fileMB": None}


def glorot(shape, fan_in, fan_out):
    limit = math.sqrt(6 / (fan_in + fan_out))
    return (torch.rand(shape) * 2 * limit - limit).requires_grad_()


def bias(n):
    return torch.zeros(n, requires_grad=True)


class Convnet:
    input_shape = (1, 28, 28)

    def __init__(self):
        self.params = [
            glorot((32, 1, 3, 3), 9 * 1, 9 * 32), bias(32),
            glorot((64, 32, 3, 3), 9 * 32, 9 * 64), bias(64),
            glorot((128, 64, 3, 3), 9 * 64, 9 * 128), bias(128),
            glorot((3 * 3 * 128, 10), 3 * 3 * 128, 10), bias(10),
        ]

    def forward(self, x):
        f1, b1, f2, b2, f3, b3, w, b = self.params
        h = F.max_pool2d(F.relu(F.conv2d(x, f1, b1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, f2, b2)), 2)
        h = F.relu(F.conv2d(h, f3, b3))
        return F.linear(h.reshape(x.shape[0], -1), w.t(), b)  # what nn.Linear runs (addmm)


class Mlp:
    input_shape = (784,)

    def __init__(self):
        self.params = [glorot((784, 512), 784, 512), bias(512), glorot((512, 10), 512, 10), bias(10)]

    def forward(self, x):
        w1, b1, w2, b2 = self.params
        # What nn.Linear layers run: F.linear (addmm, the bias inside the GEMM), as Strata's
        # side uses st.fused.matMul.
        return F.linear(F.relu(F.linear(x, w1.t(), b1)), w2.t(), b2)


class RMSprop:
    """Keras form, hand-written as in Strata: v = rho v + (1-rho) g^2; w -= lr g / sqrt(v + eps)."""

    def __init__(self, params, lr=1e-3, rho=0.9, eps=1e-7):
        self.lr, self.rho, self.eps = lr, rho, eps
        self.velocities = [torch.zeros_like(p) for p in params]

    @torch.no_grad()
    def update(self, params):
        for p, v in zip(params, self.velocities):
            g = p.grad
            v.mul_(self.rho).addcmul_(g, g, value=1 - self.rho)
            p.addcdiv_(g, (v + self.eps).sqrt_(), value=-self.lr)


def train_step(model, opt, x, y):
    for p in model.params:
        p.grad = None
    loss = F.cross_entropy(model.forward(x), y)
    loss.backward()
    opt.update(model.params)
    return loss


def random_dataset(n, input_shape):
    return torch.rand((n, *input_shape)), torch.randint(0, 10, (n,))


def run_epoch(model, opt, data, batch_size, steps):
    x, y = data
    n = x.shape[0]
    t0 = now_ms()
    loss = None
    for s in range(steps):
        start = (s * batch_size) % n
        loss = train_step(model, opt, x[start:start + batch_size], y[start:start + batch_size])
    return {"ms": now_ms() - t0, "loss": loss.item()}


SGEMM_SIZES = (256, 1024, 2048)


def measure_sgemm(n, budget):
    """torch.mm of two float32 n x n matrices, median ms and GFLOP/s (bench/suite.ts measureSgemm)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    t = time_it(lambda: torch.mm(a, b), warmup=1 if n >= 2048 else 2, budget_seconds=budget, max_reps=60)
    entry = {"ms": t["median"], "gflops": 2 * n**3 / (t["median"] * 1e6)}
    try:  # the same product through PyTorch's oneDNN (informational: torch.mm uses the system BLAS)
        am, bm = a.to_mkldnn(), b.t().contiguous().to_mkldnn()
        tm = time_it(lambda: torch._C._nn.mkldnn_linear(am, bm, None), budget_seconds=budget / 2)
        entry["mkldnn_gflops"] = 2 * n**3 / (tm["median"] * 1e6)
    except Exception as e:  # noqa: BLE001 - optional extra
        entry["mkldnn_error"] = str(e)
    return entry


def measure_train_step(make, budget):
    """Median training step over batches of 64 from 1,024 random images (bench/suite.ts measureTrainStep)."""
    model = make()
    opt = RMSprop(model.params)
    x, y = random_dataset(1024, make.input_shape)
    state = {"i": 0}

    def step():
        s = state["i"] % 16
        state["i"] += 1
        return train_step(model, opt, x[s * 64:(s + 1) * 64], y[s * 64:(s + 1) * 64])

    t = time_it(step, warmup=10, budget_seconds=budget * 1.5, min_reps=5, max_reps=300)
    return {"stepMs": t["median"], "minMs": t["min"]}


_epoch_data = {}


def measure_epoch(make):
    """One real 938-step epoch over 60,000 random images, a fresh model (bench/suite.ts measureEpoch)."""
    key = make.__name__.lower()
    if key not in _epoch_data:
        _epoch_data[key] = random_dataset(60000, make.input_shape)
    model = make()
    return run_epoch(model, RMSprop(model.params), _epoch_data[key], 64, 938)


CONV_LAYERS = [  # name, N, H, W, C, O (3x3 valid) -- same list as bench/suite.ts
    ("conv1 28x28x1->32", 64, 28, 28, 1, 32),
    ("conv2 13x13x32->64", 64, 13, 13, 32, 64),
    ("conv3 5x5x64->128", 64, 5, 5, 64, 128),
]



def measure_conv(name, budget):
    """Forward, input-gradient and filter-gradient times of one CONV_LAYERS entry (bench/suite.ts measureConv)."""
    _, n, h, w, c, o = next(layer for layer in CONV_LAYERS if layer[0] == name)
    x = torch.rand(n, c, h, w)
    f = torch.rand(o, c, 3, 3) - 0.5
    dy = torch.rand_like(F.conv2d(x, f)) - 0.5
    cb = torch.ops.aten.convolution_backward
    args_common = ([1, 1], [0, 0], [1, 1], False, [0, 0], 1)
    fwd = time_it(lambda: F.conv2d(x, f), budget_seconds=budget / 2)
    bin_ = time_it(lambda: cb(dy, x, f, None, *args_common, [True, False, False]), budget_seconds=budget / 2)
    bfi = time_it(lambda: cb(dy, x, f, None, *args_common, [False, True, False]), budget_seconds=budget / 2)
    return {"fwd": fwd["median"], "bwdInput": bin_["median"], "bwdFilter": bfi["median"]}


def measure_add(budget):
    """Microseconds per torch.add of two 4-element tensors: the per-op overhead."""
    a, b = torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.tensor([0.5, 0.25, 0.125, 1.0])
    t = time_it(lambda: torch.add(a, b), inner=10000, budget_seconds=budget / 2, min_reps=5)
    return {"us": t["median"] * 1000}


def measure_inference(budget):
    """Images per second of the convnet's forward pass over 10,000 images in batches of 500."""
    model = Convnet()
    images = torch.rand(10000, 1, 28, 28)

    def infer():
        with torch.no_grad():
            for s in range(0, 10000, 500):
                model.forward(images[s:s + 500])

    t = time_it(infer, warmup=1, budget_seconds=budget, min_reps=3, max_reps=5)
    return {"imagesPerSec": 10000 / (t["median"] / 1000), "passMs": t["median"]}


def serve():
    """Answers one JSON command per stdin line with one JSON line, so that bench/run.ts can
    interleave the two frameworks' timed rows round by round (bench/README.md, Method)."""
    makes = {"convnet": Convnet, "mlp": Mlp}
    print(json.dumps({"ready": True, "version": torch.__version__}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "sgemm":
            reply = measure_sgemm(cmd["n"], cmd["budget"])
        elif cmd["cmd"] == "train":
            reply = measure_train_step(makes[cmd["model"]], cmd["budget"])
        elif cmd["cmd"] == "epoch":
            reply = measure_epoch(makes[cmd["model"]])
        elif cmd["cmd"] == "conv":
            reply = measure_conv(cmd["layer"], cmd["budget"])
        elif cmd["cmd"] == "add":
            reply = measure_add(cmd["budget"])
        elif cmd["cmd"] == "sequence":
            reply = measure_sequence_step(cmd["model"], cmd["budget"])
        elif cmd["cmd"] == "inference":
            reply = measure_inference(cmd["budget"])
        elif cmd["cmd"] == "quit":
            return
        else:
            reply = {"error": f"unknown command {cmd['cmd']!r}"}
        print(json.dumps(reply), flush=True)


class LstmNet(torch.nn.Module):
    """[64, 50, 32] -> LSTM(128) -> last hidden state -> Linear(10): bench/sequence.ts's `lstm`."""

    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(32, 128, batch_first=True)
        self.fc = torch.nn.Linear(128, 10)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.fc(h[-1])


class GruNet(torch.nn.Module):
    """[64, 50, 32] -> GRU(128) -> last hidden state -> Linear(10): bench/sequence.ts's `gru`
    (PyTorch's GRU is Keras's resetAfter form)."""

    def __init__(self):
        super().__init__()
        self.gru = torch.nn.GRU(32, 128, batch_first=True)
        self.fc = torch.nn.Linear(128, 10)

    def forward(self, x):
        _, h = self.gru(x)
        return self.fc(h[-1])


class MhaNet(torch.nn.Module):
    """[32, 64, 128] -> self-attention, 8 heads of 16 -> mean over time -> Linear(10)."""

    def __init__(self):
        super().__init__()
        self.mha = torch.nn.MultiheadAttention(128, 8, batch_first=True)
        self.fc = torch.nn.Linear(128, 10)

    def forward(self, x):
        a, _ = self.mha(x, x, x, need_weights=False)
        return self.fc(a.mean(1))


SEQUENCE_MODELS = {"lstm": (LstmNet, (64, 50, 32)), "gru": (GruNet, (64, 50, 32)), "mha": (MhaNet, (32, 64, 128))}


def measure_sequence_step(key, budget):
    """A training step (forward, cross-entropy, backward, RMSprop) of one sequence model."""
    make, shape = SEQUENCE_MODELS[key]
    model = make()
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    x, y = torch.randn(*shape), torch.randint(0, 10, (shape[0],))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    t = time_it(step, warmup=10, budget_seconds=budget * 1.5, min_reps=5, max_reps=300)
    return {"stepMs": t["median"], "minMs": t["min"]}


def blas_library():
    """The BLAS torch.mm runs on: the libblas.so.3 this process mapped, symlinks resolved.

    Debian's python3-torch is built against the generic BLAS interface, so which library serves
    it is whatever the libblas.so.3 alternative points to: Debian's reference BLAS (a few
    GFLOP/s) unless an optimized one such as libopenblas0-openmp is installed.
    """
    torch.mm(torch.ones(8, 8), torch.ones(8, 8))
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if "libblas.so" in path or "libopenblas" in path:
                return os.path.realpath(path)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--memory-epochs", type=int, default=3)
    ap.add_argument("--memory-steps", type=int, default=200)
    ap.add_argument("--budget", type=float, default=2.0)
    ap.add_argument("--sanity-steps", type=int, default=10)
    ap.add_argument("--no-rounds", action="store_true", help="only the sanity and memory rows (run.ts interleaves every timed row through --serve)")
    ap.add_argument("--serve", action="store_true", help="answer measurement commands on stdin (see serve())")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.serve:
        serve()
        return
    out = {
        "framework": "pytorch",
        "version": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "config": torch.__config__.show().splitlines()[1:6],
        "blas": blas_library(),
    }
    budget = args.budget

    if not args.no_rounds:
        log("sgemm")
        out["sgemm"] = {str(n): measure_sgemm(n, budget) for n in SGEMM_SIZES}
        log("conv2d")
        out["conv"] = {layer[0]: measure_conv(layer[0], budget) for layer in CONV_LAYERS}
        log("per-op overhead")
        out["addOverheadUs"] = measure_add(budget)["us"]

    log(f"sanity: loss over {args.sanity_steps} steps on one fixed batch")
    out["sanity"] = {}
    for make in (Convnet, Mlp):
        torch.manual_seed(0)
        model = make()
        opt = RMSprop(model.params)
        x, y = random_dataset(64, make.input_shape)
        out["sanity"][make.__name__.lower()] = [train_step(model, opt, x, y).item() for _ in range(args.sanity_steps)]

    if not args.no_rounds:
        log("training steps")
        out["train"] = {make.__name__.lower(): measure_train_step(make, budget) for make in (Convnet, Mlp)}
        if args.full:
            out["fullEpoch"] = {}
            for make in (Convnet, Mlp):
                log(f"full epoch ({make.__name__.lower()}, 938 steps)")
                out["fullEpoch"][make.__name__.lower()] = measure_epoch(make)

        log("sequence models (LSTM, GRU and multi-head attention training steps)")
        out["sequence"] = {key: measure_sequence_step(key, budget) for key in SEQUENCE_MODELS}
        log("inference")
        out["inference"] = measure_inference(budget)

    log(f"memory ({args.memory_epochs} MLP epochs of {args.memory_steps} steps)")
    model = Mlp()
    opt = RMSprop(model.params)
    data = random_dataset(1024, Mlp.input_shape)
    rss = []
    for _ in range(args.memory_epochs):
        run_epoch(model, opt, data, 64, args.memory_steps)
        rss.append(rss_mb())
    out["memory"] = {"rssMB": rss, **resident_parts()}

    print(json.dumps(out))


if __name__ == "__main__":
    main()
