#pragma once

#include <meanfield/objective/weighted_cloud.h>
#include <meanfield/pde/cell_sides.h>
#include <meanfield/pde/parameters.h>
#include <meanfield/problems/problem.h>

#include <deal.II/dofs/dof_handler.h>

#include <array>
#include <map>
#include <vector>

namespace MeanField {
/**
 * The cells and faces of a locally refined (2:1-balanced) Cartesian p4est mesh as flat arrays,
 * the geometry of the finite-volume operator on such meshes (M9, doc/theory.md §4.1).
 *
 * Local cells are numbered like the ghosted density vector's local form (owned cells first,
 * then ghosts); one more slot, `outside()`, stands for the exterior beyond the box walls
 * (density 0, slope 0), so that wall faces run through the same loop as interior ones.
 *
 * A face joins the lower cell `lower[f]` to the upper cell `upper[f]` along e_{direction[f]}
 * (its canonical orientation +e_i). On a hanging face the coarse cell's face is split into the
 * fine cells' faces, each one entry of the table: a flux leaves one cell and enters the other,
 * so mass is conserved exactly. The table holds every face of an owned cell once; `counted[f]`
 * marks the faces this rank counts in global sums (a face between two ranks is counted by the
 * rank owning its lower cell; walls by the owner of the cell inside).
 *
 * The kernel's points are indexed tensor-grid sets (GridPointSet): the cell and face centres of
 * a refined Cartesian mesh lie on a few distinct coordinates per direction, which separable
 * features exploit.
 */
template <int dim>
struct FaceTable {
  unsigned int n_owned = 0, n_local = 0;
  unsigned int outside() const { return n_local; }

  // Cells (n_local + 1 entries; the last is the outside)
  std::vector<double> volume;                       ///< |K|
  std::array<std::vector<double>, dim> centre;      ///< θ_K (kinks on centres exactly)
  std::array<std::vector<double>, dim> half_width;  ///< h_K,i / 2
  std::vector<unsigned char> level;                 ///< refinement level above level 0
  std::array<std::vector<unsigned char>, dim> wall; ///< 1 if a side of K in direction i is a wall

  // Faces
  std::vector<unsigned int> lower, upper, direction;
  std::vector<double> area;     ///< |f|
  std::vector<double> distance; ///< between the centres along e_i (walls: h_K,i)
  std::vector<unsigned char> counted, outflow, no_flux;
  /// The faces normal to e_i are [direction_begin[i], direction_begin[i + 1]); the first n_owned
  /// of them are the slots: slot c (at direction_begin[i] + c) is the first face of the upper
  /// side of owned cell c, interior or wall. The rest: lower walls, faces from a ghost below,
  /// the further fine faces above coarse cells.
  std::array<std::size_t, dim + 1> direction_begin{};
  std::vector<unsigned int> walls; ///< the faces with the outside on one side
  bool is_wall(const std::size_t f) const { return outflow[f] || no_flux[f]; }
  /// The centres of the faces normal to e_i, in the table's order (f = direction_begin[i] + q)
  /// (periodic faces at the lower side of the box; kink treatment applied).
  std::array<GridPointSet, dim> face_points;

  GridPointSet owned_centres; ///< the kernel cloud's points
  GridPointSet local_centres; ///< owned and ghost centres (discrete-gradient velocities)
  unsigned char finest_level = 0;
  CellSides sides; ///< the faces by owned cell and side

  std::size_t n_faces() const { return lower.size(); }
};

/**
 * The face table of the owned cells of @p dof_handler (FE_DGQ(0)); @p local_of maps global
 * cell indices to the local form; @p coarse_h the cell size of level 0 (the mesh of Subdivisions
 * x 2^(Global refinements)) per direction, @p base_level its level in the triangulation.
 */
template <int dim>
FaceTable<dim> build_face_table(const dealii::DoFHandler<dim> &dof_handler,
                                const std::map<dealii::types::global_dof_index, int> &local_of,
                                unsigned int n_owned, const std::vector<double> &lower,
                                const std::vector<double> &upper,
                                const std::vector<BoundaryType> &boundary,
                                const std::vector<Kink> &kinks, KinkTreatment kink_treatment,
                                const std::array<double, dim> &coarse_h, unsigned int base_level);
} // namespace MeanField
