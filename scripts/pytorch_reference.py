"""The sbn-gs task in plain PyTorch, as a researcher would write it: the speed reference that
`make bench-pytorch` compares SBNLab with on the same machine (not part of the test suite).

Same model (392-200-200-392 SBN of Bernoulli units, binary Concrete relaxation at tau = 1),
same batch (100), Adam lr 1e-3; evaluation draws m = 1000 hard samples per test image and takes
log-mean-exp, two images (2000 rows) at a time under torch.no_grad().
"""
import argparse
import math
import time

import h5py
import numpy as np
import torch
import torch.nn.functional as F


def load(path):
    with h5py.File(path, "r") as f:
        train = torch.from_numpy(f["train/images"][:].astype(np.float32))
        test = torch.from_numpy(f["test/images"][:].astype(np.float32))
    return train, test


class SBN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.l2, self.l3 = torch.nn.Linear(392, 200), torch.nn.Linear(200, 200), torch.nn.Linear(200, 392)

    def relaxed(self, x, tau=1.0):
        h = x
        for layer in (self.l1, self.l2):
            a = layer(h)
            u = torch.rand_like(a).clamp_(1e-7, 1 - 1e-7)
            h = torch.sigmoid((a + torch.log(u) - torch.log1p(-u)) / tau)
        return self.l3(h)

    def hard(self, x):
        h = x
        for layer in (self.l1, self.l2):
            a = layer(h)
            h = (torch.rand_like(a) < torch.sigmoid(a)).float()
        return self.l3(h)


def train_epoch(model, opt, train, batch=100):
    order = torch.randperm(train.shape[0])
    start = time.perf_counter()
    for b in range(0, train.shape[0], batch):
        x = train[order[b:b + batch]]
        top, bottom = x[:, :392], x[:, 392:]
        loss = F.binary_cross_entropy_with_logits(model.relaxed(top), bottom, reduction="sum") / x.shape[0]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - start


@torch.no_grad()
def evaluate(model, test, m=1000, images_per_chunk=2):
    start, total = time.perf_counter(), 0.0
    for b in range(0, test.shape[0], images_per_chunk):
        x = test[b:b + images_per_chunk]
        top = x[:, :392].repeat_interleave(m, 0)
        bottom = x[:, 392:].repeat_interleave(m, 0)
        ll = -F.binary_cross_entropy_with_logits(model.hard(top), bottom, reduction="none").sum(1).view(-1, m)
        total += (-(torch.logsumexp(ll, 1) - math.log(m))).sum().item()
    return time.perf_counter() - start, total / test.shape[0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="data/binarized_mnist.h5")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--eval-images", type=int, default=10000)
    args = p.parse_args()
    train, test = load(args.data)
    torch.manual_seed(1)
    print(f"torch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()}")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        model = SBN()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        best = min(train_epoch(model, opt, train) for _ in range(args.epochs))
        print(f"training, {threads} thread(s): {train.shape[0] / best:.0f} examples/s (best of {args.epochs} epochs)")
    torch.set_num_threads(2)
    seconds, nll = evaluate(model, test[:args.eval_images])
    print(f"evaluation, m = 1000, {args.eval_images} test images, 2 threads: {seconds:.1f} s (NLL {nll:.2f})")


if __name__ == "__main__":
    main()
