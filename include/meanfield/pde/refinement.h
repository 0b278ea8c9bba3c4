#pragma once

#include <meanfield/base/enum_names.h>

#include <deal.II/base/parameter_handler.h>

#include <cmath>
#include <vector>

namespace MeanField {
/// Mesh/Refinement/Operator: which implementation of the finite-volume operator (M9) runs.
/// auto: the lattice on a uniform mesh, the face table on a refined one; faces: the face table
/// everywhere (it reproduces the lattice on a uniform mesh: the check of the general path).
enum class OperatorPath { automatic, faces };

/// Mesh/Refinement/Kink treatment (doc/theory.md §4.1): on a refined mesh a face can lie on a
/// kink of V. trapped velocity: the tangential faces of the two cells beside such a face take
/// the velocity at the kink (the velocity of the mass trapped there: no drift along the kink).
/// centred row: the cells centred on the kink are never refined (the levels grow by at most one
/// per level-0 cell away from it), so no face ever lies on the kink. none: the face centres as
/// they are.
enum class KinkTreatment { centred_row, trapped_velocity, none };

inline constexpr EnumName<OperatorPath> operator_path_names[] = {{OperatorPath::automatic, "auto"},
                                                                 {OperatorPath::faces, "faces"}};
inline constexpr EnumName<KinkTreatment> kink_treatment_names[] = {
    {KinkTreatment::centred_row, "centred row"},
    {KinkTreatment::trapped_velocity, "trapped velocity"},
    {KinkTreatment::none, "none"}};

/**
 * Mesh/Refinement (doc/theory.md §4.1): static refinement of a box and adaptive refinement that
 * follows the mass, on the 2:1-balanced p4est mesh of Mesh. Levels count from the mesh of
 * Subdivisions × 2^(Global refinements) (level 0).
 */
struct RefinementParameters {
  std::vector<double> box_lower, box_upper; ///< the statically refined box (empty: none)
  unsigned int box_levels = 0;              ///< levels added inside the box

  bool adaptive = false;
  unsigned int maximum_level = 0; ///< adaptive: levels above level 0 at most
  double refine_threshold = 0.0;  ///< refine when the indicator exceeds this fraction of the mass
  double coarsen_threshold = 0.0; ///< coarsen (all children) below this fraction
  unsigned int interval = 0;      ///< adapt every this many steps
  unsigned int buffer = 0;        ///< cells the refined region reaches beyond the indicator's
  unsigned int reserve = 0;       ///< layers added to the buffer whenever the mesh changes
  double coarsen_fraction = 0.0;  ///< coarsening alone changes the mesh from this share of cells
  OperatorPath path = OperatorPath::automatic;
  KinkTreatment kink_treatment = KinkTreatment::centred_row;

  /// The buffer layers: Buffer cells, or ceil(CFL x interval) + 1 for 0.
  unsigned int buffer_cells(const double cfl) const {
    return buffer > 0 ? buffer : static_cast<unsigned int>(std::ceil(cfl * interval)) + 1;
  }
  /// Whether the mesh is refined at all (statically or adaptively).
  bool refined() const { return box_levels > 0 || adaptive; }
  /// Whether the face-table operator runs (a refined mesh, or Operator = faces).
  bool face_path() const { return refined() || path == OperatorPath::faces; }

  static void declare_parameters(dealii::ParameterHandler &prm);
  /// Inside subsection Mesh.
  void parse_parameters(dealii::ParameterHandler &prm);
  /// Sizes of the box entries, thresholds ordered, the buffer against the CFL number. Throws
  /// InputError.
  void check(unsigned int dim, double cfl, bool explicit_steps) const;
};
} // namespace MeanField
