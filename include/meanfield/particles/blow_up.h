#pragma once

#include <string>

namespace MeanField {
class Problem;

/**
 * Whether the problem's scales, rather than a step, make F blow up: F(μ0) (or the largest speed
 * at μ0 times the step) beyond 1e150, where squares of such values overflow double precision
 * (1.8e308) whatever the step.
 */
bool scales_near_overflow(double F0, double step_times_speed0);

/**
 * The advice of a run whose F became non-finite or grew from F0 to F in n steps: lower the step
 * named by @p step_entry (value @p step), or — when scales_near_overflow() — the problem's
 * scales (its Loss scale and data), which no step can fix.
 */
std::string blow_up_message(const Problem &problem, double F0, double F, unsigned long n,
                            const std::string &step_entry, double step, double step_times_speed0);
} // namespace MeanField
