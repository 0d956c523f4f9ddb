"""Where each point of one version of an image is on the next: a homography estimated from
ORB features matched between the two and fitted with RANSAC (MAGSAC++, OpenCV's USAC).

It copes with what design rounds do to an image: shifts, scaling, crops and small
rotations, with parts edited or added (their features simply do not match, and RANSAC
leaves them out). When too few features agree, there is no alignment, and every conversation is
`lost` (docs/data-model.md, "Carry-over").
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from imagechat.imaging.decode import Pixels

# Features per image: a 1,024-pixel mockup yields a few thousand corners; more cost time
# and add matches on repeated elements rather than accuracy.
ORB_FEATURES = 5000
# Lowe's ratio test: a match is kept when clearly better than the second best.
MATCH_RATIO = 0.8
# RANSAC's inlier distance, in work-size pixels (0.3 % of a 1,024-pixel image).
REPROJECTION_PX = 3.0
# Fewer agreeing matches than this is no evidence of the same image; nor is a small share
# of the matches agreeing (two different designs in one style share letters and buttons:
# measured 9 % of the matches agreeing, against 50-70 % between versions of one design).
MIN_INLIERS = 20
MIN_INLIER_SHARE = 0.2
# A homography that shrinks or grows areas more than this, or bends the image's plane
# noticeably, is a wrong fit (design versions are at most rescaled, not warped).
MAX_AREA_CHANGE = 4.0
MAX_PERSPECTIVE = 1e-3

Homography = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Alignment:
    # Maps (x, y, 1) in the old image's work pixels to the new image's.
    matrix: Homography
    inliers: int
    matches: int


def _gray(image: Pixels) -> Pixels:
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), np.uint8)


def estimate(old: Pixels, new: Pixels) -> Alignment | None:
    orb = cv2.ORB.create(nfeatures=ORB_FEATURES, fastThreshold=10)
    old_points, old_desc = orb.detectAndCompute(_gray(old), None)
    new_points, new_desc = orb.detectAndCompute(_gray(new), None)
    if old_desc is None or new_desc is None or len(old_points) < MIN_INLIERS \
            or len(new_points) < MIN_INLIERS:
        return None
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(old_desc, new_desc, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < MATCH_RATIO * p[1].distance]
    if len(good) < MIN_INLIERS:
        return None
    source = np.array([old_points[m.queryIdx].pt for m in good], np.float32).reshape(-1, 1, 2)
    target = np.array([new_points[m.trainIdx].pt for m in good], np.float32).reshape(-1, 1, 2)
    matrix, mask = cv2.findHomography(source, target, cv2.USAC_MAGSAC, REPROJECTION_PX,
                                      maxIters=10_000, confidence=0.999)
    if matrix is None or mask is None:
        return None
    inliers = int(mask.sum())
    found = np.asarray(matrix, np.float64)
    if inliers < max(MIN_INLIERS, MIN_INLIER_SHARE * len(good)) or not plausible(found):
        return None
    return Alignment(matrix=found, inliers=inliers, matches=len(good))


def plausible(matrix: Homography) -> bool:
    if not np.all(np.isfinite(matrix)) or abs(matrix[2, 2]) < 1e-9:
        return False
    h = matrix / matrix[2, 2]
    area = abs(float(np.linalg.det(h[:2, :2])))
    perspective = float(np.abs(h[2, :2]).max())
    return 1 / MAX_AREA_CHANGE < area < MAX_AREA_CHANGE and perspective < MAX_PERSPECTIVE


def apply(matrix: Homography, points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Map an (n, 2) array of points."""
    if len(points) == 0:
        return points
    mapped = cv2.perspectiveTransform(points.reshape(-1, 1, 2).astype(np.float64), matrix)
    return np.asarray(mapped, np.float64).reshape(-1, 2)
