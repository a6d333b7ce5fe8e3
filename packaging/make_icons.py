"""The app icon in every platform's format, rendered from ``resources/icons/flourish.svg``.

    .venv/bin/python packaging/make_icons.py OUT_DIR

Writes into OUT_DIR (``packaging/build.sh`` uses ``build/icons``):

    flourish.ico            Windows: 16-256 px, PNG-compressed entries (Vista and later)
    flourish.icns           macOS: 16-1024 px, PNG entries (icp4 ... ic14)
    flourish-NNN.png        Linux hicolor theme sizes (16 ... 512)

Qt (PySide6, already a dependency) renders the SVG; the two containers are simple enough to
write with ``struct`` (no Pillow, no iconutil). Qt's own ico/icns image plugins can read the
results back, which is how ``tests/test_packaging.py`` checks them.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "icons" / "flourish.svg"

ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# (type, pixel size): the PNG-capable ICNS entries; ic11-ic14 are the @2x (Retina) ones.
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic10", 1024),
    (b"ic11", 32),
    (b"ic12", 64),
    (b"ic13", 256),
    (b"ic14", 512),
)
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render_png(size: int, svg: Path = SVG) -> bytes:
    """The SVG drawn on a transparent ``size`` x ``size`` square, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"cannot render {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):  # type: ignore[call-overload]  # str works; stubs say bytes
        raise ValueError(f"cannot encode a {size} px PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """An ICO file: ICONDIR, one ICONDIRENTRY per size, then the PNG images."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, images = b"", b""
    for size in sizes:
        data = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256 in the one-byte fields
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        images += data
        offset += len(data)
    return header + entries + images


def icns_bytes(entries: list[tuple[bytes, bytes]]) -> bytes:
    """An ICNS file: b'icns', total length, then (type, length, PNG) blocks (big-endian)."""
    body = b"".join(kind + struct.pack(">I", len(data) + 8) + data for kind, data in entries)
    return b"icns" + struct.pack(">I", len(body) + 8) + body


def make_icons(out_dir: Path, svg: Path = SVG) -> list[Path]:
    """Write every icon file into ``out_dir``; returns their paths."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication([])  # QPainter needs one
    out_dir.mkdir(parents=True, exist_ok=True)
    sizes = sorted({*ICO_SIZES, *PNG_SIZES, *(size for _kind, size in ICNS_TYPES)})
    pngs = {size: render_png(size, svg) for size in sizes}
    written = []
    ico = out_dir / "flourish.ico"
    ico.write_bytes(ico_bytes({size: pngs[size] for size in ICO_SIZES}))
    icns = out_dir / "flourish.icns"
    icns.write_bytes(icns_bytes([(kind, pngs[size]) for kind, size in ICNS_TYPES]))
    written += [ico, icns]
    for size in PNG_SIZES:
        path = out_dir / f"flourish-{size}.png"
        path.write_bytes(pngs[size])
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: make_icons.py OUT_DIR", file=sys.stderr)
        return 2
    for path in make_icons(Path(argv[0])):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
