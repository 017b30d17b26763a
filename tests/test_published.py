"""The published Kodak curves load, name their source, and look like RD curves."""
import numpy as np
import pytest

from nlaic_tf.evaluation.published import load_published, published_names


def test_every_published_curve_is_well_formed():
  names = published_names()
  assert {"balle2018", "minnen2018", "cheng2020", "bpg444"} <= set(names)
  for curve in load_published(["all"]):
    assert curve.published and "Numbers from" in curve.source
    assert curve.bpp.shape == curve.psnr.shape == curve.ms_ssim.shape
    assert np.all(np.diff(curve.bpp) > 0) and np.all(np.diff(curve.psnr) > 0)
    assert np.all((curve.ms_ssim > 0.5) & (curve.ms_ssim < 1))
    assert 20 < curve.psnr.min() and curve.psnr.max() < 60


def test_known_point_of_balle_2018():
  (balle,) = load_published(["balle2018"])
  assert (balle.bpp[0], balle.psnr[0], balle.ms_ssim[0]) == (0.115239, 27.106351, 0.907527)


def test_unknown_name_lists_the_known_ones():
  with pytest.raises(ValueError, match="unknown published curve.*known: balle2018"):
    load_published(["balle2018", "nobody2020"])
