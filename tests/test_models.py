import pickle

import numpy as np
import pytest
import torch

from occlusion_fr.metrics import rank_k_accuracy
from occlusion_fr.models.base_cnn import LMCL, BaseCNN
from occlusion_fr.models.data import augment
from occlusion_fr.models.train_segmenter import pixel_scores
from occlusion_fr.models.training import EarlyStopping, load_weights, save_checkpoint


def test_lmcl_subtracts_the_margin_from_the_target_cosine_before_scaling():
    head = LMCL(embedding_size=2, classes=3, scale=10.0, margin=0.25)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0], [-1.0, -1.0]]))
    embedding = torch.tensor([[3.0, 3.0]])
    cosine = torch.tensor([[1 / np.sqrt(2), 1 / np.sqrt(2), -1.0]], dtype=torch.float32)
    torch.testing.assert_close(head(embedding), 10.0 * cosine)
    torch.testing.assert_close(head(embedding, torch.tensor([1])), 10.0 * (cosine - torch.tensor([[0, 0.25, 0]])))


@pytest.mark.parametrize("stride, shape", [(32, (512, 4, 3)), (16, (512, 8, 6))])
def test_output_stride_sets_the_feature_map(stride, shape):
    model = BaseCNN(classes=5, output_stride=stride).eval()
    images = torch.randn(2, 3, 128, 96)
    assert model.features(images).shape[1:] == shape and model.map_shape == shape
    embedding = model(images)
    assert embedding.shape == (2, 512)
    # A mask of zeros discards every feature: the embedding no longer depends on the image.
    zeros = torch.zeros(shape)
    torch.testing.assert_close(model(images, zeros)[0], model(images, zeros)[1])


def test_a_pooled_head_ignores_where_a_feature_is_and_the_flatten_head_does_not():
    torch.manual_seed(0)
    maps = torch.rand(2, 512, 4, 3)
    moved = maps.flip(2)  # the same features at other positions
    pooled = BaseCNN(classes=5, output_stride=32, head="pooled").eval()
    flatten = BaseCNN(classes=5, output_stride=32).eval()
    assert pooled.embed[-2].in_features == 512 and flatten.embed[-2].in_features == 512 * 4 * 3
    torch.testing.assert_close(pooled.embed(maps), pooled.embed(moved))
    assert not torch.allclose(flatten.embed(maps), flatten.embed(moved), atol=1e-3)
    with pytest.raises(ValueError, match="head must be one of"):
        BaseCNN(classes=5, head="attention")


def test_rank_k_on_a_hand_built_gallery():
    gallery = np.array([[1, 0], [0.9, 0.1], [0, 1], [-1, 0], [-0.7, -0.7]], float)
    gallery_labels = np.array(["a", "a", "b", "c", "d"])
    probes = np.array([[1, 0.05],     # nearest a: rank 1
                       [0.2, 1],      # nearest b: rank 1
                       [0.7, 0.6],    # truth c: scores a .76, b .65, d -.99?, c -.76 -> rank 3
                       [-0.8, -0.5]])  # truth c: c .85 vs d .96 -> rank 2
    probe_labels = np.array(["a", "b", "c", "c"])
    result = rank_k_accuracy(probes, probe_labels, gallery, gallery_labels, ks=(1, 2, 3, 5))
    assert result == {1: 0.5, 2: 0.75, 3: 1.0, 5: 1.0}


def test_rank_k_counts_unknown_identities_as_misses():
    result = rank_k_accuracy(np.array([[1.0, 0]]), np.array(["zz"]), np.array([[1.0, 0]]), np.array(["a"]), ks=(1,))
    assert result == {1: 0.0}


def test_weights_round_trip_and_pickled_objects_are_refused(tmp_path):
    model = BaseCNN(classes=3, output_stride=32)
    save_checkpoint(tmp_path / "w.pt", model.state_dict())
    restored = BaseCNN(classes=3, output_stride=32)
    restored.load_state_dict(load_weights(tmp_path / "w.pt"))
    for key, value in model.state_dict().items():
        torch.testing.assert_close(restored.state_dict()[key], value)

    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    torch.save({"weights": torch.zeros(1), "payload": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(ValueError, match="evil.pt: not a plain weights file"):
        load_weights(tmp_path / "evil.pt")
    (tmp_path / "plain.pkl").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ValueError, match="not a plain weights file"):
        load_weights(tmp_path / "plain.pkl")


def test_early_stopping_waits_for_patience():
    stopper = EarlyStopping(patience=2)
    assert stopper.update(0, 0.5) and not stopper.should_stop(1)
    assert not stopper.update(1, 0.5) and not stopper.should_stop(2)  # one epoch without improvement
    assert not stopper.update(2, 0.5) and stopper.should_stop(3)  # two: stop
    assert stopper.update(3, 0.6) and stopper.best_epoch == 3


def test_augment_keeps_range_and_shape_and_is_seeded():
    images = torch.rand(4, 3, 128, 96) * 2 - 1
    a = augment(images, torch.Generator().manual_seed(0))
    b = augment(images, torch.Generator().manual_seed(0))
    assert a.shape == images.shape and a.min() >= -1 and a.max() <= 1
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, images)


def test_pixel_scores():
    truth = torch.zeros(1, 1, 4, 4)
    truth[..., :2, :] = 1
    predicted = torch.zeros(1, 1, 4, 4, dtype=torch.bool)
    predicted[..., :1, :] = True
    scores = pixel_scores(predicted, truth)
    assert scores["pixel_accuracy"] == 0.75 and scores["iou"] == 0.5
    assert np.isnan(pixel_scores(predicted, torch.zeros_like(truth))["iou"])


def test_early_stopping_ends_the_epoch_loop():
    stopper = EarlyStopping(patience=2)
    seen = []
    for epoch in stopper.epochs(0, 10):
        seen.append(epoch)
        stopper.update(epoch, 0.5 if epoch == 1 else 0.4)
    assert seen == [0, 1, 2, 3]


def test_resnet34_is_torchvision_s_with_the_same_seed():
    from torchvision.models import resnet34

    from occlusion_fr.models.resnet import ResNet34

    def built(make):
        torch.manual_seed(7)
        return make().eval(), torch.rand(3)  # what the generator gives next shows what was drawn

    (reference, after_reference), (ours, after_ours) = built(lambda: resnet34(weights=None)), built(ResNet34)
    theirs, mine = reference.state_dict(), ours.state_dict()
    assert list(mine) == list(theirs) and all(torch.equal(mine[key], theirs[key]) for key in theirs)
    assert torch.equal(after_ours, after_reference)
    x = torch.randn(2, 3, 128, 96)
    with torch.no_grad():
        assert torch.equal(torch.nn.Sequential(*list(ours.children())[:8])(x),  # conv1 .. layer4
                           torch.nn.Sequential(*list(reference.children())[:8])(x))
