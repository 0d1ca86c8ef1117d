public import Foundation

extension CarbonTrace {
    /// The start in [notBefore, notAfter] that minimises the mean intensity over `duration`
    /// (the earliest such start on a tie, so no Job waits for nothing), with that mean; nil
    /// when no window of that length inside the range fits in the trace, or `duration` ≤ 0.
    ///
    /// Why checking a few candidates is exact: the intensity `f` is piecewise constant, so the
    /// window mean `m(s) = (F(s + d) − F(s)) / d` (with `F` the integral of `f`) has the
    /// derivative `(f(s + d) − f(s)) / d`, which is piecewise constant and changes only where
    /// `s` or `s + d` crosses a segment boundary `b`. `m` is therefore continuous and linear
    /// between consecutive points of {b} ∪ {b − d}, and a linear function on a closed interval
    /// takes its minimum at an end. So the minimum over [notBefore, notAfter] is attained at
    /// notBefore, notAfter, a boundary, or a boundary minus `d` inside the range. (When `d` is
    /// a whole number of steps on an evenly spaced trace, b − d is itself a boundary and the
    /// candidates reduce to the step boundaries and the two ends.)
    public func bestWindow(duration: TimeInterval, notBefore: Date, notAfter: Date) -> TraceWindow? {
        guard duration > 0, duration.isFinite else { return nil }
        let bounds = segmentBoundaries
        let low = max(notBefore.timeIntervalSince1970, bounds[0])
        let high = min(notAfter.timeIntervalSince1970, bounds[bounds.count - 1] - duration)
        guard low <= high else { return nil }

        var candidates = [low, high]
        appendBoundaries(in: low...high, shiftedBy: 0, to: &candidates)
        appendBoundaries(in: (low + duration)...(high + duration), shiftedBy: -duration, to: &candidates)
        candidates.sort()

        var best: (start: Double, mean: Double)?
        for start in candidates {
            guard let fa = antiderivative(start), let fb = antiderivative(start + duration) else { continue }
            let mean = (fb - fa) / duration
            // Strictly better by more than rounding: equal windows keep the earliest start.
            if best == nil || mean < best!.mean - 1e-9 * max(1, abs(best!.mean)) {
                best = (start, mean)
            }
        }
        return best.map {
            TraceWindow(start: Date(timeIntervalSince1970: $0.start), end: Date(timeIntervalSince1970: $0.start + duration), meanIntensity: $0.mean)
        }
    }

    private func appendBoundaries(in range: ClosedRange<Double>, shiftedBy shift: Double, to candidates: inout [Double]) {
        let bounds = segmentBoundaries
        guard range.upperBound >= bounds[0] else { return }
        var index = range.lowerBound <= bounds[0] ? 0 : lastBoundary(atOrBefore: range.lowerBound)
        while index < bounds.count, bounds[index] <= range.upperBound {
            if bounds[index] >= range.lowerBound { candidates.append(bounds[index] + shift) }
            index += 1
        }
    }
}
