#!/usr/bin/env bash
# Usage: render_paraview.sh <source dir> <meanfield binary> <work dir>
# Smoke test of postprocess/render_paraview.py: a tiny compare run (sparse deconvolution on
# 16 x 16 cells, m = 50 particles, three output times), rendered by pvbatch to a 640 x 480
# PNG, which must exist, have those dimensions, and show the colour-mapped density (many
# colours) and the particles (red pixels). Also: a directory without solution.pvd must
# fail with a message. Exit 0 = pass, 1 = fail, 77 = skipped (no usable pvbatch), the
# SKIP_RETURN_CODE of the ctest entry.
set -uo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 <source dir> <meanfield binary> <work dir>" >&2
  exit 1
fi
source_dir=$1
meanfield=$2
work=$3
script=$source_dir/postprocess/render_paraview.py
width=640
height=480

fail() { echo "FAIL: $*"; exit 1; }

# --- is there a pvbatch that can run the script? ------------------------------------------
if ! command -v pvbatch > /dev/null 2>&1; then
  echo "SKIP: pvbatch not found (apt-get install paraview, plus the python3-paraview modules)"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work" || fail "cannot create $work"
cat > "$work/probe.py" << 'EOF'
import paraview.simple  # noqa: F401  (fails without ParaView's Python modules)
import vtkmodules.vtkRenderingOpenGL2  # noqa: F401
from vtkmodules.vtkRenderingCore import vtkRenderWindow
print("render window:", vtkRenderWindow().GetClassName())
EOF
if ! probe=$(pvbatch "$work/probe.py" 2>&1); then
  echo "$probe" | tail -3
  echo "SKIP: pvbatch cannot import paraview.simple (python3-paraview missing, or not on PYTHONPATH)"
  exit 77
fi
if echo "$probe" | grep -q XOpenGL && [ -z "${DISPLAY:-}" ] && ! command -v Xvfb > /dev/null 2>&1; then
  echo "SKIP: this pvbatch renders through X, DISPLAY is not set and Xvfb is not installed"
  exit 77
fi

# --- a tiny compare run ----------------------------------------------------------------------
cat > "$work/render_small.prm" << EOF
# Derived from parameter_files/default.prm and tests/prm/compare_small.prm, made tiny.
set Dimension = 2
set Run mode  = compare
subsection Problem
  set Type = sparse deconvolution
  subsection Sparse deconvolution      # weights that fit the box (the check of issue 7)
    set Minimum weight = 0.2
    set Maximum weight = 0.4
    set Weight bound   = 3
  end
end
subsection Mesh
  set Subdivisions       = 16
  set Global refinements = 0
end
subsection Time stepping
  set End time = 0.01
end
subsection Particles
  set Number of particles = 50
  set Step                = 1e-4
end
subsection Comparison
  set MMD features      = 100
  set Sliced directions = 10
end
subsection Output
  set Directory     = $work/run
  set Time interval = 0.005
  set Write VTK     = true
end
EOF
"$meanfield" "$work/render_small.prm" > "$work/meanfield.log" 2>&1 ||
  { tail -20 "$work/meanfield.log"; fail "meanfield failed on the tiny compare run"; }
if [ ! -f "$work/run/solution.pvd" ] || [ ! -f "$work/run/particles.pvd" ]; then
  fail "the compare run wrote no solution.pvd / particles.pvd"
fi

# --- render it --------------------------------------------------------------------------------
png=$work/render.png
if ! pvbatch "$script" "$work/run" --last --output "$png" --size ${width}x${height} \
       > "$work/render.log" 2>&1; then
  tail -20 "$work/render.log"
  fail "render_paraview.py failed"
fi
cat "$work/render.log"
[ -f "$png" ] || fail "no $png"
bytes=$(stat -c %s "$png")
[ "$bytes" -gt 5000 ] || fail "$png is only $bytes bytes"

# Dimensions from the PNG header; colours from the decoded pixels (8-bit RGB/RGBA, which
# is what ParaView writes): the density gives many colours, the particles red ones.
/usr/bin/python3 - "$png" "$width" "$height" << 'EOF' || fail "the PNG check failed"
import struct, sys, zlib
path, want_w, want_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = open(path, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit("not a PNG file")
pos, idat, header = 8, b"", None
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    if kind == b"IHDR":
        header = struct.unpack(">IIBBBBB", data[pos + 8:pos + 21])
    elif kind == b"IDAT":
        idat += data[pos + 8:pos + 8 + length]
    pos += 12 + length
w, h, depth, colour, _, _, interlace = header
print("PNG %d x %d, bit depth %d, colour type %d" % (w, h, depth, colour))
if (w, h) != (want_w, want_h):
    sys.exit("expected %d x %d pixels" % (want_w, want_h))
if depth != 8 or colour not in (2, 6) or interlace:
    sys.exit("unexpected PNG format (only 8-bit RGB/RGBA is decoded)")
bpp = 3 if colour == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
previous, pixels = bytearray(stride), set()
red = 0
for y in range(h):
    kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):  # undo the PNG row filter
        a = line[i - bpp] if i >= bpp else 0
        b, c = previous[i], previous[i - bpp] if i >= bpp else 0
        if kind == 1: line[i] = (line[i] + a) & 255
        elif kind == 2: line[i] = (line[i] + b) & 255
        elif kind == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        r, g, b = line[x], line[x + 1], line[x + 2]
        pixels.add((r, g, b))
        red += r > 150 and g < 80 and b < 80
    previous = line
print("%d distinct colours, %d red (particle) pixels" % (len(pixels), red))
if len(pixels) < 50:
    sys.exit("too few colours: no colour-mapped density?")
if red < 20:
    sys.exit("no red pixels: no particles drawn?")
EOF

# --- a directory without solution.pvd fails with a clear message -------------------------------
mkdir -p "$work/empty"
if pvbatch "$script" "$work/empty" > "$work/empty.log" 2>&1; then
  fail "render_paraview.py succeeded on a directory without solution.pvd"
fi
grep -q "no solution.pvd" "$work/empty.log" || { cat "$work/empty.log"; fail "no 'no solution.pvd' message"; }

echo "PASS: rendered $png (${width}x${height}, $bytes bytes)"
exit 0
