"""Colour checks for accessibility: colour-vision-deficiency simulation, colour difference and
WCAG contrast, as small pure functions over ``#rrggbb`` strings.

* :func:`simulate_cvd` applies the Machado, Oliveira and Fernandes (2009) matrices for
  protanopia, deuteranopia and tritanopia (severity 1.0) in linear RGB.
* :func:`delta_e` is the CIEDE2000 colour difference (Sharma, Wu and Dalal 2005) in CIELAB (D65).
* :func:`contrast_ratio` is the WCAG 2 contrast ratio of two colours.

The tests use them to check every palette and number of classes the app and the exports offer
(:mod:`mapping.maps.classify`): adjacent legend classes must stay distinguishable for people
with protanopia or deuteranopia, and text and control colours must meet WCAG 2.2 AA.
"""

from __future__ import annotations

import math

import numpy as np

#: Machado et al. (2009), severity 1.0, applied to linear RGB.
CVD_MATRICES = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
#: CIEDE2000 difference below which two map colours are taken to be confusable. A difference of
#: about 2 is just noticeable side by side; map classes are read across a legend, so ask more.
MIN_CLASS_DIFFERENCE = 5.0
_WHITE_D65 = (0.95047, 1.0, 1.08883)
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])


def hex_to_rgb(colour: str) -> tuple[float, float, float]:
    """``#rrggbb`` (or ``#rgb``) as sRGB components in 0–1."""
    c = colour.strip().lstrip("#")
    if len(c) == 3:
        c = "".join(ch * 2 for ch in c)
    if len(c) != 6 or any(ch not in "0123456789abcdefABCDEF" for ch in c):
        raise ValueError(f"not a #rrggbb colour: {colour!r}")
    return tuple(int(c[i:i + 2], 16) / 255.0 for i in (0, 2, 4))


def rgb_to_hex(rgb) -> str:
    return "#" + "".join(f"{round(min(max(v, 0.0), 1.0) * 255):02x}" for v in rgb)


def _to_linear(v: np.ndarray) -> np.ndarray:
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def _to_srgb(v: np.ndarray) -> np.ndarray:
    v = np.clip(v, 0.0, 1.0)
    return np.where(v <= 0.0031308, 12.92 * v, 1.055 * v ** (1 / 2.4) - 0.055)


def simulate_cvd(colour: str, kind: str) -> str:
    """How ``colour`` looks with a full colour-vision deficiency (``protanopia``,
    ``deuteranopia`` or ``tritanopia``), as ``#rrggbb``."""
    if kind not in CVD_MATRICES:
        raise ValueError(f"unknown deficiency {kind!r}; choose from {', '.join(CVD_MATRICES)}")
    lin = _to_linear(np.array(hex_to_rgb(colour)))
    return rgb_to_hex(_to_srgb(CVD_MATRICES[kind] @ lin))


def to_lab(colour: str) -> tuple[float, float, float]:
    """CIELAB (D65) of an sRGB colour."""
    xyz = _RGB_TO_XYZ @ _to_linear(np.array(hex_to_rgb(colour)))
    f = []
    for v, w in zip(xyz, _WHITE_D65, strict=True):
        t = v / w
        f.append(t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29)
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def ciede2000(lab1, lab2) -> float:
    """CIEDE2000 difference of two CIELAB colours (kL = kC = kH = 1)."""
    l1, a1, b1 = lab1
    l2, a2, b2 = lab2
    c1, c2 = math.hypot(a1, b1), math.hypot(a2, b2)
    cbar7 = ((c1 + c2) / 2) ** 7
    g = 0.5 * (1 - math.sqrt(cbar7 / (cbar7 + 25 ** 7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0
    dl = l2 - l1
    dc = c2p - c1p
    if c1p * c2p == 0:
        dh = 0.0
    elif abs(h2p - h1p) <= 180:
        dh = h2p - h1p
    elif h2p - h1p > 180:
        dh = h2p - h1p - 360
    else:
        dh = h2p - h1p + 360
    dhh = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))
    lbar = (l1 + l2) / 2
    cbarp = (c1p + c2p) / 2
    if c1p * c2p == 0:
        hbar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hbar = (h1p + h2p) / 2
    elif h1p + h2p < 360:
        hbar = (h1p + h2p + 360) / 2
    else:
        hbar = (h1p + h2p - 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(hbar - 30)) + 0.24 * math.cos(math.radians(2 * hbar))
         + 0.32 * math.cos(math.radians(3 * hbar + 6))
         - 0.20 * math.cos(math.radians(4 * hbar - 63)))
    d_theta = 30 * math.exp(-(((hbar - 275) / 25) ** 2))
    cbarp7 = cbarp ** 7
    rc = 2 * math.sqrt(cbarp7 / (cbarp7 + 25 ** 7))
    sl = 1 + 0.015 * (lbar - 50) ** 2 / math.sqrt(20 + (lbar - 50) ** 2)
    sc = 1 + 0.045 * cbarp
    sh = 1 + 0.015 * cbarp * t
    rt = -math.sin(math.radians(2 * d_theta)) * rc
    return math.sqrt((dl / sl) ** 2 + (dc / sc) ** 2 + (dhh / sh) ** 2
                     + rt * (dc / sc) * (dhh / sh))


def delta_e(colour1: str, colour2: str) -> float:
    """CIEDE2000 difference of two ``#rrggbb`` colours."""
    return ciede2000(to_lab(colour1), to_lab(colour2))


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance."""
    r, g, b = _to_linear(np.array(hex_to_rgb(colour)))
    return float(0.2126 * r + 0.7152 * g + 0.0722 * b)


def contrast_ratio(colour1: str, colour2: str) -> float:
    """WCAG 2 contrast ratio (1 to 21) of two colours."""
    l1, l2 = sorted((relative_luminance(colour1), relative_luminance(colour2)), reverse=True)
    return (l1 + 0.05) / (l2 + 0.05)


def adjacent_differences(colours, kind: str | None = None) -> list[float]:
    """CIEDE2000 differences between neighbouring colours, as seen with deficiency ``kind``
    (``None``: normal vision)."""
    seen = [simulate_cvd(c, kind) if kind else c for c in colours]
    return [delta_e(a, b) for a, b in zip(seen, seen[1:], strict=False)]
