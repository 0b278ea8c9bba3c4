#include <meanfield/particles/blow_up.h>
#include <meanfield/problems/problem.h>

#include <cctype>
#include <cmath>
#include <sstream>

namespace MeanField {
bool scales_near_overflow(const double F0, const double step_times_speed0) {
  return !(std::abs(F0) <= 1e150) || !(step_times_speed0 <= 1e150);
}

std::string blow_up_message(const Problem &problem, const double F0, const double F,
                            const unsigned long n, const std::string &step_entry, const double step,
                            const double step_times_speed0) {
  std::ostringstream out;
  out << "F " << (std::isfinite(F) ? "grew from " : "became non-finite, from ") << F0 << " to " << F
      << " after " << n << (n == 1 ? " step: " : " steps: ");
  if (scales_near_overflow(F0, step_times_speed0)) {
    std::string section = problem.name();
    section[0] = static_cast<char>(std::toupper(section[0]));
    out << "F(mu0) = " << F0 << " (and a first step of length " << step_times_speed0
        << ") lie near the overflow limit of double precision (1.8e308): the problem's scales, "
           "not the step, are the cause. Lower Problem/"
        << section << "/Loss scale (or the size of the data and weights).";
  } else
    out << "the step " << step_entry << " = " << step
        << " is too large for this problem. Lower it (try " << step / 10 << ").";
  return out.str();
}
} // namespace MeanField
