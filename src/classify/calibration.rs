//! Confidence that means something: the engine's raw margin mapped to the probability that the
//! front-running permit type is the right one, by Platt scaling fitted on the labelled tuning
//! sets (`rules/tests/*.toml`, never the held-out ones). The parameters live in
//! `rules/engine.toml`; `rules/README.md` holds the reliability table they were chosen from, and
//! `tests/classify_rules.rs` fails when either no longer matches what the rules produce.

use super::format::EngineRaw;

/// The raw margin of a permit decision: `min(best / confident_score, lead / margin)`, so 1.0 is
/// the old rule's edge (best score reached, lead over the runner-up reached); never negative.
pub fn raw_margin(best: f64, second: f64, e: &EngineRaw) -> f64 {
    if best <= 0.0 {
        return 0.0;
    }
    let lead = best - second.max(0.0);
    (best / e.confident_score).min(lead / e.margin).max(0.0)
}

/// The calibrated confidence of a raw margin.
pub fn confidence(raw: f64, e: &EngineRaw) -> f64 {
    sigmoid(e.calibration_slope * raw + e.calibration_offset)
}

/// The raw margin at which the calibrated confidence reaches `confidence` (the inverse of
/// [`confidence`]); what a change must reach for a case to be filed instead of triaged.
pub fn raw_for(confidence: f64, e: &EngineRaw) -> f64 {
    let c = confidence.clamp(1e-6, 1.0 - 1e-6);
    if e.calibration_slope.abs() < 1e-12 {
        return f64::INFINITY;
    }
    ((c / (1.0 - c)).ln() - e.calibration_offset) / e.calibration_slope
}

/// The raw margin of a complaint, consultation or other decision: its kind's score over
/// `kind_threshold` (1.0 is where a kind is taken from the words; below it the kind is a
/// fallback); never negative.
pub fn kind_raw(kind_score: f64, e: &EngineRaw) -> f64 {
    (kind_score / e.kind_threshold).max(0.0)
}

/// The calibrated confidence of a non-application decision's raw margin: the probability that
/// its kind is the right one.
pub fn kind_confidence(raw: f64, e: &EngineRaw) -> f64 {
    sigmoid(e.kind_calibration_slope * raw + e.kind_calibration_offset)
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Platt's fit of `(raw margin, was the front runner right)` pairs: the slope and offset of the
/// logistic curve, with Platt's smoothed targets `(N+ + 1) / (N+ + 2)` and `1 / (N- + 2)` so a
/// set the margin separates perfectly still gives finite parameters (Platt 1999; Lin, Lin and
/// Weng 2007). Newton's method on the two parameters.
pub fn fit_platt(points: &[(f64, bool)]) -> (f64, f64) {
    let pos = points.iter().filter(|p| p.1).count() as f64;
    let neg = points.len() as f64 - pos;
    let hi = (pos + 1.0) / (pos + 2.0);
    let lo = 1.0 / (neg + 2.0);
    let (mut a, mut b) = (0.0_f64, ((pos + 1.0) / (neg + 1.0)).ln());
    for _ in 0..100 {
        // Gradient and Hessian of the cross-entropy in (a, b).
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-9, 0.0, 1e-9);
        for &(x, y) in points {
            let t = if y { hi } else { lo };
            let p = sigmoid(a * x + b);
            let d = p - t;
            let w = p * (1.0 - p);
            ga += d * x;
            gb += d;
            haa += w * x * x;
            hab += w * x;
            hbb += w;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-12 {
            break;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        a -= da;
        b -= db;
        if da.abs() < 1e-10 && db.abs() < 1e-10 {
            break;
        }
    }
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_separable_set_still_gives_a_finite_rising_curve() {
        let pts: Vec<(f64, bool)> = (0..20).map(|i| (f64::from(i) / 10.0, i >= 8)).collect();
        let (a, b) = fit_platt(&pts);
        assert!(a.is_finite() && b.is_finite() && a > 0.0, "{a} {b}");
        let e = EngineRaw {
            calibration_slope: a,
            calibration_offset: b,
            ..EngineRaw::default()
        };
        assert!(confidence(0.2, &e) < 0.2);
        assert!(confidence(1.8, &e) > 0.9);
    }

    #[test]
    fn the_raw_margin_is_one_at_the_old_rules_edge() {
        let e = EngineRaw::default();
        assert!(
            (raw_margin(e.confident_score, e.confident_score - e.margin, &e) - 1.0).abs() < 1e-9
        );
        assert_eq!(raw_margin(0.0, 0.0, &e), 0.0);
        assert!(raw_margin(3.0, 3.0, &e) < 1e-9, "a tie is no margin");
    }
}
