// Mesh/Refinement: the static refinement box and the adaptive refinement that follows the mass
// (doc/theory.md §4.1).
#include <meanfield/base/exceptions.h>
#include <meanfield/pde/refinement.h>
#include <meanfield/problems/problem.h>

#include <cmath>

namespace MeanField {
using namespace dealii;

void RefinementParameters::declare_parameters(ParameterHandler &prm) {
  prm.enter_subsection("Refinement");
  prm.declare_entry("Box lower", "", Patterns::List(Patterns::Double(), 0, 3),
                    "Lower corner of the statically refined box (one value per direction); "
                    "empty: no refinement box.");
  prm.declare_entry("Box upper", "", Patterns::List(Patterns::Double(), 0, 3),
                    "Upper corner of the statically refined box.");
  prm.declare_entry("Box levels", "0", Patterns::Integer(0, 8),
                    "Levels of refinement added to the cells that meet the box (each halves h); "
                    "the mesh stays 2:1 balanced, so the levels fall off one per cell layer "
                    "outside the box.");
  prm.declare_entry(
      "Adaptive", "false", Patterns::Bool(),
      "Refine and coarsen the mesh every Adaptation interval steps where the indicator "
      "eta_K = max(m_K, max_L |rho_K - rho_L| |K|) (m_K = rho_K |K| the cell mass, L the face "
      "neighbours) exceeds Refine threshold (refine) or falls below Coarsen threshold (coarsen), "
      "both as fractions of the total mass, up to Maximum level; doc/theory.md §4.1.");
  prm.declare_entry("Maximum level", "3", Patterns::Integer(0, 8),
                    "Adaptive: levels above the mesh of Subdivisions and Global refinements "
                    "(finest h = h_0 / 2^level).");
  prm.declare_entry("Refine threshold", "1e-4", Patterns::Double(0, 1),
                    "Adaptive: a cell is refined when eta_K > this fraction of the total mass. "
                    "The mass per cell then stays below it where the density is smooth, while "
                    "concentrated mass (lines, Diracs) is refined to Maximum level.");
  prm.declare_entry("Coarsen threshold", "2e-5", Patterns::Double(0, 1),
                    "Adaptive: the children of a cell are merged when eta_K < this fraction of "
                    "the total mass for all of them (below Refine threshold: hysteresis).");
  prm.declare_entry("Adaptation interval", "10", Patterns::Integer(1),
                    "Adaptive: steps between two adaptations of the mesh.");
  prm.declare_entry(
      "Buffer cells", "0", Patterns::Integer(0, 100),
      "Adaptive: layers of face neighbours that get the level of the cells the indicator "
      "refines, so that mass cannot leave the refined region before the next adaptation. 0: "
      "ceil(CFL number x Adaptation interval) + 1 (an explicit step moves mass at most CFL "
      "cells). Explicit steps refuse fewer.");
  prm.declare_entry(
      "Buffer reserve", "4", Patterns::Integer(0, 100),
      "Adaptive: layers added to Buffer cells whenever the mesh is changed. Every Adaptation "
      "interval steps the indicator is evaluated (cheap); the mesh is changed (p4est, transfer, "
      "tables: the cost of tens of steps) only when the mass has come within Buffer cells of "
      "the edge of its refined region, or when coarsening alone would remove Coarsen fraction "
      "of the cells, and then refined Buffer cells + Buffer reserve layers wide, so that the "
      "next change waits until the mass has crossed the reserve. 0: every evaluation that "
      "flags a cell changes the mesh.");
  prm.declare_entry("Coarsen fraction", "0.1", Patterns::Double(0, 1),
                    "Adaptive: an evaluation that flags cells for coarsening only (no cell "
                    "needs refinement) changes the mesh when at least this fraction of the "
                    "cells is flagged; 0: whenever one is.");
  prm.declare_entry(
      "Operator", "auto", Patterns::Selection(enum_selection(operator_path_names)),
      "auto: the lattice operator on a uniform mesh (dense patch arrays, unit-stride loops), "
      "the face-table operator on a refined one; faces: the face table on any mesh (it "
      "reproduces the lattice on a uniform one).");
  prm.declare_entry(
      "Kink treatment", "centred row", Patterns::Selection(enum_selection(kink_treatment_names)),
      "Refining a cell whose centre lies on a kink of V (r = 0 for the l1 penalty) puts a face "
      "on the kink, and the mass trapped there at r = +-h/4 (doc/theory.md §4.1). centred row: "
      "those cells are never refined, the levels growing by at most one per level-0 cell away "
      "from the kink (2:1 balance), so the trapped mass stays on the kink; trapped velocity: "
      "the faces beside a kink face, tangential to it, take the velocity at the kink (no drift "
      "along it); none: the velocity at the face centres.");
  prm.leave_subsection();
}

void RefinementParameters::parse_parameters(ParameterHandler &prm) {
  prm.enter_subsection("Refinement");
  box_lower = parse_double_list(prm.get("Box lower"), "Mesh/Refinement/Box lower");
  box_upper = parse_double_list(prm.get("Box upper"), "Mesh/Refinement/Box upper");
  box_levels = prm.get_integer("Box levels");
  adaptive = prm.get_bool("Adaptive");
  maximum_level = prm.get_integer("Maximum level");
  refine_threshold = prm.get_double("Refine threshold");
  coarsen_threshold = prm.get_double("Coarsen threshold");
  interval = prm.get_integer("Adaptation interval");
  buffer = prm.get_integer("Buffer cells");
  reserve = prm.get_integer("Buffer reserve");
  coarsen_fraction = prm.get_double("Coarsen fraction");
  path = parse_enum("Mesh/Refinement/Operator", prm.get("Operator"), operator_path_names);
  kink_treatment =
      parse_enum("Mesh/Refinement/Kink treatment", prm.get("Kink treatment"), kink_treatment_names);
  prm.leave_subsection();
}

void RefinementParameters::check(const unsigned int dim, const double cfl,
                                 const bool explicit_steps) const {
  const std::string d = std::to_string(dim);
  require(box_levels == 0 || (box_lower.size() == dim && box_upper.size() == dim),
          "Mesh/Refinement/Box levels = " + std::to_string(box_levels) +
              " needs Box lower and Box upper with " + d + " values each.");
  for (unsigned int i = 0; i < box_lower.size() && i < box_upper.size(); ++i)
    require(box_lower[i] < box_upper[i],
            "Mesh/Refinement: Box lower must lie below Box upper in every direction.");
  if (!adaptive)
    return;
  require(dim >= 2, "Mesh/Refinement/Adaptive needs d >= 2 (the p4est mesh; in 1D use Box "
                    "levels or Global refinements).");
  require(maximum_level > 0, "Mesh/Refinement/Adaptive needs Maximum level >= 1.");
  require(coarsen_threshold < refine_threshold,
          "Mesh/Refinement: Coarsen threshold must lie below Refine threshold (hysteresis), "
          "but they are " +
              std::to_string(coarsen_threshold) + " and " + std::to_string(refine_threshold) + ".");
  const unsigned int needed = static_cast<unsigned int>(std::ceil(cfl * interval)) + 1;
  require(!explicit_steps || buffer == 0 || buffer >= needed,
          "Mesh/Refinement/Buffer cells = " + std::to_string(buffer) +
              " is too narrow: explicit steps move mass up to CFL number x Adaptation interval = " +
              std::to_string(cfl * interval) + " cells between two adaptations; use at least " +
              std::to_string(needed) + " (or 0 for that value).");
}
} // namespace MeanField
