"""Blurred derivatives of evidence images, made once on upload.

A sensitive image is shown blurred until someone reveals it. Blurring in CSS would still send the
full picture to the browser, so the page shows this derivative instead: the image shrunk to a
few dozen pixels (the detail is gone, not hidden), scaled back up and softened. Only the
derivative reaches the page until the reveal.
"""

import io
import warnings

from PIL import Image, ImageFilter

# Small enough that nothing identifiable survives; large enough to show the rough scene and colours.
DETAIL_PIXELS = 24
PREVIEW_PIXELS = 320


def blurred_preview(upload) -> bytes | None:
    """JPEG bytes of a blurred derivative of the uploaded image, or None when Pillow cannot read it
    (the page then shows a placeholder instead of any picture). Refuses decompression bombs."""
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                image.draft("RGB", (DETAIL_PIXELS * 4, DETAIL_PIXELS * 4))  # JPEG: decode at reduced scale
                image.seek(0)
                ratio = image.width / image.height if image.height else 1
                small = image.convert("RGB")
                small.thumbnail((DETAIL_PIXELS, DETAIL_PIXELS), Image.Resampling.BOX)
    except Exception:  # any undecodable, truncated or oversized image: no preview rather than a 500
        return None
    finally:
        upload.seek(0)
    width, height = (PREVIEW_PIXELS, max(1, round(PREVIEW_PIXELS / ratio))) if ratio >= 1 else (
        max(1, round(PREVIEW_PIXELS * ratio)), PREVIEW_PIXELS)
    blurred = small.resize((width, height), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(8))
    out = io.BytesIO()
    blurred.save(out, format="JPEG", quality=70)
    return out.getvalue()
