"""Device and precision choice, and what a GPU run relies on, tested without a GPU: the CUDA
branch is taken with torch.cuda's answers patched; moving data and loss scaling run on the CPU."""

import pytest
import torch

from occlusion_fr.models import training
from occlusion_fr.models.epochs import optimisation_step
from occlusion_fr.models.training import Device, choose_device, load_weights, machine, save_checkpoint


@pytest.fixture
def cuda(monkeypatch):
    """torch.cuda reporting a GPU, with or without bf16; cuDNN's autotuner flag restored after."""
    benchmark = torch.backends.cudnn.benchmark
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)

    def with_bf16(supported: bool):
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: supported)

    yield with_bf16
    torch.backends.cudnn.benchmark = benchmark


@pytest.mark.parametrize("bf16, expected", [(True, torch.bfloat16), (False, torch.float16)])
def test_a_gpu_autocasts_to_bf16_where_it_has_it_else_fp16(cuda, bf16, expected):
    cuda(bf16)
    torch.backends.cudnn.benchmark = False
    device = choose_device("auto")
    assert device.device.type == "cuda" and device.dtype == expected and device.channels_last
    assert torch.backends.cudnn.benchmark  # fixed input shapes: the autotuner is on


def test_a_gpu_honours_an_explicit_precision(cuda):
    cuda(True)
    assert choose_device("fp32").dtype is None and choose_device("fp16").dtype == torch.float16
    assert choose_device("fp32").precision == "fp32" and choose_device("fp16").precision == "fp16"


def test_the_cpu_never_takes_fp16_and_an_unknown_precision_is_named():
    with pytest.raises(ValueError, match="fp16 needs a CUDA GPU"):
        choose_device("fp16")
    with pytest.raises(ValueError, match="'half'"):
        choose_device("half")
    fp32 = choose_device("fp32")
    assert fp32 == Device(torch.device("cpu")) and fp32.precision == "fp32" and not fp32.bf16


def test_on_the_cpu_data_stay_put_and_batches_take_the_chosen_layout():
    data = torch.zeros(4, 3, 8, 6, dtype=torch.uint8)
    assert Device(torch.device("cpu")).hold(data) is data
    batch = Device(torch.device("cpu"), torch.bfloat16, channels_last=True).images(torch.rand(2, 3, 8, 6))
    assert batch.is_contiguous(memory_format=torch.channels_last)


def test_loss_scaling_gives_the_unscaled_step_and_skips_a_step_that_overflowed():
    def trained(scaler, loss_scale=1.0):
        torch.manual_seed(0)
        layer = torch.nn.Linear(4, 2)
        optimiser = torch.optim.SGD(layer.parameters(), lr=0.1)
        loss = layer(torch.ones(3, 4)).pow(2).sum() * loss_scale
        optimisation_step(optimiser, loss, scaler=scaler)
        return layer.weight.detach().clone()

    plain = trained(None)
    assert torch.allclose(trained(torch.amp.GradScaler("cpu", init_scale=1024.0)), plain, atol=1e-6)
    assert torch.equal(trained(Device(torch.device("cpu")).grad_scaler()), plain)  # fp32: scaler off
    torch.manual_seed(0)
    untouched = torch.nn.Linear(4, 2).weight.detach()
    assert torch.equal(trained(torch.amp.GradScaler("cpu"), loss_scale=float("inf")), untouched)


def test_checkpoints_load_onto_the_cpu_whatever_device_saved_them(tmp_path):
    save_checkpoint(tmp_path / "c.pt", {"w": torch.ones(2)})
    assert load_weights(tmp_path / "c.pt")["w"].device.type == "cpu"
    assert load_weights(tmp_path / "c.pt", map_location="meta")["w"].device.type == "meta"


def test_the_machine_record_names_the_cpu_capability():
    record = machine()
    assert record["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert isinstance(record["cpu_bf16"], bool) and record["cpu_capability"] in record["description"]
    assert isinstance(record["cpu_amx"], bool) and ("AMX" in record["description"]) == record["cpu_amx"]


@pytest.mark.parametrize("speedup, dtype", [(2.3, torch.bfloat16), (0.54, None)])
def test_the_cpu_takes_bf16_only_where_it_runs_faster_than_fp32(monkeypatch, speedup, dtype):
    monkeypatch.setattr(training, "cpu_bf16_supported", lambda: True)
    monkeypatch.setattr(training, "cpu_bf16_speedup", lambda: speedup)
    device = choose_device("auto")
    assert device.device.type == "cpu" and device.dtype == dtype and device.channels_last == (dtype is not None)
    assert choose_device("bf16").bf16  # an explicit choice is honoured whatever the speed


def test_the_bf16_speedup_is_measured_once():
    first = training.cpu_bf16_speedup()
    assert 0 < first < 100 and training.cpu_bf16_speedup() == first
