"""Render the PDE density of a MeanField run with the particles on top, as a PNG.

Usage (ParaView 5.11's batch interpreter; Debian: the `paraview` package plus
the Python modules of `python3-paraview`, see the note below)::

    pvbatch postprocess/render_paraview.py <output directory>
            [--time T | --last] [--output file.png] [--field density]
            [--scale log|linear] [--decades 3] [--particle-field NAME]
            [--no-particles] [--size 1200x800] [--aspect auto|equal|A]
            [--colormap "Viridis (matplotlib)"] [--title TEXT] [--mesh]

<output directory> is the `Output/Directory` of a run that wrote VTK output
(`Run mode = compare`, or `pde` alone): it must hold `solution.pvd`;
`particles.pvd` (compare and particles runs) is drawn on top when present.

What is rendered, at the requested output time (the nearest one written;
default: the last):

* d = 2: the finite-volume field (default `density`) on the mesh, one flat
  colour per cell, with a logarithmic colour map spanning `--decades` decades
  below the maximum (fields with negative values, e.g. first_variation, get a
  linear map) and a colour bar titled with the field's name; the particles as
  shaded spheres in a solid contrasting colour, or coloured by one of their
  point fields (`--particle-field r`, `weight`, `first_variation`, ...) with
  a second colour bar; a parallel 2D camera fitted to the mesh and particles,
  axes with ticks titled by the coordinate names (read from the particle
  file: x, r for sparse deconvolution), and a title with the time.
  Parameter boxes are far from square (sparse deconvolution: [0, 1] x [-2, 2]),
  so by default (`--aspect auto`) the first axis is stretched (by the
  camera, so tick labels stay in data units) to fill the picture;
  `--aspect equal` keeps 1:1.
* d = 3: translucent iso-surfaces of the field (of its magnitude for vectors)
  at 10^-2, 10^-1 and 0.5 times its maximum (log scale) or at 20, 50 and 80 %
  of its range (linear), after averaging the cell values to the mesh vertices;
  the box's outline with a grid on its back faces, the particles, an oblique
  camera.
* d = 1 is not supported.

Without an X display the script re-runs itself on a private Xvfb server
(Debian's pvbatch renders through X/GLX only: `apt-get install xvfb`);
pvbatch builds with EGL or OSMesa render off-screen without it.

Debian 12 note: `python3-paraview` conflicts with `python3-vtk9`, on which
`libvtk9-dev` (MeanField's build dependency) depends: installing it removes
libvtk9-dev. To keep both, install `paraview` and `xvfb` with apt, unpack the
Python modules privately and point PYTHONPATH at them::

    apt-get install -y paraview xvfb
    apt-get download python3-paraview
    dpkg -x python3-paraview_*.deb /opt/paraview-python
    export PYTHONPATH=/opt/paraview-python/usr/lib/python3/dist-packages

Exit status: 0 on success, 2 on bad arguments or input (for example a
directory without solution.pvd), with a message on stderr.
"""

import argparse
import math
import os
import shutil
import subprocess
import sys

PROG = "render_paraview.py"

# Point fields every particle file has besides the coordinates; the remaining
# one-component arrays are the coordinates under their problem-specific names.
PARTICLE_STANDARD_FIELDS = ("theta", "weight", "first_variation", "velocity", "id")

# Solid colour of the particles (red: contrasts with every colour of viridis).
PARTICLE_COLOR = [1.0, 0.15, 0.1]

# Font sizes and bar widths below are for a 1200 x 800 picture; main() scales them.
_SIZE_SCALE = [1.0]


def scaled(size):
    """A font size (points) or width (pixels) for 1200 x 800, scaled to the picture."""
    return max(6, int(round(size * _SIZE_SCALE[0])))


def fail(message, status=2):
    """Print an error in the usual `prog: error: ...` form and exit."""
    print("%s: error: %s" % (PROG, message), file=sys.stderr)
    sys.stderr.flush()
    sys.exit(status)


# Notes are silenced in a process that only re-runs the script on a private X server
# (the re-run prints them).
_QUIET = [False]


def note(message):
    if not _QUIET[0]:
        print("%s: %s" % (PROG, message))
        sys.stdout.flush()


# ---------------------------------------------------------------------------
# Command line


def parse_size(text):
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError("expected WIDTHxHEIGHT, e.g. 1200x800")
    if width < 100 or height < 100 or width > 8000 or height > 8000:
        raise argparse.ArgumentTypeError("each side must be in [100, 8000] pixels")
    return width, height


def parse_aspect(text):
    if text in ("auto", "equal"):
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected auto, equal or a positive number")
    if not value > 0:
        raise argparse.ArgumentTypeError("expected auto, equal or a positive number")
    return value


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="pvbatch " + PROG,
        description="Render the density of a MeanField run (solution.pvd) with the "
        "particles (particles.pvd) on top, as a PNG.",
    )
    parser.add_argument("directory", help="the run's Output/Directory (holds solution.pvd)")
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--time", type=float, metavar="T",
                      help="output time to render (the nearest one written)")
    when.add_argument("--last", action="store_true",
                      help="render the last output time (the default)")
    parser.add_argument("--output", "-o", metavar="FILE.png",
                        help="the PNG to write (default: <directory>/<field>_t<T>.png)")
    parser.add_argument("--field", default="density",
                        help="the mesh field to colour by (default: density)")
    parser.add_argument("--scale", choices=("log", "linear"),
                        help="colour scale (default: log, linear for signed fields)")
    parser.add_argument("--decades", type=float, default=3.0,
                        help="decades below the maximum shown by the log scale (default: 3)")
    parser.add_argument("--particle-field", metavar="NAME",
                        help="colour the particles by this point field (default: one solid colour)")
    parser.add_argument("--no-particles", action="store_true",
                        help="do not draw particles.pvd even if it exists")
    parser.add_argument("--size", type=parse_size, default=(1200, 800), metavar="WxH",
                        help="image size in pixels (default: 1200x800)")
    parser.add_argument("--aspect", type=parse_aspect, default="auto",
                        help="2D: auto (stretch to fill the picture), equal, or the "
                        "height/width ratio of the drawn box (default: auto)")
    parser.add_argument("--colormap", default="Viridis (matplotlib)",
                        help="ParaView colour-map preset of the field")
    parser.add_argument("--title", help="replace the automatic title")
    parser.add_argument("--mesh", action="store_true",
                        help="d = 2: draw the cell edges over the field (the adapted mesh of "
                             "Mesh/Refinement: its cells, of every level, under the density)")
    args = parser.parse_args(argv)
    if not args.decades > 0:
        parser.error("--decades must be positive")
    return args


# ---------------------------------------------------------------------------
# Off-screen rendering


def needs_private_display():
    """True when this pvbatch renders through X (GLX) and no X display is set."""
    if os.environ.get("DISPLAY") or os.environ.get("MEANFIELD_RENDER_CHILD"):
        return False
    # Builds with EGL or OSMesa (Kitware's binaries) render without X.
    import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (registers the OpenGL render window)
    from vtkmodules.vtkRenderingCore import vtkRenderWindow
    return "XOpenGL" in vtkRenderWindow().GetClassName()


def ensure_display(args):
    """Re-run this script on a private Xvfb server when rendering needs a missing X display.

    Returns only when rendering can go ahead in this process; otherwise exits
    with the status of the re-run.
    """
    if not needs_private_display():
        return
    xvfb = shutil.which("Xvfb")
    pvbatch = shutil.which("pvbatch")
    if not xvfb or not pvbatch:
        fail("this pvbatch renders through X (GLX) and DISPLAY is not set: run it on a display, "
             "or install xvfb (apt-get install xvfb) and the script starts a private Xvfb")
    width, height = args.size
    # Xvfb picks a free display and writes its number to the pipe once it accepts
    # clients (-displayfd): no guessing of numbers, no race with a starting server.
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write_end), "-nolisten", "tcp",
         "-screen", "0", "%dx%dx24" % (max(width, 1280), max(height, 1024))],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()
    if not number.isdigit():
        server.kill()
        server.wait()
        fail("Xvfb did not start (no display number); set DISPLAY or check the xvfb install")
    # The child is a fresh pvbatch: drop the MPI singleton's variables of this one.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMIX_", "OPAL_"))}
    env["DISPLAY"] = ":" + number
    env["MEANFIELD_RENDER_CHILD"] = "1"
    _QUIET[0] = False
    note("no X display: rendering on a private Xvfb (DISPLAY=:%s)" % number)
    try:
        status = subprocess.call([pvbatch, os.path.abspath(sys.argv[0])] + sys.argv[1:], env=env)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    sys.exit(status if status >= 0 else 128 - status)


# ---------------------------------------------------------------------------
# Data


def as_list(value):
    """TimestepValues is a float for a single step and a list otherwise."""
    if value is None:
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    return [float(v) for v in value]


def nearest(values, target):
    return min(values, key=lambda v: abs(v - target))


def format_time(t):
    return "%.6g" % t


def field_association(source, name):
    """('POINTS' | 'CELLS', number of components) of an array, or None."""
    for association, arrays in (("POINTS", source.PointData), ("CELLS", source.CellData)):
        if name in arrays.keys():
            return association, arrays[name].GetNumberOfComponents()
    return None


def array_range(source, association, name):
    """Range of an array (of its magnitude for vectors) at the pipeline's current time."""
    arrays = source.PointData if association == "POINTS" else source.CellData
    info = arrays[name]
    return info.GetRange(-1 if info.GetNumberOfComponents() > 1 else 0)


def coordinate_names(particles, dim):
    """The coordinate names of the particle file (x, r / a, w1, w2 ...).

    MeanField writes each coordinate of theta as a scalar point field named
    after the problem's parameter, after the standard fields; match them to the
    point coordinates to be safe."""
    from paraview import servermanager
    from vtkmodules.numpy_interface import dataset_adapter as dsa
    import numpy as np
    data = servermanager.Fetch(particles)
    if data is None:
        return None
    if data.IsA("vtkMultiBlockDataSet") or data.IsA("vtkCompositeDataSet"):
        data = dsa.WrapDataObject(data)
        points = np.concatenate([np.asarray(a) for a in data.Points.Arrays])
        arrays = {n: np.concatenate([np.asarray(a) for a in data.PointData[n].Arrays])
                  for n in data.PointData.keys()}
    else:
        data = dsa.WrapDataObject(data)
        points = np.asarray(data.Points)
        arrays = {n: np.asarray(data.PointData[n]) for n in data.PointData.keys()}
    if points.ndim != 2 or len(points) == 0:
        return None
    names = []
    for k in range(dim):
        match = None
        for name, values in arrays.items():
            if name in PARTICLE_STANDARD_FIELDS or values.ndim != 1 or name in names:
                continue
            if np.allclose(values, points[:, k], rtol=1e-6, atol=1e-9):
                match = name
                break
        if match is None:
            return None
        names.append(match)
    return names


# ---------------------------------------------------------------------------
# Rendering helpers


def setup_lut(pv, name, preset, scale, value_range, decades):
    """A colour map over value_range; log spanning `decades` below the maximum if scale == 'log'."""
    low, high = value_range
    lut = pv.GetColorTransferFunction(name)
    lut.ApplyPreset(preset, True)
    lut.AutomaticRescaleRangeMode = "Never"
    if scale == "log":
        high = high if high > 0 else 1.0
        low = max(low, high * 10.0 ** (-decades)) if low > 0 else high * 10.0 ** (-decades)
        lut.RescaleTransferFunction(low, high)
        lut.MapControlPointsToLogSpace()
        lut.UseLogScale = 1
        # Values below the range (empty cells) take the lowest colour, as clamping does.
    else:
        if high <= low:
            high = low + (abs(low) if low else 1.0)
        lut.RescaleTransferFunction(low, high)
    return lut, (low, high)


def style_scalar_bar(pv, lut, view, title, position, length=0.7, horizontal_title=True):
    bar = pv.GetScalarBar(lut, view)
    bar.Title = title
    bar.ComponentTitle = ""
    bar.Orientation = "Vertical"
    bar.WindowLocation = "Any Location"
    bar.Position = position
    bar.ScalarBarLength = length
    bar.ScalarBarThickness = scaled(18)
    bar.TitleFontSize = scaled(20)
    bar.LabelFontSize = scaled(16)
    bar.TitleColor = [0.0, 0.0, 0.0]
    bar.LabelColor = [0.0, 0.0, 0.0]
    bar.TitleBold = 1
    bar.HorizontalTitle = 1 if horizontal_title else 0
    bar.AddRangeLabels = 1
    bar.RangeLabelFormat = "%-#.3g"
    bar.AutomaticLabelFormat = 1
    bar.DrawTickMarks = 1
    bar.Visibility = 1
    return bar


def style_axes_grid(grid, titles, three_d):
    """Tick labels and titles of the data axes (black, readable at 1200 px)."""
    grid.GridAxesVisibility = 1
    grid.XTitle, grid.YTitle = titles[0], titles[1]
    if three_d:
        grid.ZTitle = titles[2]
    for axis in "XYZ":
        setattr(grid, axis + "TitleFontSize", scaled(22))
        setattr(grid, axis + "LabelFontSize", scaled(16))
        setattr(grid, axis + "TitleColor", [0.0, 0.0, 0.0])
        setattr(grid, axis + "LabelColor", [0.0, 0.0, 0.0])
        setattr(grid, axis + "TitleBold", 1)
    grid.GridColor = [0.35, 0.35, 0.35]
    grid.ShowGrid = 0
    grid.ShowEdges = 1
    grid.ShowTicks = 1
    # Bit masks of vtkGridAxesHelper: faces min-YZ 1, min-ZX 2, min-XY 4, max-YZ 8, max-ZX 16,
    # max-XY 32; axes to label min-X 1, min-Y 2, min-Z 4, max-X 8, max-Y 16, max-Z 32.
    if three_d:
        # The three faces behind the data, with a light grid, each axis labelled once.
        grid.CullFrontface = 1
        grid.ShowGrid = 1
        grid.GridColor = [0.8, 0.8, 0.8]
        grid.AxesToLabel = 2 | 8  # with render_3d's camera: every axis, the third twice
    else:
        # A 2D plot: ticks on the lower and left edges only.
        grid.AxesToLabel = 1 | 2


def union_bounds(a, b):
    return [min(a[i], b[i]) if i % 2 == 0 else max(a[i], b[i]) for i in range(6)]


# ---------------------------------------------------------------------------
# Main


def main(argv):
    args = parse_arguments(argv)

    # --- check the input before anything slow -------------------------------
    directory = os.path.abspath(args.directory)
    if not os.path.isdir(directory):
        fail("%s: no such directory" % args.directory)
    solution_pvd = os.path.join(directory, "solution.pvd")
    if not os.path.isfile(solution_pvd):
        fail("%s: no solution.pvd (is it the Output/Directory of a pde or compare run "
             "with Output/Write VTK = true?)" % args.directory)
    particles_pvd = os.path.join(directory, "particles.pvd")
    use_particles = os.path.isfile(particles_pvd) and not args.no_particles
    if args.output is not None:
        args.output = os.path.abspath(args.output)
        if not os.path.isdir(os.path.dirname(args.output)):
            fail("%s: the directory of the output does not exist" % args.output)

    try:
        import paraview.simple as pv
    except ImportError as error:
        fail("cannot import paraview.simple (%s): run this script with ParaView's pvbatch; "
             "on Debian its Python modules are in python3-paraview (see the docstring for "
             "installing them next to libvtk9-dev)" % error)
    _QUIET[0] = needs_private_display()

    # --- read the series at the requested time ----------------------------------
    solution = pv.PVDReader(registrationName="solution", FileName=solution_pvd)
    times = as_list(solution.TimestepValues)
    if not times:
        fail("%s lists no time step" % solution_pvd)
    t = times[-1] if args.time is None else nearest(times, args.time)
    if args.time is not None and abs(t - args.time) > 1e-9 * max(1.0, abs(t)):
        note("no output at t = %s: rendering the nearest one, t = %s"
             % (format_time(args.time), format_time(t)))
    solution.UpdatePipeline(t)

    association = field_association(solution, args.field)
    if association is None:
        fail("solution.pvd has no field '%s'; it has: %s" % (
            args.field, ", ".join(list(solution.PointData.keys()) + list(solution.CellData.keys()))))
    association, components = association

    info = solution.GetDataInformation()
    bounds = list(info.GetBounds())
    extent = [bounds[2 * i + 1] - bounds[2 * i] for i in range(3)]
    dim = sum(1 for e in extent if e > 1e-12 * max(extent))
    if dim not in (2, 3):
        fail("only d = 2 and d = 3 meshes are rendered (this one has d = %d)" % dim)
    n_cells = info.GetNumberOfCells()

    particles = None
    particle_time = None
    if use_particles:
        particles = pv.PVDReader(registrationName="particles", FileName=particles_pvd)
        particle_times = as_list(particles.TimestepValues)
        if not particle_times:
            note("particles.pvd lists no time step: drawing the density only")
            particles = None
        else:
            particle_time = nearest(particle_times, t)
            if abs(particle_time - t) > 1e-9 * max(1.0, abs(t)):
                note("particles.pvd has no output at t = %s: drawing the particles of t = %s"
                     % (format_time(t), format_time(particle_time)))
            particles.UpdatePipeline(particle_time)
    particle_field = None
    if particles is not None and args.particle_field is not None:
        particle_field = field_association(particles, args.particle_field)
        if particle_field is None or particle_field[0] != "POINTS":
            fail("particles.pvd has no point field '%s'; it has: %s"
                 % (args.particle_field, ", ".join(particles.PointData.keys())))
    names = None
    if particles is not None:
        names = coordinate_names(particles, dim)
    elif os.path.isfile(particles_pvd):  # --no-particles: still take the names from the file
        names = coordinate_names(pv.PVDReader(FileName=particles_pvd), dim)
    if names is None:
        names = ["theta_%d" % (k + 1) for k in range(dim)]

    # --- colour scale ------------------------------------------------------------
    value_range = array_range(solution, association, args.field)
    scale = args.scale
    if scale is None:
        scale = "linear" if value_range[0] < 0 else "log"
    if scale == "log" and value_range[1] <= 0:
        note("%s has no positive value at t = %s: linear colour scale" % (args.field, format_time(t)))
        scale = "linear"
    if scale == "log" and value_range[0] < 0:
        note("%s has negative values: they take the lowest colour of the log scale" % args.field)

    # --- view --------------------------------------------------------------------
    ensure_display(args)
    width, height = args.size
    _SIZE_SCALE[0] = min(width / 1200.0, height / 800.0)
    view = pv.CreateView("RenderView")
    view.ViewSize = [width, height]
    view.ViewTime = t
    view.OrientationAxesVisibility = 0
    view.UseColorPaletteForBackground = 0
    view.Background = [1.0, 1.0, 1.0]
    view.EnableRenderOnInteraction = 0

    lut, shown_range = setup_lut(pv, args.field, args.colormap, scale, value_range, args.decades)
    bar_title = args.field + (" (log)" if scale == "log" else "")
    if components > 1:
        lut.VectorMode = "Magnitude"
        bar_title = "|%s|" % bar_title

    # Layout, in fractions of the picture: the plot area [left, right, bottom, top] leaves
    # room for the title above, tick labels at the left and below, colour bars at the right.
    plot_area = (0.09, 0.70 if particle_field else 0.82, 0.13, 0.89)

    if dim == 2:
        place_camera = render_2d(pv, view, solution, association, lut, bounds, particles, args,
                                 names, plot_area)
    else:
        place_camera = render_3d(pv, view, solution, association, components, lut, bounds,
                                 args, names, scale, shown_range, plot_area)

    # --- particles: shaded spheres on top, one colour or coloured by a field ----------
    particle_count = 0
    if particles is not None:
        particle_count = particles.GetDataInformation().GetNumberOfPoints()
        rep = pv.Show(particles, view)
        rep.SetRepresentationType("Points")
        # Spheres in 3D; flat points in 2D, where (Mesa, Xvfb) the sphere impostors on the
        # mesh's plane lost the depth test for most particles
        rep.RenderPointsAsSpheres = 1 if dim == 3 else 0
        # Sphere diameter in pixels: large for a few particles, small for many.
        rep.PointSize = max(2.0, min(11.0, 160.0 / math.sqrt(max(particle_count, 1)))
                            * _SIZE_SCALE[0])
        rep.Specular = 0.3
        if particle_field:
            p_range = array_range(particles, "POINTS", args.particle_field)
            p_lut, _ = setup_lut(pv, args.particle_field, "Cool to Warm", "linear", p_range, 0)
            if particle_field[1] > 1:
                p_lut.VectorMode = "Magnitude"
            rep.ColorArrayName = ["POINTS", args.particle_field]
            rep.LookupTable = p_lut
            style_scalar_bar(pv, p_lut, view, "particles: " + args.particle_field,
                             [0.755, 0.13], length=0.74, horizontal_title=False)
        else:
            rep.ColorArrayName = ["POINTS", ""]
            rep.AmbientColor = rep.DiffuseColor = PARTICLE_COLOR

    style_scalar_bar(pv, lut, view, bar_title, [0.885, 0.13], length=0.74,
                     horizontal_title=not particle_field)

    # --- title -------------------------------------------------------------------
    if args.title is not None:
        title = args.title
    else:
        cells = "%d cells" % n_cells
        side = int(round(n_cells ** (1.0 / dim)))
        if side ** dim == n_cells:
            cells = " x ".join([str(side)] * dim) + " cells"
        title = "%s (PDE, %s)" % (args.field, cells)
        if particles is not None:
            title += "  +  %d particles" % particle_count
            if not particle_field:
                title += " (red)"
            if abs(particle_time - t) > 1e-9 * max(1.0, abs(t)):
                title += " of t = %s" % format_time(particle_time)
        title += "   at  t = %s" % format_time(t)
    text_rep = pv.Show(pv.Text(registrationName="title", Text=title), view)
    text_rep.WindowLocation = "Upper Center"
    text_rep.FontSize = scaled(24)
    text_rep.Color = [0.0, 0.0, 0.0]
    text_rep.Bold = 1

    # --- save ----------------------------------------------------------------------
    output = args.output
    if output is None:
        output = os.path.join(directory, "%s_t%s.png" % (args.field, format_time(t)))
    pv.Render(view)  # the first render resets the camera: place ours after it
    place_camera(view)
    pv.Render(view)
    if not pv.SaveScreenshot(output, view, ImageResolution=[width, height],
                             TransparentBackground=0):
        fail("could not write %s" % output)
    note("wrote %s (%dx%d, %s at t = %s%s)" % (
        output, width, height, args.field, format_time(t),
        ", %d particles" % particle_count if particles is not None else ""))


def render_2d(pv, view, solution, association, lut, bounds, particles, args, names, plot_area):
    """The field on the mesh; a parallel camera fitted to the mesh and the particles."""
    width, height = args.size
    rep = pv.Show(solution, view)
    rep.SetRepresentationType("Surface With Edges" if args.mesh else "Surface")
    if args.mesh:
        rep.EdgeColor = [0.15, 0.15, 0.15]
        rep.LineWidth = 0.5
    # Colour through the prepared map (ColorBy would rescale it to the data range).
    rep.ColorArrayName = [association, args.field]
    rep.LookupTable = lut
    rep.Ambient, rep.Diffuse = 1.0, 0.0  # flat colours: no lighting on a 2D plot
    style_axes_grid(rep.DataAxesGrid, names, three_d=False)

    # The region to show: the mesh and the particles (which may leave the mesh's box).
    box = list(bounds)
    if particles is not None:
        box = union_bounds(box, list(particles.GetDataInformation().GetBounds()))
    box_w, box_h = box[1] - box[0], box[3] - box[2]
    left, right, bottom, top = plot_area
    image_aspect = float(width) / height
    # Stretch of the first axis: fill the plot area (auto), keep 1:1 (equal), or make the
    # mesh's box height / width = A.
    if args.aspect == "equal":
        sx = 1.0
    elif args.aspect == "auto":
        sx = (right - left) * image_aspect * box_h / ((top - bottom) * box_w)
    else:
        sx = (bounds[3] - bounds[2]) / args.aspect / (bounds[1] - bounds[0])
    x0, x1 = box[0] * sx, box[1] * sx  # in the stretched frame of the camera
    y0, y1 = box[2], box[3]
    # Parallel scale = half the visible height, so that the box fits the plot area; then
    # shift the focal point so that the box's centre is the plot area's centre.
    half_h = max(0.5 * (y1 - y0) / (top - bottom),
                 0.5 * (x1 - x0) / ((right - left) * image_aspect))
    visible_w, visible_h = 2.0 * half_h * image_aspect, 2.0 * half_h
    focal = [0.5 * (x0 + x1) - (0.5 * (left + right) - 0.5) * visible_w,
             0.5 * (y0 + y1) - (0.5 * (bottom + top) - 0.5) * visible_h, 0.0]

    def place_camera(view):
        view.InteractionMode = "2D"
        view.CameraParallelProjection = 1
        view.CameraFocalPoint = focal
        view.CameraPosition = [focal[0], focal[1], 10.0 * max(x1 - x0, y1 - y0)]
        view.CameraViewUp = [0.0, 1.0, 0.0]
        view.CameraParallelScale = half_h
        # The stretch is the camera's model transform, not the data's: every actor, the axes
        # grid included, stays in data coordinates, so the tick labels are data values.
        view.GetActiveCamera().SetModelTransformMatrix(
            [sx, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0])

    return place_camera


def render_3d(pv, view, solution, association, components, lut, bounds, args, names, scale,
              shown_range, plot_area):
    """Translucent iso-surfaces of the field, the box outline, an oblique camera."""
    source = solution
    if association == "POINTS":
        # deal.II writes each cell's own vertices (discontinuous data): back to one value per
        # cell, merge the duplicated vertices, and average the cells around each vertex.
        source = pv.PointDatatoCellData(Input=source)
    source = pv.CleantoGrid(Input=source)
    source = pv.CellDatatoPointData(Input=source)
    field = args.field
    if components > 1:  # iso-surfaces of the magnitude
        field = args.field + "_magnitude"
        source = pv.Calculator(Input=source, ResultArrayName=field, Function="mag(%s)" % args.field)
    low, high = shown_range
    if scale == "log":
        levels = sorted({high * f for f in (1e-2, 1e-1, 0.5) if high * f >= low} or {0.5 * high})
    else:
        levels = [low + f * (high - low) for f in (0.2, 0.5, 0.8)]
    contour = pv.Contour(Input=source, ContourBy=["POINTS", field], Isosurfaces=levels,
                         ComputeScalars=1)
    rep = pv.Show(contour, view)
    rep.ColorArrayName = ["POINTS", field]
    rep.LookupTable = lut
    rep.Opacity = 0.35
    if "DepthPeeling" in view.ListProperties():
        view.DepthPeeling = 1  # correct blending of the nested translucent surfaces

    outline = pv.Show(pv.Outline(Input=solution), view)
    outline.ColorArrayName = ["POINTS", ""]
    outline.AmbientColor = outline.DiffuseColor = [0.55, 0.55, 0.55]
    style_axes_grid(outline.DataAxesGrid, names, three_d=True)

    cx, cy, cz = [(bounds[2 * i] + bounds[2 * i + 1]) * 0.5 for i in range(3)]
    size = max(bounds[2 * i + 1] - bounds[2 * i] for i in range(3))

    def place_camera(view):
        view.CameraFocalPoint = [cx, cy, cz]
        view.CameraPosition = [cx + 1.9 * size, cy - 2.6 * size, cz + 1.5 * size]
        view.CameraViewUp = [0.0, 0.0, 1.0]
        view.CameraParallelProjection = 0
        view.CameraViewAngle = 30
        pv.ResetCamera(view)
        # Move the picture of the box into the plot area (window centre in [-1, 1]^2) and
        # zoom to its size (ResetCamera fits the bounding sphere to the whole picture).
        left, right, bottom, top = plot_area
        camera = view.GetActiveCamera()
        camera.SetWindowCenter(1.0 - (left + right), 1.0 - (bottom + top))
        camera.Zoom(1.2 * min(right - left, top - bottom))

    return place_camera


if __name__ == "__main__":
    main(sys.argv[1:])
