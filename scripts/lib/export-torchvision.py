"""Exports torchvision classifiers with random weights (nothing is downloaded) to ONNX, for
scripts/check-torchvision-onnx. Usage: python3 export-torchvision.py OUT_DIR [OPSET]
Each model: seeded random initialisation (batch norm's statistics, scale and shift random too), eval mode, input (N, 3, 224, 224) with N dynamic. The models
with batch norm are written twice: NAME.onnx as the exporter's eval mode writes it (each BatchNormalization
folded into the Conv before it), and NAME-bn.onnx with the BatchNormalization nodes kept (the exporter's
TrainingMode.PRESERVE on a model in eval mode: inference-mode BatchNormalization, no folding)."""
import os
import sys
import warnings

import torch
import torchvision.models as tvm

warnings.filterwarnings("ignore")
out = sys.argv[1]
opset = int(sys.argv[2]) if len(sys.argv) > 2 else 13
os.makedirs(out, exist_ok=True)

MODELS = {
    "resnet18": lambda: tvm.resnet18(weights=None),
    "mobilenet_v2": lambda: tvm.mobilenet_v2(weights=None),
    "squeezenet1_1": lambda: tvm.squeezenet1_1(weights=None),
    "googlenet": lambda: tvm.googlenet(weights=None, aux_logits=False, init_weights=True, transform_input=False),
    "vgg11": lambda: tvm.vgg11(weights=None),
    "alexnet": lambda: tvm.alexnet(weights=None),
}

print(f"torch {torch.__version__}, opset {opset}", flush=True)
BATCH_NORM = {"resnet18", "mobilenet_v2", "googlenet"}
jobs = [(name, make, torch.onnx.TrainingMode.EVAL) for name, make in MODELS.items()]
jobs += [(name + "-bn", make, torch.onnx.TrainingMode.PRESERVE) for name, make in MODELS.items() if name in BATCH_NORM]
for name, make, mode in jobs:
    torch.manual_seed(0)
    model = make().eval()
    with torch.no_grad():  # torchvision starts batch norm at mean 0, var 1, scale 1, shift 0: make it do something
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
    x = torch.randn(1, 3, 224, 224)
    path = os.path.join(out, name + ".onnx")
    with torch.no_grad():
        torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, do_constant_folding=True, training=mode)
    ops = ""
    try:
        import onnx
        g = onnx.load(path).graph
        ops = " ops: " + ",".join(sorted({n.op_type for n in g.node}))
    except ImportError:
        pass
    print(f"exported {path} ({os.path.getsize(path) / 1e6:.1f} MB){ops}", flush=True)
