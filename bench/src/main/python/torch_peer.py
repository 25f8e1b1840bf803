"""The PyTorch peer of scripts/bench-peers: the same nets as DeepnetNetPeer.java, built by hand,
the same steps, the same timing rules (Measure.java: first call alone, warm-up, samples of
`repeat` calls; for the LeNet epoch exactly --batches minibatches after warm-up).

usage: python torch_peer.py WORKLOAD [--threads N] [--warmup S] [--measure S] [--min-samples N]
                            [--max-samples N] [--sample-us US] [--batches N]
       python torch_peer.py probe
Prints one "RESULT key=value ..." line (or "PEER ..." for probe).
"""
import argparse
import gzip
import math
import os
import struct
import sys
import time
import warnings

warnings.filterwarnings("ignore", message=".*NumPy.*")  # torch works without numpy; it only warns
import torch  # noqa: E402
from torch import nn  # noqa: E402

ALEXNET_PARAMS = 62_378_344  # dev.deepnet.models.AlexNet with 1,000 classes
LENET_PARAMS = 3_274_634  # dev.deepnet.models.LeNet with 10 classes
FASHION = "/usr/share/datasets/fashion-mnist"
LENET_BATCH = 64


def clean(v):
    s = str(v).strip()
    return "_".join(s.split()) if s else "-"


def line(kind, fields):
    print(kind + "".join(" %s=%s" % (k, clean(v)) for k, v in fields.items()), flush=True)


def config_line(*needles):
    """A line of torch.__config__.show(): oneDNN and MKL are linked into libtorch_cpu, and it names them."""
    for row in torch.__config__.show().splitlines():
        if any(n in row for n in needles):
            return row.strip().lstrip("-").strip()
    return "-"


def mapped(fragment):
    """The mapped files whose name contains fragment (/proc/self/maps), comma-separated."""
    found = set()
    try:
        with open("/proc/self/maps") as f:
            for row in f:
                path = row[row.find("/"):].strip() if "/" in row else ""
                if path and fragment in os.path.basename(path):
                    found.add(path)
    except OSError:
        return "unknown"
    return ",".join(sorted(found)) or "-"


def alexnet(classes=1000):
    """dev.deepnet.models.AlexNet: one-group AlexNet, 227x227 input, LRN(5, alpha 5e-4 over n, beta 0.75, k 2)."""
    lrn = lambda: nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)  # noqa: E731
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(),
        nn.Linear(256 * 6 * 6, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, classes))


def lenet(classes=10):
    """dev.deepnet.models.LeNet: conv 5x5 pad 2 x32, relu, max 2/2, conv x64, relu, max, dense 1024, relu, dropout 0.3, dense."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 1024), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(1024, classes))


def param_count(model):
    return sum(p.numel() for p in model.parameters())


def check_params(model, expected, name):
    n = param_count(model)
    if n != expected:
        raise SystemExit("torch_peer: %s has %d parameters, deepnet's has %d: not the same net" % (name, n, expected))
    return n


class Measure:
    def __init__(self, a):
        self.warmup, self.measure = a.warmup, a.measure
        self.min_samples, self.max_samples, self.sample_us = a.min_samples, a.max_samples, a.sample_us

    def run(self, call):
        """Measure.run: first call, warm-up, samples of `repeat` back-to-back calls (us per call)."""
        clock = time.perf_counter_ns
        start = clock()
        call()
        now = clock()
        first_ns = now - start
        warmup, warm_ns, after_first = 1, 0, 0
        while now - start < self.warmup * 1e9:
            s = now
            call()
            now = clock()
            warm_ns += now - s
            after_first += 1
            warmup += 1
        estimate = warm_ns / after_first if after_first else first_ns
        repeat = int(max(1, min(1_000_000, math.ceil(self.sample_us * 1e3 / max(1, estimate)))))
        samples = []
        measure_start = clock()
        while True:
            s = clock()
            for _ in range(repeat):
                call()
            e = clock()
            samples.append((e - s) / 1e3 / repeat)
            elapsed = (e - measure_start) / 1e9
            n = len(samples)
            if n >= self.max_samples or (n >= self.min_samples and elapsed >= self.measure) or elapsed >= 3 * self.measure:
                break
        return first_ns / 1e3, warmup, repeat, samples

    def run_fixed(self, call, count):
        """Measure.runFixed: first call, warm-up, then exactly `count` calls each timed alone."""
        clock = time.perf_counter_ns
        start = clock()
        call()
        now = clock()
        first_ns = now - start
        warmup = 1
        while now - start < self.warmup * 1e9:
            call()
            now = clock()
            warmup += 1
        samples = []
        for _ in range(count):
            s = clock()
            call()
            samples.append((clock() - s) / 1e3)
        return first_ns / 1e3, warmup, 1, samples


def result(workload, setup_us, params, batch, timing, extra=None):
    first_us, warmup, repeat, samples = timing
    s = sorted(samples)
    n = len(s)
    median = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    fields = {"peer": "torch", "workload": workload, "threads": os.environ.get("OMP_NUM_THREADS", "unset"),
              "setup_us": "%.6g" % setup_us, "params": params, "batch": batch}
    fields.update(extra or {})
    fields.update({"first_us": "%.6g" % first_us, "warmup": warmup, "repeat": repeat, "samples": n,
                   "median_us": "%.6g" % median, "min_us": "%.6g" % s[0], "mean_us": "%.6g" % (sum(s) / n),
                   "impl": "torch-" + torch.__version__, "torch_threads": torch.get_num_threads()})
    line("RESULT", fields)


def sgd_step(model, opt, loss_fn, x, target):
    opt.zero_grad()  # PyTorch's default (set_to_none): what a careful user runs
    loss = loss_fn(model(x), target)
    loss.backward()
    opt.step()


def forward(a, m, workload, batch):
    t0 = time.perf_counter_ns()
    torch.manual_seed(1)
    model = alexnet().eval()
    params = check_params(model, ALEXNET_PARAMS, "AlexNet")
    x = torch.empty(batch, 3, 227, 227).uniform_(-1, 1)
    setup = (time.perf_counter_ns() - t0) / 1e3

    def call():
        with torch.inference_mode():
            model(x)

    result(workload, setup, params, batch, m.run(call))


def alexnet_train(a, m):
    batch = 32
    t0 = time.perf_counter_ns()
    torch.manual_seed(1)
    model = alexnet().train()
    params = check_params(model, ALEXNET_PARAMS, "AlexNet")
    x = torch.empty(batch, 3, 227, 227).uniform_(-1, 1)
    labels = torch.tensor([(i * 37) % 1000 for i in range(batch)])
    opt = torch.optim.SGD(model.parameters(), lr=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    setup = (time.perf_counter_ns() - t0) / 1e3
    result("alexnet-train-b32", setup, params, batch, m.run(lambda: sgd_step(model, opt, loss_fn, x, labels)))


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    ndims = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndims, data[4:4 + 4 * ndims])
    return torch.frombuffer(bytearray(data[4 + 4 * ndims:]), dtype=torch.uint8).reshape(dims)


def lenet_epoch(a, m):
    t0 = time.perf_counter_ns()
    images = read_idx(os.path.join(FASHION, "train-images-idx3-ubyte.gz")).reshape(-1, 1, 28, 28).float().div_(255)
    labels = read_idx(os.path.join(FASHION, "train-labels-idx1-ubyte.gz")).long()
    data_us = (time.perf_counter_ns() - t0) / 1e3
    n = images.shape[0]
    order = torch.randperm(n, generator=torch.Generator().manual_seed(1))
    per_epoch = n // LENET_BATCH
    t1 = time.perf_counter_ns()
    torch.manual_seed(1)
    model = lenet().train()
    params = check_params(model, LENET_PARAMS, "LeNet")
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    setup = (time.perf_counter_ns() - t1) / 1e3
    cursor = [0]

    def minibatch():
        idx = order[cursor[0] * LENET_BATCH:(cursor[0] + 1) * LENET_BATCH]
        cursor[0] = (cursor[0] + 1) % per_epoch
        sgd_step(model, opt, loss_fn, images.index_select(0, idx), labels.index_select(0, idx))

    result("lenet-epoch", setup, params, LENET_BATCH, m.run_fixed(minibatch, a.batches),
           {"data_us": "%.6g" % data_us, "images": n})


def autoencoder(a, m):
    t0 = time.perf_counter_ns()
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(10, 3), nn.Sigmoid(), nn.Linear(3, 10), nn.Sigmoid())
    x = torch.tensor([[0.9, 0.1, 0.8, 0.2, 0.7, 0.3, 0.6, 0.4, 0.5, 0.05]])
    opt = torch.optim.SGD(model.parameters(), lr=1.0)

    def half_squared_error(y, t):  # MeanSquaredError.java: sum over outputs / 2, mean over the batch
        return (y - t).pow(2).sum() / 2 / y.shape[0]

    setup = (time.perf_counter_ns() - t0) / 1e3
    result("autoencoder-step", setup, param_count(model), 1, m.run(lambda: sgd_step(model, opt, half_squared_error, x, x)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workload")
    p.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "2")))
    p.add_argument("--warmup", type=float, default=0.5)
    p.add_argument("--measure", type=float, default=1.5)
    p.add_argument("--min-samples", type=int, default=3)
    p.add_argument("--max-samples", type=int, default=100_000)
    p.add_argument("--sample-us", type=float, default=200.0)
    p.add_argument("--batches", type=int, default=100)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.workload == "probe":
        line("PEER", {"peer": "torch", "version": torch.__version__, "python": sys.version.split()[0],
                      "executable": sys.executable, "torch_dir": os.path.dirname(torch.__file__),
                      "onednn": config_line("oneDNN", "MKL-DNN", "Deep Neural Network Library"),
                      "mkldnn": torch.backends.mkldnn.is_available(), "blas": config_line("Math Kernel Library", "OpenBLAS"),
                      "cpu": config_line("CPU capability"), "openmp": mapped("omp"),
                      "threads": torch.get_num_threads()})
        return
    m = Measure(a)
    workloads = {
        "alexnet-fwd-b1": lambda: forward(a, m, "alexnet-fwd-b1", 1),
        "alexnet-fwd-b32": lambda: forward(a, m, "alexnet-fwd-b32", 32),
        "alexnet-train-b32": lambda: alexnet_train(a, m),
        "lenet-epoch": lambda: lenet_epoch(a, m),
        "autoencoder-step": lambda: autoencoder(a, m),
    }
    if a.workload not in workloads:
        raise SystemExit("torch_peer: unknown workload %r; known: %s" % (a.workload, ", ".join(workloads)))
    workloads[a.workload]()


if __name__ == "__main__":
    main()
